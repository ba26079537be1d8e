#include "streamlearn/http/admin.hpp"

#include <utility>

#include "streamlearn/http/metrics.hpp"

namespace streamlearn::http {

Router AdminRoutes(AdminHooks hooks) {
  Router routes;
  routes.add("GET", "/healthz", [](const Request&) { return Response{.status = 200, .body = "ok"}; });
  routes.add("GET", "/readyz", [ready = std::move(hooks.ready)](const Request&) {
    // No hook means nothing to wait for: the process is ready as soon as it serves.
    if (!ready || ready()) return Response{.status = 200, .body = "ready"};
    return Response{.status = 503, .body = "not ready"};
  });
  routes.add("GET", "/metrics", MetricsHandler(std::move(hooks.registry)));
  routes.add("GET", "/v1/status", [status_json = std::move(hooks.status_json)](const Request&) {
    std::string json = status_json ? status_json() : std::string();
    if (json.empty()) return Response{.status = 404, .body = "status not available"};
    return Response{.status = 200, .content_type = "application/json", .body = std::move(json)};
  });
  return routes;
}

}  // namespace streamlearn::http
