#pragma once
// The operational routes every streamlearn process serves.

#include <functional>
#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "streamlearn/http/server.hpp"

namespace streamlearn::http {

// Hooks run on the HTTP thread: they must only read thread-safe state.
// Default initializers let callers name only the hooks they have: {.ready = ...}.
struct AdminHooks {
  std::shared_ptr<prometheus::Registry> registry{};  // null: /metrics answers 503
  std::function<bool()> ready{};                     // empty: always ready
  std::function<std::string()> status_json{};        // empty, or returning "": /v1/status is 404
};

// GET /healthz   200 "ok" while the process serves at all (liveness).
// GET /readyz    200 "ready" or 503 "not ready", from hooks.ready (readiness).
// GET /metrics   Prometheus text exposition of hooks.registry.
// GET /v1/status application/json from hooks.status_json.
// More routes (dashboard, /v1/predict) can be added to the returned router.
Router AdminRoutes(AdminHooks hooks);

}  // namespace streamlearn::http
