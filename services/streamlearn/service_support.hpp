#pragma once
// What the commands that run the service or a broker share (run, demo, broker, bench, state):
// SIGINT/SIGTERM as a stop flag, the admin HTTP server, and errors that go to the log too.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "streamlearn/core/status.hpp"

namespace streamlearn::http {
class HttpServer;
}
namespace streamlearn::pipeline {
struct HttpSettings;
class PipelineProbe;
class KafkaRunner;
}  // namespace streamlearn::pipeline

namespace streamlearn::cli {

// SIGINT/SIGTERM are blocked in every thread and received here by sigwait, so no signal
// handler (and no global flag) is needed: the waiting thread sets the caller's flag.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::atomic<bool>& stop);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::atomic<bool> exiting_{false};
  std::thread thread_;
};

// Fail (cli_support.hpp), with the message in the service's log as well.
int LogAndFail(const Status& st);

// Starts the admin HTTP server when enabled; returns null (and logs) when it cannot bind,
// since the pipeline itself does not depend on it. With `runner`, it also serves
// POST /v1/predict and the model registry from it; the server must then be stopped before
// the runner is destroyed.
std::unique_ptr<http::HttpServer> StartHttp(const pipeline::HttpSettings& settings, pipeline::PipelineProbe& probe,
                                            std::function<std::string()> status_json,
                                            std::function<bool()> ready, pipeline::KafkaRunner* runner = nullptr);

}  // namespace streamlearn::cli
