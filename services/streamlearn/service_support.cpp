#include "service_support.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <pthread.h>

#include "cli_support.hpp"
#include "streamlearn/http/admin.hpp"
#include "streamlearn/http/server.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::cli {

SignalWatcher::SignalWatcher(std::atomic<bool>& stop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set, &stop] {
    int sig = 0;
    sigwait(&set, &sig);
    if (exiting_.load()) return;  // our own wake-up from the destructor
    spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    stop = true;
  });
}

SignalWatcher::~SignalWatcher() {
  exiting_ = true;
  pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait
  thread_.join();
}

int LogAndFail(const Status& st) {
  spdlog::error("{}", st.message());  // the service's log too, for `run`
  return Fail(st);
}

std::unique_ptr<http::HttpServer> StartHttp(const pipeline::HttpSettings& settings, pipeline::PipelineProbe& probe,
                                            std::function<std::string()> status_json,
                                            std::function<bool()> ready, pipeline::KafkaRunner* runner) {
  if (!settings.enabled) return nullptr;
  http::AdminHooks hooks;
  hooks.registry = probe.registry();
  hooks.ready = std::move(ready);
  hooks.status_json = std::move(status_json);
  if (runner) {
    hooks.not_ready_reason = [runner] { return runner->not_ready_reason(); };
    hooks.dashboard = [runner] {
      return http::DashboardView{runner->config().model.name + " v" + std::to_string(runner->status().processor.model_version),
                                 runner->status_rows()};
    };
    hooks.series_json = [runner] { return runner->series_json(); };
    auto predictor = runner->make_predictor();
    if (!predictor.ok()) {
      spdlog::warn("POST /v1/predict not served: {}", predictor.status().message());
    } else {
      // Owned by the handler: used on the server thread only.
      std::shared_ptr<pipeline::Predictor> shared = std::move(predictor).value();
      hooks.predict = [shared](const http::Request& request) { return http::JsonResponse(shared->predict(request.body)); };
    }
  }
  http::Router routes = http::AdminRoutes(std::move(hooks));
  if (runner) {
    http::ModelRouteHooks models;
    models.names.push_back(runner->config().model.name);
    for (const auto& challenger : runner->config().challengers) models.names.push_back(challenger.first);
    models.models_json = [runner] { return runner->models_json(); };
    models.model_json = [runner](const std::string& name) { return runner->model_json(name); };
    models.change = [runner](const std::string& name, const std::string& action,
                             const std::string& body) -> Result<std::string> {
      auto command = pipeline::ParseModelCommand(name, action, body);
      if (!command.ok()) return command.status();
      return runner->submit(std::move(command).value(), std::chrono::seconds(10));
    };
    models.token = settings.token;
    http::AddModelRoutes(routes, std::move(models));
  }
  http::ServerLimits limits;
  limits.max_connections = static_cast<size_t>(settings.max_connections);
  auto server = http::HttpServer::Start(settings.bind, static_cast<uint16_t>(settings.port),
                                        std::move(routes), limits);
  if (!server.ok()) {
    spdlog::warn("HTTP server not started: {}", server.status().message());
    return nullptr;
  }
  spdlog::info("HTTP on http://{}:{}/ (dashboard at /; /healthz, /readyz, /metrics, /v1/status, /v1/series, /v1/predict, /v1/models)", settings.bind, (*server)->port());
  return std::move(server).value();
}

}  // namespace streamlearn::cli
