#include "health_watch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace streamlearn::pipeline {
namespace {

double Seconds(HealthClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void DiskTrouble::failed(const std::string& why, HealthClock::time_point now) {
  attempts_++;
  if (!active_) {
    active_ = true;
    began_ = now;
    backoff_ = std::chrono::milliseconds(250);
    spdlog::error("state directory refuses writes: {}; consuming paused, retrying with backoff, /readyz 503; "
                  "exiting after {} s (state.disk_error_timeout_ms) unless it recovers",
                  why, Seconds(give_up_after_));
  } else {
    if (why != reason_) spdlog::warn("state directory still refuses writes: {}", why);
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  }
  reason_ = why;
  next_attempt_ = now + backoff_;
}

void DiskTrouble::recovered(HealthClock::time_point now) {
  if (!active_) return;
  spdlog::info("state directory writable again after {:.1f} s ({} attempt(s)); checkpoint written, consuming resumes",
               Seconds(now - began_), attempts_);
  active_ = false;
  reason_.clear();
  attempts_ = 0;
}

std::string DiskTrouble::give_up_message(const std::string& dir) const {
  return fmt::format("the state directory {} refused checkpoint writes for {:.0f} s (state.disk_error_timeout_ms, {} "
                     "attempts): {}; nothing after the last good checkpoint was acknowledged, a restart replays it",
                     dir, Seconds(give_up_after_), attempts_, reason_);
}

uint64_t AuthTrouble::update(uint64_t failures, const std::string& reason, HealthClock::time_point now) {
  if (failures <= seen_) return 0;
  const uint64_t fresh = failures - seen_;
  seen_ = failures;
  if (!active_) {
    active_ = true;
    began_ = now;
    spdlog::error("the Kafka cluster refused authentication or authorisation: {}; this is a configuration "
                  "problem (kafka.properties security.protocol, sasl.*, ssl.*, or the broker's ACLs), not an "
                  "outage; exiting after {} s (kafka.auth_timeout_ms) unless it is accepted",
                  reason, Seconds(give_up_after_));
  }
  reason_ = reason;
  return fresh;
}

void AuthTrouble::accepted() {
  if (!active_) return;
  spdlog::info("the Kafka cluster accepts us again (last refusal: {})", reason_);
  active_ = false;
}

std::string AuthTrouble::give_up_message() const {
  return fmt::format("not accepted by the Kafka cluster within {:.0f} s (kafka.auth_timeout_ms): {}; check "
                     "kafka.properties (security.protocol, sasl.mechanism, sasl.username/password, ssl.*) and the "
                     "broker's ACLs for the topics and group",
                     Seconds(give_up_after_), reason_);
}

Readiness ReadinessOf(bool assigned, bool broker_ok, const std::string& disk_error, const std::string& auth_error,
                      const std::string& waiting_for) {
  if (!disk_error.empty()) return {false, "state directory refuses writes: " + disk_error};
  if (!auth_error.empty()) return {false, "broker authentication failed: " + auth_error};
  if (!broker_ok) return {false, "broker outage: the cluster does not acknowledge or answer"};
  if (!waiting_for.empty()) return {false, waiting_for};
  if (!assigned) return {false, "no partitions assigned yet"};
  return {};
}

}  // namespace streamlearn::pipeline
