#include <catch2/catch.hpp>

#include "health_watch.hpp"

using namespace streamlearn::pipeline;
using std::chrono::milliseconds;

TEST_CASE("readiness names the first reason: disk, authentication, outage, assignment", "[health]") {
  CHECK(ReadinessOf(true, true, "", "").ready);
  CHECK(ReadinessOf(true, true, "", "").reason.empty());
  const Readiness disk = ReadinessOf(false, false, "no space left on device", "SASL");
  CHECK_FALSE(disk.ready);
  CHECK(disk.reason == "state directory refuses writes: no space left on device");
  CHECK(ReadinessOf(true, false, "", "SASL handshake").reason == "broker authentication failed: SASL handshake");
  CHECK(ReadinessOf(true, false, "", "").reason.rfind("broker outage", 0) == 0);
  CHECK(ReadinessOf(false, true, "", "").reason == "no partitions assigned yet");
}

TEST_CASE("disk trouble backs off, recovers and expires", "[health]") {
  DiskTrouble disk(milliseconds(10000));
  const auto t0 = HealthClock::now();
  CHECK_FALSE(disk.active());
  CHECK_FALSE(disk.retry_due(t0));
  disk.failed("no space", t0);
  CHECK(disk.active());
  CHECK(disk.reason() == "no space");
  CHECK_FALSE(disk.retry_due(t0 + milliseconds(200)));
  CHECK(disk.retry_due(t0 + milliseconds(250)));
  disk.failed("no space", t0 + milliseconds(250));  // backoff doubles: 500 ms
  CHECK_FALSE(disk.retry_due(t0 + milliseconds(700)));
  CHECK(disk.retry_due(t0 + milliseconds(750)));
  for (int i = 0; i < 10; ++i) disk.failed("no space", t0 + milliseconds(1000));
  CHECK(disk.retry_due(t0 + milliseconds(6000)));  // capped at 5 s
  CHECK_FALSE(disk.expired(t0 + milliseconds(9999)));
  CHECK(disk.expired(t0 + milliseconds(10000)));
  CHECK(disk.give_up_message("/state").find("no space") != std::string::npos);
  disk.recovered(t0 + milliseconds(9000));
  CHECK_FALSE(disk.active());
  CHECK_FALSE(disk.expired(t0 + milliseconds(20000)));
  disk.failed("read-only file system", t0 + milliseconds(20000));  // a new episode: its own deadline
  CHECK_FALSE(disk.expired(t0 + milliseconds(29999)));
  CHECK(disk.expired(t0 + milliseconds(30000)));
}

TEST_CASE("authentication trouble counts new failures until the cluster accepts us", "[health]") {
  AuthTrouble auth(milliseconds(60000));
  const auto t0 = HealthClock::now();
  CHECK(auth.update(0, "", t0) == 0);
  CHECK_FALSE(auth.active());
  CHECK(auth.update(3, "SASL handshake", t0) == 3);
  CHECK(auth.active());
  CHECK(auth.reason() == "SASL handshake");
  CHECK(auth.update(3, "SASL handshake", t0 + milliseconds(10)) == 0);
  CHECK(auth.update(5, "TOPIC_AUTHORIZATION_FAILED", t0 + milliseconds(20)) == 2);
  CHECK(auth.reason() == "TOPIC_AUTHORIZATION_FAILED");
  CHECK_FALSE(auth.expired(t0 + milliseconds(59999)));
  CHECK(auth.expired(t0 + milliseconds(60000)));
  auth.accepted();
  CHECK_FALSE(auth.active());
  CHECK_FALSE(auth.expired(t0 + milliseconds(120000)));
}

TEST_CASE("readiness names a rebalance's restore after the broker's troubles and before assignment", "[health]") {
  const std::string restoring = "restoring partition events-3: 1200 of 5000 records";
  CHECK(ReadinessOf(true, true, "", "", restoring).reason == restoring);
  CHECK(ReadinessOf(false, true, "", "", restoring).reason == restoring);
  CHECK(ReadinessOf(true, false, "", "", restoring).reason.rfind("broker outage", 0) == 0);
  CHECK(ReadinessOf(true, true, "", "", "").ready);
}
