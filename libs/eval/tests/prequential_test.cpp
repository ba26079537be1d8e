#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "streamlearn/eval/prequential.hpp"

using namespace streamlearn;
using namespace streamlearn::eval;

namespace {

std::string Save(const PrequentialBinary& m) {
  std::string bytes;
  ByteWriter w(&bytes);
  m.save(w);
  return bytes;
}

// Five events: (score, predicted, label).
void FeedHandExample(PrequentialBinary& m) {
  m.update(0.9, 1, 1);  // correct
  m.update(0.2, 0, 0);  // correct
  m.update(0.6, 1, 0);  // wrong
  m.update(0.3, 0, 1);  // wrong
  m.update(0.8, 1, 1);  // correct
}

}  // namespace

TEST_CASE("prequential metrics match a hand-computed example", "[eval]") {
  PrequentialBinary m(3);
  FeedHandExample(m);
  CHECK(m.count() == 5);
  CHECK(m.accuracy() == Approx(3.0 / 5));
  // Last three outcomes: wrong, wrong, correct.
  CHECK(m.rolling_accuracy() == Approx(1.0 / 3));
  // -(ln .9 + ln .8 + ln .4 + ln .3 + ln .8) / 5
  CHECK(m.log_loss() == Approx((0.1053605157 + 0.2231435513 + 0.9162907319 + 1.2039728043 + 0.2231435513) / 5));
  // Labels 1,0,0,1,1; the baseline predicts from the counts before each (ties → 0):
  // 0 (wrong), 1 (wrong), 0 (right), 0 (wrong), 0 (wrong).
  CHECK(m.majority_baseline_accuracy() == Approx(1.0 / 5));
}

TEST_CASE("prequential metrics: empty, clipped and NaN scores", "[eval]") {
  PrequentialBinary m;
  CHECK(m.count() == 0);
  CHECK(m.accuracy() == 0);
  CHECK(m.rolling_accuracy() == 0);
  CHECK(m.log_loss() == 0);
  CHECK(m.majority_baseline_accuracy() == 0);
  m.update(0.0, 0, 1);  // certain and wrong: clipped to 1e-15, not infinite
  CHECK(m.log_loss() == Approx(-std::log(1e-15)));
  PrequentialBinary sure;
  sure.update(1.0, 1, 1);
  CHECK(sure.log_loss() < 1e-14);
  PrequentialBinary nan;
  nan.update(std::numeric_limits<double>::quiet_NaN(), 1, 0);
  CHECK(nan.log_loss() == Approx(std::log(2.0)));
}

TEST_CASE("the rolling window is a ring over the most recent outcomes", "[eval]") {
  PrequentialBinary m(4);
  for (int i = 0; i < 10; ++i) m.update(0.9, 1, 1);  // 10 correct
  CHECK(m.rolling_accuracy() == 1.0);
  m.update(0.9, 1, 0);
  m.update(0.9, 1, 0);
  CHECK(m.rolling_accuracy() == 0.5);  // 2 of the last 4
  for (int i = 0; i < 4; ++i) m.update(0.9, 1, 0);
  CHECK(m.rolling_accuracy() == 0.0);
  CHECK(m.accuracy() == Approx(10.0 / 16));
  PrequentialBinary one(0);  // read as 1
  CHECK(one.rolling_window() == 1);
  one.update(0.9, 1, 1);
  one.update(0.9, 1, 0);
  CHECK(one.rolling_accuracy() == 0.0);
}

TEST_CASE("prequential metrics survive save and load", "[eval]") {
  PrequentialBinary m(3);
  FeedHandExample(m);
  const std::string bytes = Save(m);

  PrequentialBinary restored(3);
  ByteReader reader(bytes);
  REQUIRE(restored.load(reader).ok());
  CHECK(reader.at_end());
  CHECK(Save(restored) == bytes);
  CHECK(restored.count() == 5);
  CHECK(restored.rolling_accuracy() == m.rolling_accuracy());
  CHECK(restored.log_loss() == m.log_loss());
  CHECK(restored.majority_baseline_accuracy() == m.majority_baseline_accuracy());
  // Both continue the same way: the ring position came back too.
  m.update(0.1, 0, 0);
  restored.update(0.1, 0, 0);
  CHECK(Save(restored) == Save(m));

  // A smaller configured window keeps the newest outcomes.
  PrequentialBinary narrow(2);
  ByteReader again(bytes);
  REQUIRE(narrow.load(again).ok());
  CHECK(narrow.rolling_accuracy() == 0.5);  // wrong, correct
  CHECK(narrow.accuracy() == Approx(3.0 / 5));
}

TEST_CASE("corrupt prequential snapshots are refused", "[eval]") {
  PrequentialBinary m(3);
  FeedHandExample(m);
  const std::string bytes = Save(m);
  PrequentialBinary target(3);
  target.update(0.7, 1, 1);
  const std::string before = Save(target);
  for (size_t len = 0; len < bytes.size(); ++len) {
    ByteReader reader(std::string_view(bytes).substr(0, len));
    REQUIRE_FALSE(target.load(reader).ok());
  }
  const auto patched = [&](size_t offset, uint64_t value) {
    std::string p = bytes;
    std::memcpy(p.data() + offset, &value, sizeof value);
    ByteReader reader(p);
    return target.load(reader).code();
  };
  CHECK(patched(16, 99) == ErrorCode::kCorruption);              // correct > count
  CHECK(patched(56, uint64_t{1} << 60) == ErrorCode::kCorruption);  // window fill beyond the bytes
  CHECK(patched(48, 2) == ErrorCode::kCorruption);                  // fill above the saved window
  CHECK(Save(target) == before);
}
