#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "streamlearn/offline/core_bench.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

// The figures themselves are for people (docs/performance.md); this checks that every stage
// ran the whole stream: the bench fails when the processor predicts fewer events than it
// was given, or the four-stage loop learns nothing.
TEST_CASE("bench core runs every stage over the whole stream", "[bench]") {
  CoreBenchOptions options;
  options.events = 3000;
  options.entities = 100;
  options.batch = 256;
  options.repeats = 1;
  std::vector<std::string> printed;
  auto result = RunCoreBench(options, [&](const std::string& line) { printed.push_back(line); });
  REQUIRE(result.ok());
  REQUIRE(result->figures.size() == 4);
  CHECK(result->figures[0].name == "decode (simdjson)");
  CHECK(result->figures[1].name == "decode + features + predict + learn");
  for (const auto& f : result->figures) {
    CHECK(f.events_per_sec > 0);
    CHECK(f.ns_per_event > 0);
  }
  CHECK(result->bytes_per_event > 100);
  CHECK(result->bytes_per_event < 400);
  CHECK(printed.size() == 5);  // the heading and one line per figure

  options.stream = "no-such-stream";
  CHECK_FALSE(RunCoreBench(options, [](const std::string&) {}).ok());
}

TEST_CASE("bench core measures delayed labels, every label joined, when asked", "[bench]") {
  CoreBenchOptions options;
  options.events = 3000;
  options.entities = 100;
  options.batch = 256;
  options.repeats = 1;
  options.label_delay_events = 50;
  std::vector<std::string> printed;
  auto result = RunCoreBench(options, [&](const std::string& line) { printed.push_back(line); });
  REQUIRE(result.ok());  // fails when a label is not joined or an event not predicted
  REQUIRE(result->figures.size() == 5);
  CHECK(result->figures[4].name == "processor, delayed labels (+ label join)");
  CHECK(result->figures[4].ns_per_event > 0);
  REQUIRE(printed.size() == 6);
  CHECK(printed[5].find("x decode") != std::string::npos);
}

TEST_CASE("bench core measures the wide stream, 16 numbers and 2 strings per event", "[bench]") {
  CoreBenchOptions options;
  options.stream = "wide";
  options.events = 3000;
  options.entities = 1000;
  options.batch = 256;
  options.repeats = 1;
  auto result = RunCoreBench(options, [](const std::string&) {});
  REQUIRE(result.ok());  // fails when an event is not predicted
  REQUIRE(result->figures.size() == 4);
  CHECK(result->bytes_per_event > 450);
  CHECK(result->bytes_per_event < 650);
}

TEST_CASE("bench core reports the entity state's bytes, which per-field aggregates shrink", "[bench]") {
  CoreBenchOptions options;
  options.stream = "wide";
  options.events = 2000;
  options.entities = 200;
  options.batch = 256;
  options.repeats = 1;
  auto all = RunCoreBench(options, [](const std::string&) {});
  REQUIRE(all.ok());
  CHECK(all->entities == 200);
  // 16 numeric fields, each with its aggregates' record, in every entity.
  CHECK(all->bytes_per_entity > 16 * 64);

  options.features = {{"fields.*.aggregates", "none"}, {"fields.x0.aggregates", "mean,ewma"}};
  auto one = RunCoreBench(options, [](const std::string&) {});
  REQUIRE(one.ok());
  CHECK(one->entities == 200);
  CHECK(one->bytes_per_entity < all->bytes_per_entity / 4);

  options.features = {{"fields.*.aggregates", "median"}};
  auto bad = RunCoreBench(options, [](const std::string&) {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("features.fields.*.aggregates") != std::string::npos);
}

TEST_CASE("bench core measures the regression stream with the linear model and no entity field", "[bench]") {
  CoreBenchOptions options;
  options.stream = "regression";
  options.events = 3000;
  options.entities = 0;  // the stream's own default: no entity field
  options.batch = 256;
  options.repeats = 1;
  options.label_delay_events = 50;
  std::vector<std::string> printed;
  auto result = RunCoreBench(options, [&](const std::string& line) { printed.push_back(line); });
  // Fails when a numeric label is refused (the logistic model's 0/1) or an event not
  // predicted, or when the four stages learn nothing.
  REQUIRE(result.ok());
  REQUIRE(result->figures.size() == 5);
  CHECK(result->entities == 0);
  REQUIRE_FALSE(printed.empty());
  CHECK(printed[0].find("no entity field") != std::string::npos);
  CHECK(printed[0].find("linear model") != std::string::npos);

  options.entities = 50;  // asked for: keys and a level per entity
  options.label_delay_events = 0;
  auto keyed = RunCoreBench(options, [](const std::string&) {});
  REQUIRE(keyed.ok());
  CHECK(keyed->entities == 50);
}
