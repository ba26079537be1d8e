#include <catch2/catch.hpp>

#include <simdjson.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "streamlearn/eval/sea_generator.hpp"
#include "streamlearn/eval/streams.hpp"

using namespace streamlearn;
using namespace streamlearn::eval;

namespace {

std::unique_ptr<StreamGenerator> Make(std::string_view name, StreamOptions options) {
  auto made = MakeStream(name, options);
  REQUIRE(made.ok());
  return std::move(made).value();
}

// The first n events as JSON lines: the whole observable output.
std::vector<std::string> Lines(std::string_view name, const StreamOptions& options, size_t n) {
  auto stream = Make(name, options);
  std::vector<std::string> lines;
  GeneratedEvent e;
  for (size_t i = 0; i < n && stream->next(&e); ++i) {
    lines.emplace_back();
    AppendEventJson(lines.back(), e, i);
  }
  return lines;
}

double Number(const GeneratedEvent& e, std::string_view name) {
  for (const auto& f : e.numeric) {
    if (f.name == name) return f.value;
  }
  FAIL("no numeric feature " << name);
  return 0;
}

const std::string& Category(const GeneratedEvent& e, std::string_view name) {
  for (const auto& f : e.categorical) {
    if (f.name == name) return f.value;
  }
  FAIL("no categorical feature " << name);
  static const std::string kNone;
  return kNone;
}

// Label 1 share of a binary stream, or the most frequent class's share of a multiclass one.
struct Balance {
  double positive_share = 0;
  double top_class_share = 0;
  size_t classes = 0;
};

Balance Measure(std::string_view name, StreamOptions options) {
  auto stream = Make(name, options);
  GeneratedEvent e;
  std::map<std::string, uint64_t> counts;
  uint64_t positives = 0, n = 0;
  while (stream->next(&e)) {
    ++n;
    if (e.label.kind == Label::Kind::kBinary) {
      positives += e.label.value == 1;
      ++counts[e.label.value == 1 ? "1" : "0"];
    } else {
      ++counts[e.label.class_name];
    }
  }
  Balance b;
  b.positive_share = static_cast<double>(positives) / static_cast<double>(n);
  b.classes = counts.size();
  for (const auto& [k, c] : counts) b.top_class_share = std::max(b.top_class_share, static_cast<double>(c) / n);
  return b;
}

}  // namespace

TEST_CASE("MakeStream names the valid streams and validates options", "[eval][streams]") {
  auto unknown = MakeStream("sine", StreamOptions{});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == ErrorCode::kInvalidArgument);
  CHECK(unknown.status().message() ==
        "unknown stream 'sine': valid streams are sea, hyperplane, agrawal, stagger, led, randomrbf, entities, wide, "
        "regression");
  for (const std::string& name : StreamNames()) {
    auto made = MakeStream(name, StreamOptions{});
    REQUIRE(made.ok());
    CHECK((*made)->name() == name);
  }
  StreamOptions o;
  o.change_at = {10, 10};
  CHECK(MakeStream("sea", o).status().message().find("change_at") == 0);
  o.change_at = {0};
  CHECK(MakeStream("sea", o).status().message().find("change_at") == 0);
  o.change_at = {o.events};
  CHECK(MakeStream("sea", o).status().message().find("not below events") != std::string::npos);
  o = {};
  o.noise = 1.5;
  CHECK(MakeStream("led", o).status().message().find("noise") == 0);
  o = {};
  o.events = 3;
  CHECK(MakeStream("led", o).status().message().find("concepts") == 0);  // 4 concepts in 3 events
  o = {};
  o.classes = 1;
  CHECK(MakeStream("randomrbf", o).status().message().find("classes") == 0);
}

TEST_CASE("every stream is reproducible from its seed and differs with another seed", "[eval][streams]") {
  StreamOptions options;
  options.events = 2000;
  StreamOptions other = options;
  other.seed = 43;
  for (const std::string& name : StreamNames()) {
    INFO(name);
    const auto a = Lines(name, options, 200), b = Lines(name, options, 200), c = Lines(name, other, 200);
    REQUIRE(a.size() == 200);
    CHECK(a == b);
    size_t differing = 0;
    for (size_t i = 0; i < a.size(); ++i) differing += a[i] != c[i];
    CHECK(differing > 190);
    std::printf("%s, seed 42, event 0: %s\n", name.c_str(), a[0].c_str());
  }
}

TEST_CASE("concepts change exactly at change_at, evenly spaced by default", "[eval][streams]") {
  StreamOptions options;
  options.events = 500;
  options.change_at = {100, 250, 400};
  for (const std::string& name : StreamNames()) {
    INFO(name);
    auto stream = Make(name, options);
    CHECK(stream->change_at() == options.change_at);
    GeneratedEvent e;
    std::vector<uint64_t> changes;
    int previous = 0;
    for (uint64_t i = 0; stream->next(&e); ++i) {
      if (i > 0 && e.concept_index != previous) changes.push_back(i);
      if (i == 0) CHECK(e.concept_index == 0);
      previous = e.concept_index;
    }
    CHECK(changes == options.change_at);
    CHECK(stream->position() == 500);
    CHECK_FALSE(stream->next(&e));  // the stream ends at `events`
  }
  StreamOptions even;
  even.events = 1000;
  CHECK(Make("hyperplane", even)->change_at() == std::vector<uint64_t>{250, 500, 750});
  even.concepts = 1;
  CHECK(Make("hyperplane", even)->change_at().empty());
}

TEST_CASE("the same seed gives the same features whatever the changes and the noise", "[eval][streams]") {
  StreamOptions a;
  a.events = 300;
  a.concepts = 1;
  StreamOptions b = a;
  b.change_at = {50, 120};
  b.noise = 0.3;
  for (const std::string name : {"hyperplane", "stagger", "randomrbf", "entities", "regression"}) {
    INFO(name);
    auto sa = Make(name, a), sb = Make(name, b);
    GeneratedEvent ea, eb;
    size_t same_label = 0;
    while (sa->next(&ea) && sb->next(&eb)) {
      REQUIRE(ea.entity == eb.entity);
      if (std::string_view(name) != "randomrbf") {  // new centroids move the points too
        for (size_t i = 0; i < ea.numeric.size(); ++i) REQUIRE(ea.numeric[i].value == eb.numeric[i].value);
        for (size_t i = 0; i < ea.categorical.size(); ++i) REQUIRE(ea.categorical[i].value == eb.categorical[i].value);
      }
      same_label += ea.label.value == eb.label.value && ea.label.class_name == eb.label.class_name;
    }
    CHECK(same_label < 300);  // but the labels did change
  }
}

TEST_CASE("sea is the existing SeaGenerator", "[eval][streams]") {
  StreamOptions options;
  options.events = 1000;
  auto stream = Make("sea", options);
  SeaConfig config;
  config.change_at = EvenChanges(1000, 4);
  SeaGenerator sea(config);
  GeneratedEvent e;
  while (stream->next(&e)) {
    const SeaSample s = sea.next();
    REQUIRE(e.numeric[0].value == s.x1);
    REQUIRE(e.numeric[2].value == s.x3);
    REQUIRE(e.label.value == s.label);
    REQUIRE(e.concept_index == s.concept_index);
  }
}

TEST_CASE("stagger labels follow River's three concepts", "[eval][streams]") {
  StreamOptions options;
  options.events = 3000;
  options.noise = 0;
  auto stream = Make("stagger", options);  // concepts 0, 1, 2, 0 in quarters
  GeneratedEvent e;
  std::set<std::string> sizes;
  while (stream->next(&e)) {
    const std::string& size = Category(e, "size");
    const std::string& color = Category(e, "color");
    const std::string& shape = Category(e, "shape");
    sizes.insert(size);
    int expected = 0;
    switch (e.concept_index) {
      case 0: expected = size == "small" && color == "red"; break;
      case 1: expected = color == "green" || shape == "circle"; break;
      case 2: expected = size == "medium" || size == "large"; break;
      default: FAIL("concept " << e.concept_index);
    }
    INFO(size << " " << color << " " << shape << " concept " << e.concept_index);
    REQUIRE(e.label.value == expected);
  }
  CHECK(sizes == std::set<std::string>{"small", "medium", "large"});
}

TEST_CASE("agrawal labels follow River's classification functions", "[eval][streams]") {
  StreamOptions options;
  options.events = 4000;
  auto stream = Make("agrawal", options);  // functions 0, 1, 2, 3
  GeneratedEvent e;
  std::map<int, int> seen;
  while (stream->next(&e)) {
    const double age = Number(e, "age"), salary = Number(e, "salary"), elevel = Number(e, "elevel");
    REQUIRE((age >= 20 && age <= 80 && salary >= 20000 && salary < 150000));
    REQUIRE((Number(e, "commission") == 0) == (salary >= 75000));
    REQUIRE(Category(e, "car").rfind("car", 0) == 0);
    ++seen[e.concept_index];
    int expected = -1;
    if (e.concept_index == 0) expected = age < 40 || age >= 60;
    if (e.concept_index == 1) {
      expected = age < 40 ? (salary >= 50000 && salary <= 100000)
                 : age < 60 ? (salary >= 75000 && salary <= 125000)
                            : (salary >= 25000 && salary <= 75000);
    }
    if (e.concept_index == 2) {
      expected = age < 40 ? (elevel <= 1) : age < 60 ? (elevel >= 1 && elevel <= 3) : (elevel >= 2);
    }
    if (expected >= 0) {
      INFO("age " << age << " salary " << salary << " elevel " << elevel);
      REQUIRE(e.label.value == expected);
    }
  }
  CHECK(seen == std::map<int, int>{{0, 1000}, {1, 1000}, {2, 1000}, {3, 1000}});
  // With perturbation the features move but stay in their ranges.
  options.noise = 0.2;
  auto perturbed = Make("agrawal", options);
  while (perturbed->next(&e)) {
    REQUIRE((Number(e, "age") >= 20 && Number(e, "age") <= 80 && Number(e, "loan") >= 0 &&
             Number(e, "loan") <= 500000));
  }
}

TEST_CASE("led shows the digit's segments (noise 0) and moves them after a change", "[eval][streams]") {
  static const int kDigits[10][7] = {{1, 1, 1, 0, 1, 1, 1}, {0, 0, 1, 0, 0, 1, 0}, {1, 0, 1, 1, 1, 0, 1},
                                     {1, 0, 1, 1, 0, 1, 1}, {0, 1, 1, 1, 0, 1, 0}, {1, 1, 0, 1, 0, 1, 1},
                                     {1, 1, 0, 1, 1, 1, 1}, {1, 0, 1, 0, 0, 1, 0}, {1, 1, 1, 1, 1, 1, 1},
                                     {1, 1, 1, 1, 0, 1, 1}};
  StreamOptions options;
  options.events = 2000;
  options.noise = 0;
  options.change_at = {1000};
  auto stream = Make("led", options);
  GeneratedEvent e;
  int mismatched_after = 0;
  std::set<std::string> digits;
  for (int i = 0; stream->next(&e); ++i) {
    REQUIRE(e.label.kind == Label::Kind::kClass);
    REQUIRE(e.numeric.size() == 24);
    const int digit = std::stoi(e.label.class_name);
    digits.insert(e.label.class_name);
    bool match = true;
    for (int s = 0; s < 7; ++s) match = match && e.numeric[s].value == kDigits[digit][s];
    if (i < 1000) {
      INFO("event " << i << " digit " << digit);
      REQUIRE(match);
    } else {
      mismatched_after += !match;
    }
  }
  CHECK(digits.size() == 10);
  CHECK(mismatched_after > 400);  // four segments now sit among the random bits
  // With the classic 10% noise about 1 - 0.9^7 = 52% of events show a flipped segment.
  options.noise = std::nullopt;
  options.change_at.clear();
  options.concepts = 1;
  auto noisy = Make("led", options);
  int flipped = 0, n = 0;
  while (noisy->next(&e)) {
    const int digit = std::stoi(e.label.class_name);
    bool match = true;
    for (int s = 0; s < 7; ++s) match = match && e.numeric[s].value == kDigits[digit][s];
    flipped += !match;
    ++n;
  }
  CHECK(static_cast<double>(flipped) / n == Approx(1 - std::pow(0.9, 7)).margin(0.04));
}

TEST_CASE("hyperplane labels follow the weights, class balance is plausible everywhere", "[eval][streams]") {
  StreamOptions options;
  options.events = 20000;
  const Balance sea = Measure("sea", options), hyperplane = Measure("hyperplane", options),
                agrawal = Measure("agrawal", options), stagger = Measure("stagger", options),
                led = Measure("led", options), rbf = Measure("randomrbf", options),
                entities = Measure("entities", options);
  std::printf("label 1 share: sea %.3f hyperplane %.3f agrawal %.3f stagger %.3f randomrbf %.3f entities %.3f; "
              "led top digit %.3f\n",
              sea.positive_share, hyperplane.positive_share, agrawal.positive_share, stagger.positive_share,
              rbf.positive_share, entities.positive_share, led.top_class_share);
  // SEA over θ = 8, 9, 7, 9.5 with 10% noise: (.356 + .42 + .296 + .457) / 4 ≈ 0.38.
  CHECK(sea.positive_share == Approx(0.38).margin(0.02));
  CHECK((hyperplane.positive_share > 0.35 && hyperplane.positive_share < 0.65));
  CHECK((agrawal.positive_share > 0.2 && agrawal.positive_share < 0.8));
  // STAGGER: 1/9, 5/9, 2/3, 1/9 by concept.
  CHECK(stagger.positive_share == Approx((1.0 / 9 + 5.0 / 9 + 2.0 / 3 + 1.0 / 9) / 4).margin(0.02));
  CHECK(led.classes == 10);
  CHECK(led.top_class_share < 0.12);
  CHECK((rbf.positive_share > 0.15 && rbf.positive_share < 0.85));
  CHECK((entities.positive_share > 0.06 && entities.positive_share < 0.2));

  // Hyperplane with noise 0: the label is 1 above a hyperplane whose weights are all
  // positive, so (whatever the weights) it is monotone in every feature.
  options.noise = 0;
  options.concepts = 1;
  options.events = 5000;
  auto stream = Make("hyperplane", options);
  GeneratedEvent e;
  std::vector<std::pair<std::vector<double>, int>> seen;
  while (stream->next(&e)) {
    std::vector<double> x;
    for (const auto& f : e.numeric) x.push_back(f.value);
    seen.emplace_back(std::move(x), static_cast<int>(e.label.value));
  }
  // Monotone: no point dominating another (>= in every feature) has the lower label.
  int violations = 0;
  for (size_t i = 0; i < 300; ++i) {
    for (size_t j = 0; j < seen.size(); ++j) {
      bool dominates = true;
      for (size_t k = 0; k < 10 && dominates; ++k) dominates = seen[i].first[k] >= seen[j].first[k];
      violations += dominates && seen[i].second < seen[j].second;
    }
  }
  CHECK(violations == 0);
}

TEST_CASE("randomrbf with more classes gives class names", "[eval][streams]") {
  StreamOptions options;
  options.events = 5000;
  options.classes = 4;
  auto stream = Make("randomrbf", options);
  GeneratedEvent e;
  std::set<std::string> names;
  while (stream->next(&e)) {
    REQUIRE(e.label.kind == Label::Kind::kClass);
    names.insert(e.label.class_name);
  }
  CHECK(names == std::set<std::string>{"c0", "c1", "c2", "c3"});
}

TEST_CASE("entities: missing and corrupt amounts at the advertised shares, entity history predicts",
          "[eval][streams]") {
  StreamOptions options;
  options.events = 200000;
  options.concepts = 1;
  auto stream = Make("entities", options);
  GeneratedEvent e;
  uint64_t missing = 0, outliers = 0, n = 0;
  double max_regular = 0;
  std::set<std::string> entities, merchants;
  struct History {
    uint64_t first_events = 0, first_positives = 0, second_events = 0, second_positives = 0;
    double amount_sum = 0;
    uint64_t amounts = 0;
  };
  std::map<std::string, History> history;
  // Events whose amount is above vs below the entity's mean so far (of regular amounts).
  uint64_t above = 0, above_positive = 0, below = 0, below_positive = 0;
  while (stream->next(&e)) {
    ++n;
    const GeneratedNumeric& amount = e.numeric[0];
    REQUIRE(amount.name == "amount");
    const bool positive = e.label.value == 1;
    History& h = history[e.entity];
    if (amount.missing) {
      ++missing;
    } else if (amount.value >= 1e6) {
      ++outliers;
      REQUIRE(amount.value < 1e9);
    } else {
      max_regular = std::max(max_regular, amount.value);
      if (h.amounts >= 5) {
        const bool is_above = amount.value > h.amount_sum / static_cast<double>(h.amounts);
        (is_above ? above : below) += 1;
        (is_above ? above_positive : below_positive) += positive;
      }
      h.amount_sum += amount.value;
      ++h.amounts;
    }
    if (n <= options.events / 2) {
      ++h.first_events;
      h.first_positives += positive;
    } else {
      ++h.second_events;
      h.second_positives += positive;
    }
    entities.insert(e.entity);
    merchants.insert(Category(e, "merchant"));
  }
  const double missing_share = static_cast<double>(missing) / n, outlier_share = static_cast<double>(outliers) / n;
  std::printf("entities: %.4f missing, %.4f corrupt amounts, largest regular amount %.2f, %zu entities, "
              "%zu merchants\n",
              missing_share, outlier_share, max_regular, entities.size(), merchants.size());
  CHECK(missing_share == Approx(0.05).margin(0.01));
  CHECK(outlier_share == Approx(0.01).margin(0.002));
  CHECK(max_regular <= 50000);
  CHECK(entities.size() == 1000);
  CHECK(merchants.size() > 4900);

  // An entity's label rate in the first half predicts its rate in the second: the
  // latent risk is a property of the entity.
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  double k = 0;
  for (const auto& [key, h] : history) {
    if (h.first_events == 0 || h.second_events == 0) continue;
    const double x = static_cast<double>(h.first_positives) / h.first_events;
    const double y = static_cast<double>(h.second_positives) / h.second_events;
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y, k += 1;
  }
  const double correlation = (sxy - sx * sy / k) / std::sqrt((sxx - sx * sx / k) * (syy - sy * sy / k));
  const double rate_above = static_cast<double>(above_positive) / above;
  const double rate_below = static_cast<double>(below_positive) / below;
  std::printf("entities: per-entity label rate, first vs second half: correlation %.3f; label rate with the "
              "amount above the entity's mean %.3f, below %.3f\n",
              correlation, rate_above, rate_below);
  CHECK(correlation > 0.6);
  CHECK(rate_above > 1.5 * rate_below);
}

TEST_CASE("events print as JSON lines that parse back, with the concept marker", "[eval][streams]") {
  StreamOptions options;
  options.events = 3000;
  simdjson::dom::parser parser;
  for (const std::string& name : StreamNames()) {
    INFO(name);
    auto stream = Make(name, options);
    GeneratedEvent e;
    std::string line;
    size_t nulls = 0;
    for (uint64_t i = 0; stream->next(&e); ++i) {
      line.clear();
      AppendEventJson(line, e, i);
      simdjson::dom::element doc;
      INFO(line);
      REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
      REQUIRE(std::string_view(doc["id"]) == "e-" + std::to_string(i));
      if (e.entity.empty()) {
        REQUIRE(doc["entity"].error() == simdjson::NO_SUCH_FIELD);  // no entity, not an empty one
      } else {
        REQUIRE(std::string_view(doc["entity"]) == e.entity);
      }
      REQUIRE(int64_t(doc["ts"]) == 1700000000000 + static_cast<int64_t>(i) * 10);
      REQUIRE(int64_t(doc["meta"]["concept"]) == e.concept_index);
      simdjson::dom::object features = doc["features"];
      REQUIRE(features.size() == e.numeric.size() + e.categorical.size());
      for (const auto& f : e.numeric) {
        if (f.missing) {
          REQUIRE(features[f.name].is_null());
          ++nulls;
        } else {
          // Shortest round-trip text: the same double comes back.
          REQUIRE(std::bit_cast<uint64_t>(double(features[f.name])) == std::bit_cast<uint64_t>(f.value));
        }
      }
      for (const auto& f : e.categorical) REQUIRE(std::string_view(features[f.name]) == f.value);
      if (e.label.kind == Label::Kind::kBinary) {
        const int64_t label = doc["label"];
        REQUIRE(label == static_cast<int64_t>(e.label.value));
      } else if (e.label.kind == Label::Kind::kReal) {
        REQUIRE(std::bit_cast<uint64_t>(double(doc["label"])) == std::bit_cast<uint64_t>(e.label.value));
      } else {
        REQUIRE(std::string_view(doc["label"]) == e.label.class_name);
      }
    }
    if (name == "entities") CHECK(nulls > 100);
  }
  GeneratedEvent e;
  e.entity = "u\"1";
  e.numeric = {{"x", 0.1, false}, {"y", 0, true}};
  e.categorical = {{"c", "DE"}};
  e.label.kind = Label::Kind::kReal;
  e.label.value = 2.5;
  e.concept_index = 3;
  std::string line;
  AppendEventJson(line, e, 7, EventJsonOptions{1000, 5, true});
  CHECK(line ==
        R"({"id":"e-7","entity":"u\"1","ts":1035,"features":{"x":0.1,"y":null,"c":"DE"},"label":2.5,"meta":{"concept":3}})");
  line.clear();
  AppendEventJson(line, e, 7, EventJsonOptions{1000, 5, false});
  CHECK(line.find("meta") == std::string::npos);
}

TEST_CASE("wide: 16 numbers with missing and corrupt values at the advertised shares, 2 strings",
          "[eval][streams]") {
  StreamOptions options;
  options.events = 100000;
  options.entities = 100000;
  options.concepts = 3;
  auto stream = Make("wide", options);
  CHECK(stream->change_at() == std::vector<uint64_t>{33333, 66666});
  GeneratedEvent e;
  uint64_t values = 0, missing = 0, outliers = 0, positives = 0, n = 0;
  std::set<std::string> entities, devices, regions;
  while (stream->next(&e)) {
    ++n;
    REQUIRE(e.numeric.size() == 16);
    REQUIRE(e.categorical.size() == 2);
    CHECK(e.numeric[15].name == "x15");
    for (const GeneratedNumeric& x : e.numeric) {
      ++values;
      if (x.missing) {
        ++missing;
      } else if (x.value >= 1e6) {
        ++outliers;
        REQUIRE(x.value < 1e9);
      } else {
        REQUIRE(std::abs(x.value) < 10);
      }
    }
    positives += e.label.value == 1 ? 1 : 0;
    entities.insert(e.entity);
    devices.insert(e.categorical[0].value);
    regions.insert(e.categorical[1].value);
  }
  const double missing_share = static_cast<double>(missing) / static_cast<double>(values);
  const double outlier_share = static_cast<double>(outliers) / static_cast<double>(values);
  CHECK(missing_share > 0.145);
  CHECK(missing_share < 0.155);
  CHECK(outlier_share > 0.0008);
  CHECK(outlier_share < 0.0012);
  CHECK(positives > n / 3);
  CHECK(positives < 2 * n / 3);
  CHECK(entities.size() > 60000);  // 100,000 keys drawn 100,000 times: about 63% seen
  CHECK(devices.size() == 8);
  CHECK(regions.size() == 50);
}

namespace {

// Least squares by the normal equations (Gaussian elimination with partial pivoting); the
// residuals of `y` on the columns of `x`.
std::vector<double> LeastSquaresResiduals(const std::vector<std::vector<double>>& x, const std::vector<double>& y) {
  const size_t k = x[0].size();
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0));
  for (size_t r = 0; r < x.size(); ++r) {
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = 0; j < k; ++j) a[i][j] += x[r][i] * x[r][j];
      a[i][k] += x[r][i] * y[r];
    }
  }
  for (size_t c = 0; c < k; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < k; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    }
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < k; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (size_t j = c; j <= k; ++j) a[r][j] -= f * a[c][j];
    }
  }
  std::vector<double> residuals(y);
  for (size_t r = 0; r < x.size(); ++r) {
    for (size_t i = 0; i < k; ++i) residuals[r] -= x[r][i] * a[i][k] / a[i][i];
  }
  return residuals;
}

// The regression stream's documented terms as columns: 1, g0..g5, g6², a device and a
// region indicator (the first of each left out: the constant holds it).
std::vector<double> RegressionColumns(const GeneratedEvent& e) {
  std::vector<double> row = {1};
  const auto g = [&](size_t j) { return e.numeric[j].missing || e.numeric[j].value >= 1e6 ? 0 : e.numeric[j].value; };
  for (size_t j = 0; j < 6; ++j) row.push_back(g(j));
  row.push_back(g(6) * g(6));
  static const std::vector<std::string> kDevices = {"android", "web", "desktop", "tv", "watch", "car", "kiosk"};
  for (const std::string& device : kDevices) row.push_back(e.categorical[0].value == device ? 1 : 0);
  for (int region = 1; region < 50; ++region) row.push_back(e.categorical[1].value == "r" + std::to_string(region) ? 1 : 0);
  return row;
}

}  // namespace

TEST_CASE("regression: wide's fields without entity, a numeric target whose noise is the floor",
          "[eval][streams]") {
  StreamOptions clean;
  clean.events = 5000;
  clean.concepts = 1;
  clean.noise = 0;
  StreamOptions noisy = clean;
  noisy.noise.reset();  // the default, 0.05: a Gaussian of sd 5
  StreamOptions keyed = noisy;
  keyed.entities = 40;
  auto a = Make("regression", clean), b = Make("regression", noisy), c = Make("regression", keyed);
  GeneratedEvent ea, eb, ec;
  std::vector<std::vector<double>> columns;
  std::vector<double> targets;
  double noise_abs = 0;
  uint64_t missing = 0, values = 0;
  std::map<std::string, std::vector<double>> level;  // per entity: keyed minus noisy target
  while (a->next(&ea) && b->next(&eb) && c->next(&ec)) {
    REQUIRE(ea.entity.empty());
    REQUIRE(ea.numeric.size() == 16);
    REQUIRE(ea.categorical.size() == 2);
    REQUIRE(ea.label.kind == Label::Kind::kReal);
    REQUIRE(std::round(ea.label.value * 1000) / 1000 == ea.label.value);  // 3 decimals
    for (size_t j = 0; j < 16; ++j) {
      // The noise and the entities change the target only.
      REQUIRE(std::bit_cast<uint64_t>(ea.numeric[j].value) == std::bit_cast<uint64_t>(eb.numeric[j].value));
      REQUIRE(std::bit_cast<uint64_t>(ea.numeric[j].value) == std::bit_cast<uint64_t>(ec.numeric[j].value));
      missing += ea.numeric[j].missing;
      ++values;
    }
    REQUIRE(ea.categorical[0].value == ec.categorical[0].value);
    REQUIRE(ea.categorical[1].value == ec.categorical[1].value);
    REQUIRE(ec.entity.rfind('u', 0) == 0);
    noise_abs += std::abs(eb.label.value - ea.label.value);
    level[ec.entity].push_back(ec.label.value - eb.label.value);
    columns.push_back(RegressionColumns(ea));
    targets.push_back(ea.label.value);
  }
  REQUIRE(targets.size() == 5000);
  CHECK(static_cast<double>(missing) / static_cast<double>(values) == Approx(0.15).margin(0.01));

  // Without noise the target is exactly the documented function of what the events show
  // (to its rounding): a least-squares fit on those terms leaves nothing.
  double worst = 0, spread = 0;
  for (const double r : LeastSquaresResiduals(columns, targets)) worst = std::max(worst, std::abs(r));
  for (const double y : targets) spread += std::abs(y - targets[0]);
  std::printf("regression: largest residual without noise %.5f; mean |noise| at the default %.3f\n", worst,
              noise_abs / 5000);
  CHECK(worst < 0.002);
  CHECK(spread / 5000 > 10);  // and the target does move
  // The default noise, sd 5: E|noise| = 5 √(2/π) = 3.989, the best possible MAE.
  CHECK(noise_abs / 5000 == Approx(3.989).margin(0.15));

  // --entities: each entity's fixed level added to the target, nothing else.
  CHECK(level.size() == 40);
  size_t varied = 0;
  for (const auto& [key, shifts] : level) {
    for (const double shift : shifts) REQUIRE(std::abs(shift - shifts[0]) < 0.002);
    varied += std::abs(shifts[0]) > 0.5;
  }
  CHECK(varied > 30);  // levels 10 N(0, 1): nearly all of them away from 0
}
