// `streamlearn broker`: an embedded Kafka broker (librdkafka's mock cluster, in memory, for
// development and the tests) until SIGINT/SIGTERM, with fault injection from outside:
// SIGUSR1 takes every broker down (connections close, new ones are refused), SIGUSR2 brings
// them back; data stays.
//
//   streamlearn broker [--partitions N] [--bootstrap-file FILE] [--topics a,b,c]
//
// stdout: the bootstrap address, once it listens (also written to FILE, whole, by rename).

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <string>
#include <vector>

#include "commands.hpp"
#include "service_support.hpp"
#include "streamlearn/kafka/kafka.hpp"

namespace streamlearn::cli {
namespace {

namespace sl = streamlearn;

struct BrokerCommandOptions {
  int partitions = 4;
  std::string bootstrap_file;
  std::vector<std::string> topics = {"events", "predictions", "drift", "dlq", "labels"};
};

// Fault injection from outside: SIGUSR1 takes every broker of the mock cluster down
// (connections close, new ones are refused), SIGUSR2 brings them back; data stays.
int BrokerCommand(int partitions, const std::string& bootstrap_file, const std::vector<std::string>& topics) {
  // Blocked before any thread starts (librdkafka's included), received below by sigtimedwait.
  sigset_t faults;
  sigemptyset(&faults);
  sigaddset(&faults, SIGUSR1);
  sigaddset(&faults, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &faults, nullptr);
  std::atomic<bool> stop{false};
  SignalWatcher signals(stop);
  auto broker = sl::kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return LogAndFail(broker.status());
  for (const auto& t : topics) {
    sl::Status st = (*broker)->create_topic(t, partitions);
    if (!st.ok()) return LogAndFail(st);
  }
  const std::string& bootstrap = (*broker)->bootstrap_servers();
  if (!bootstrap_file.empty()) {
    // Written whole then renamed, so a reader polling for the file never sees half of it.
    std::string tmp = bootstrap_file + ".tmp";
    std::ofstream(tmp) << bootstrap << "\n";
    std::rename(tmp.c_str(), bootstrap_file.c_str());
  }
  std::cout << bootstrap << std::endl;
  spdlog::info("embedded broker (librdkafka mock cluster, in memory, for development only) at {}; topics {} with {} "
               "partitions; pid {}: SIGUSR1 takes the brokers down, SIGUSR2 brings them up; Ctrl-C stops it",
               bootstrap, fmt::join(topics, ", "), partitions, static_cast<long>(getpid()));
  while (!stop.load()) {
    const timespec tick{0, 100 * 1000 * 1000};
    const int sig = sigtimedwait(&faults, nullptr, &tick);
    if (sig != SIGUSR1 && sig != SIGUSR2) continue;
    const bool up = sig == SIGUSR2;
    if (up == (*broker)->brokers_up()) {
      spdlog::info("{}: brokers already {}", up ? "SIGUSR2" : "SIGUSR1", up ? "up" : "down");
      continue;
    }
    sl::Status st = (*broker)->set_brokers_up(up);
    if (!st.ok()) {
      spdlog::error("fault injection failed: {}", st.message());
      continue;
    }
    spdlog::info("{}: brokers {}", up ? "SIGUSR2" : "SIGUSR1",
                 up ? "up again (clients reconnect)" : "DOWN (connections closed and refused until SIGUSR2)");
  }
  if (!bootstrap_file.empty()) std::remove(bootstrap_file.c_str());
  return 0;
}

}  // namespace

Command RegisterBrokerCommand(CLI::App& app) {
  auto options = std::make_shared<BrokerCommandOptions>();
  auto* broker = app.add_subcommand("broker", "Run an embedded Kafka broker (librdkafka mock cluster) until Ctrl-C");
  broker->footer(
      "Fault injection: SIGUSR1 takes every broker down (connections closed, new ones refused; data kept), "
      "SIGUSR2 brings them back up, e.g. kill -USR1 <pid>; each is logged. Retention is 5 MiB or 100,000 "
      "message sets per partition, and there is no broker-side message size limit (clients enforce "
      "message.max.bytes).");
  broker->add_option("--partitions", options->partitions, "Partitions per topic")->capture_default_str()->check(CLI::Range(1, 256));
  broker->add_option("--bootstrap-file", options->bootstrap_file, "Also write the bootstrap address to this file");
  broker->add_option("--topics", options->topics, "Topics to create")->delimiter(',')->capture_default_str();
  return {broker, [options] { return BrokerCommand(options->partitions, options->bootstrap_file, options->topics); }};
}

}  // namespace streamlearn::cli
