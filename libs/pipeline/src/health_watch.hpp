#pragma once
// What keeps the runner from working that is not a broker outage: a state directory that
// refuses checkpoint writes, a cluster that refuses our credentials or ACLs. Each is logged
// when it begins and ends, reported by /readyz, and given a deadline after which `run` exits.

#include <chrono>
#include <cstdint>
#include <string>

#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::pipeline {

using HealthClock = std::chrono::steady_clock;

// Checkpoint writes the disk refused. While active the runner consumes nothing and retries
// the same checkpoint batch with a backoff (250 ms doubling up to 5 s).
class DiskTrouble {
 public:
  explicit DiskTrouble(std::chrono::milliseconds give_up_after) : give_up_after_(give_up_after) {}
  bool active() const { return active_; }
  const std::string& reason() const { return reason_; }
  // A write failed with `why`: begins the trouble (logged once) or schedules the next attempt.
  void failed(const std::string& why, HealthClock::time_point now);
  // A write succeeded: ends the trouble (logged with its duration).
  void recovered(HealthClock::time_point now);
  bool retry_due(HealthClock::time_point now) const { return active_ && now >= next_attempt_; }
  bool expired(HealthClock::time_point now) const { return active_ && now - began_ >= give_up_after_; }
  // Why `run` gives up: the cause and how long it lasted.
  std::string give_up_message(const std::string& dir) const;

 private:
  std::chrono::milliseconds give_up_after_;
  bool active_ = false;
  std::string reason_;
  HealthClock::time_point began_, next_attempt_;
  std::chrono::milliseconds backoff_{0};
  uint64_t attempts_ = 0;
};

// Authentication or authorisation failures librdkafka reported (BrokerHealth's count).
// Active from a new failure until the cluster shows it accepts us (an assignment, an
// acknowledged delivery, a metadata answer).
class AuthTrouble {
 public:
  explicit AuthTrouble(std::chrono::milliseconds give_up_after) : give_up_after_(give_up_after) {}
  // Takes the latest count and reason; returns how many failures are new.
  uint64_t update(uint64_t failures, const std::string& reason, HealthClock::time_point now);
  void accepted();
  bool active() const { return active_; }
  const std::string& reason() const { return reason_; }
  bool expired(HealthClock::time_point now) const { return active_ && now - began_ >= give_up_after_; }
  std::string give_up_message() const;

 private:
  std::chrono::milliseconds give_up_after_;
  uint64_t seen_ = 0;
  bool active_ = false;
  std::string reason_;
  HealthClock::time_point began_;
};

// The first reason the runner is not ready: disk, authentication, outage, a rebalance's
// restore (what it waits for), assignment.
Readiness ReadinessOf(bool assigned, bool broker_ok, const std::string& disk_error, const std::string& auth_error,
                      const std::string& waiting_for = {});

}  // namespace streamlearn::pipeline
