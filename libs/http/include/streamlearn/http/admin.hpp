#pragma once
// The operational routes every streamlearn process serves.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/registry.h>

#include "streamlearn/http/server.hpp"

namespace streamlearn::http {

// What the dashboard page shows without JavaScript: a headline and a status table.
struct DashboardView {
  std::string headline;
  std::vector<std::pair<std::string, std::string>> rows;  // name, value
};
// The dashboard page (libs/http/assets/dashboard.html, embedded in the binary) with `view`
// rendered in, HTML-escaped; its script then refreshes it every second from /v1/status
// and /v1/series.
std::string RenderDashboard(const DashboardView& view);

// Hooks run on the HTTP thread: they must only read thread-safe state.
// Default initializers let callers name only the hooks they have: {.ready = ...}.
struct AdminHooks {
  std::shared_ptr<prometheus::Registry> registry{};  // null: /metrics answers 503
  std::function<bool()> ready{};                     // empty: always ready
  std::function<std::string()> not_ready_reason{};   // /readyz's 503 body says why, when given
  std::function<std::string()> status_json{};        // empty, or returning "": /v1/status is 404
  Handler predict{};                                 // POST /v1/predict; empty: no such route
  std::function<DashboardView()> dashboard{};        // GET /: the dashboard; empty: no such route
  std::function<std::string()> series_json{};        // GET /v1/series; empty: no such route
};

// The model registry's routes, for the models named in `names` (champion and challengers):
//   GET  /v1/models                       models_json()
//   GET  /v1/models/{name}                model_json(name)
//   POST /v1/models/{name}/rollback       change(name, "rollback", body), behind RequireToken
//   POST /v1/models/{name}/promote        change(name, "promote", body), behind RequireToken
struct ModelRouteHooks {
  std::vector<std::string> names;
  std::function<std::string()> models_json;
  std::function<Result<std::string>(const std::string& name)> model_json;
  std::function<Result<std::string>(const std::string& name, const std::string& action, const std::string& body)> change;
  std::string token;  // empty: the POST routes answer 403
};
void AddModelRoutes(Router& routes, ModelRouteHooks hooks);

// A handler's answer from JSON text or an error: 200 application/json, or {"error": reason}
// with 400 (Invalid), 404 (NotFound), 409 (FailedPrecondition), 503 (Unavailable) or 500.
Response JsonResponse(const Result<std::string>& result);

// Equal contents, in a time that depends on the lengths only (no early exit on the first
// difference): a token compare must not tell how much of a guess was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Guards a state-changing handler with "Authorization: Bearer <token>": 403 when no token
// is configured (the endpoint is disabled), 401 when the header is missing or wrong.
Handler RequireToken(std::string token, Handler handler);

// GET /healthz   200 "ok" while the process serves at all (liveness).
// GET /readyz    200 "ready" or 503 "not ready", from hooks.ready (readiness).
// GET /metrics   Prometheus text exposition of hooks.registry.
// GET /v1/status application/json from hooks.status_json.
// POST /v1/predict from hooks.predict, when given.
// GET /          the dashboard (RenderDashboard of hooks.dashboard), when given.
// GET /v1/series application/json from hooks.series_json, when given.
// More routes (dashboard, /v1/predict) can be added to the returned router.
Router AdminRoutes(AdminHooks hooks);

}  // namespace streamlearn::http
