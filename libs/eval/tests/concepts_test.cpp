#include <catch2/catch.hpp>

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "streamlearn/eval/concepts.hpp"

using namespace streamlearn::eval;

namespace {

void Feed(ConceptTracker& t, int concept_index, std::initializer_list<int> outcomes) {
  for (int correct : outcomes) t.update_correct(concept_index, correct != 0);
}

}  // namespace

TEST_CASE("concept tracker: per-segment accuracy, first events and recovery by hand", "[eval][concepts]") {
  ConceptTrackerOptions options;
  options.first_events = 3;
  options.rolling_window = 4;
  options.recovery_tolerance = 0.1;
  ConceptTracker t(options);
  Feed(t, 0, {1, 1, 0, 1, 1, 1, 1, 1});  // positions 0..7
  Feed(t, 1, {0, 0, 1, 1, 1, 1, 1});     // 8..14
  Feed(t, 5, {1, 1, 1});                 // 15..17: shorter than the window
  Feed(t, 0, {0, 1});                    // 18..19: concept 0 recurs

  const auto& s = t.segments();
  REQUIRE(s.size() == 4);
  CHECK(t.position() == 20);
  CHECK(t.change_positions() == std::vector<uint64_t>{8, 15, 18});

  CHECK(s[0].concept_index == 0);
  CHECK(s[0].start == 0);
  CHECK(s[0].events == 8);
  CHECK(s[0].mean == Approx(7.0 / 8));
  CHECK(s[0].first_events == 3);
  CHECK(s[0].first_events_mean == Approx(2.0 / 3));
  CHECK(s[0].final_rolling == 1.0);  // last four: 1 1 1 1
  CHECK(std::isnan(s[0].previous_final_rolling));
  CHECK(s[0].recovery_events == -1);  // nothing to recover from

  // After the change: windows of four events all after it are 0011 (.5), 0111 (.75),
  // 1111 (1.0 >= 1.0 - 0.1): recovered after 6 events.
  CHECK(s[1].concept_index == 1);
  CHECK(s[1].start == 8);
  CHECK(s[1].events == 7);
  CHECK(s[1].mean == Approx(5.0 / 7));
  CHECK(s[1].first_events_mean == Approx(1.0 / 3));
  CHECK(s[1].previous_final_rolling == 1.0);
  CHECK(s[1].recovery_events == 6);

  CHECK(s[2].events == 3);
  CHECK(s[2].final_rolling == 1.0);  // over its three events
  CHECK(s[2].recovery_events == -1);  // never a full window after the change

  CHECK(s[3].start == 18);
  CHECK(s[3].mean == 0.5);
  CHECK(s[3].previous_final_rolling == 1.0);

  const auto per_concept = t.per_concept();
  REQUIRE(per_concept.size() == 3);
  CHECK(per_concept[0].concept_index == 0);
  CHECK(per_concept[0].segments == 2);
  CHECK(per_concept[0].events == 10);
  CHECK(per_concept[0].mean == Approx(8.0 / 10));
  CHECK(per_concept[2].concept_index == 5);

  std::string json;
  AppendSegmentsJson(json, s);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  CHECK(int64_t(doc.at(1)["concept"]) == 1);
  CHECK(int64_t(doc.at(1)["recovery_events"]) == 6);
  CHECK(double(doc.at(1)["first_events_accuracy"]) == Approx(1.0 / 3));
  CHECK(doc.at(0)["recovery_events"].is_null());
  CHECK(doc.at(0)["previous_final_rolling_accuracy"].is_null());
  std::printf("segments JSON: %s\n", json.c_str());
}

TEST_CASE("concept tracker on losses: recovered when the rolling loss comes back down", "[eval][concepts]") {
  ConceptTrackerOptions options;
  options.measure = ConceptTrackerOptions::Measure::kLoss;
  options.rolling_window = 2;
  options.recovery_tolerance = 0.05;
  ConceptTracker t(options);
  for (int i = 0; i < 4; ++i) t.update(0, 0.1);
  for (double loss : {1.0, 1.0, 0.1, 0.1, 0.1}) t.update(1, loss);
  const auto& s = t.segments();
  REQUIRE(s.size() == 2);
  CHECK(s[1].previous_final_rolling == Approx(0.1));
  // Windows: (1, 1) = 1, (1, .1) = .55, (.1, .1) = .1 <= .15 → 4 events.
  CHECK(s[1].recovery_events == 4);
  CHECK(s[1].mean == Approx(2.3 / 5));
  std::string json;
  AppendSegmentsJson(json, s, ConceptTrackerOptions::Measure::kLoss);
  CHECK(json.find("\"first_events_loss\"") != std::string::npos);
  CHECK(json.find("accuracy") == std::string::npos);
}

TEST_CASE("detection scoring: delays, repeats, missed changes and false alarms", "[eval][concepts]") {
  const std::vector<uint64_t> changes = {100, 200, 300};
  const std::vector<uint64_t> detections = {50, 110, 130, 250, 400};

  SECTION("no tolerance limit: everything up to the next change is attributable") {
    const DetectionScore s = ScoreDetections(changes, detections);
    REQUIRE(s.changes.size() == 3);
    CHECK(s.changes[0].detected_at == 110);
    CHECK(s.changes[0].delay == 10);
    CHECK(s.changes[0].repeats == 1);  // 130
    CHECK(s.changes[1].delay == 50);
    CHECK(s.changes[2].delay == 100);  // the last change has no end
    CHECK(s.detected == 3);
    CHECK(s.missed == 0);
    CHECK(s.false_alarms == std::vector<uint64_t>{50});  // before the first change
    CHECK(s.repeats == 1);
    CHECK(s.mean_delay == Approx(160.0 / 3));
  }
  SECTION("tolerance 60: the detection at 400 is too late for the change at 300") {
    const DetectionScore s = ScoreDetections(changes, detections, 60);
    CHECK(s.changes[0].delay == 10);
    CHECK(s.changes[1].delay == 50);
    CHECK(s.changes[2].detected_at == -1);
    CHECK(s.detected == 2);
    CHECK(s.missed == 1);
    CHECK(s.false_alarms == std::vector<uint64_t>{50, 400});
    CHECK(s.mean_delay == Approx(30));
  }
  SECTION("tolerance 20") {
    const DetectionScore s = ScoreDetections(changes, detections, 20);
    CHECK(s.detected == 1);
    CHECK(s.missed == 2);
    CHECK(s.repeats == 0);
    CHECK(s.false_alarms == std::vector<uint64_t>{50, 130, 250, 400});
  }
  SECTION("edges: a detection at the change, at the next change, unsorted and duplicated input") {
    const DetectionScore s = ScoreDetections({200, 100, 100}, {200, 100});
    REQUIRE(s.changes.size() == 2);
    CHECK(s.changes[0].delay == 0);
    CHECK(s.changes[1].delay == 0);  // 200 belongs to the change at 200, not a repeat of 100
    CHECK(s.false_alarms.empty());
  }
  SECTION("no changes: every detection is a false alarm; no detections: every change missed") {
    const DetectionScore none = ScoreDetections({}, {5, 7});
    CHECK(none.false_alarms == std::vector<uint64_t>{5, 7});
    CHECK(std::isnan(none.mean_delay));
    const DetectionScore silent = ScoreDetections({10, 20}, {});
    CHECK(silent.missed == 2);
    std::string json;
    AppendDetectionJson(json, silent);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    CHECK(doc["changes"].at(0)["delay"].is_null());
    CHECK(doc["mean_delay"].is_null());
    CHECK(uint64_t(doc["missed"]) == 2);
  }
}
