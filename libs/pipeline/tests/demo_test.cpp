// The demo's summary: which true change a drift belongs to, and how late it came.

#include <catch2/catch.hpp>

#include "streamlearn/pipeline/demo.hpp"

namespace streamlearn::pipeline {
namespace {

DemoSummary SeaSummary() {
  DemoSummary s;
  s.changes = {49987, 100003, 149993};       // message positions (invalid events included)
  s.change_events = {49750, 99500, 149250};  // the same changes as valid events before them
  return s;
}

TEST_CASE("a drift belongs to the change the processor had passed, not to its triggering event's position",
          "[pipeline][demo]") {
  DemoSummary s = SeaSummary();
  // Seen in CI: the merge took ~190 events of the new concept from three partitions before
  // a lagging one delivered e-149871, which fired. By position it looked like change 2
  // found 49,868 events late; the processor had passed change 3 190 events before.
  const DriftRecord late_partition{149440, 0, "e-149871", 0.1, 0.3};
  CHECK(DetectedChange(s, late_partition) == 2);
  CHECK(DetectionDelay(s, late_partition) == 190);

  const DriftRecord at_change{99500, 0, "e-100003", 0.1, 0.3};
  CHECK(DetectedChange(s, at_change) == 1);
  CHECK(DetectionDelay(s, at_change) == 0);

  const DriftRecord before_first{49749, 0, "e-49986", 0.1, 0.3};
  CHECK(DetectedChange(s, before_first) == -1);
  CHECK(DetectionDelay(s, before_first) == -1);
}

TEST_CASE("the summary JSON carries both change scales and each drift's change and delay", "[pipeline][demo]") {
  DemoSummary s = SeaSummary();
  s.drifts = {{149440, 1700001498710, "e-149871", 0.1, 0.3}, {10, 5, "e-10", 0.1, 0.3}};
  const std::string json = SummaryToJson(s);
  CHECK_THAT(json, Catch::Contains(R"("changes":[49987,100003,149993],"change_events":[49750,99500,149250])"));
  CHECK_THAT(json, Catch::Contains(R"("event_id":"e-149871","position":149871,"change":2,"delay":190})"));
  CHECK_THAT(json, Catch::Contains(R"("event_id":"e-10","position":10,"change":-1,"delay":-1})"));
}

}  // namespace
}  // namespace streamlearn::pipeline
