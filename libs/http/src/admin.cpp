#include "streamlearn/http/admin.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "streamlearn/core/json_writer.hpp"

#include "streamlearn/http/metrics.hpp"

namespace streamlearn::http {

Router AdminRoutes(AdminHooks hooks) {
  Router routes;
  routes.add("GET", "/healthz", [](const Request&) { return Response{.status = 200, .body = "ok"}; });
  routes.add("GET", "/readyz", [ready = std::move(hooks.ready), readiness = std::move(hooks.readiness)](const Request&) {
    if (readiness) {
      const ReadyState state = readiness();
      std::string body;
      JsonWriter w(&body);
      w.begin_object().field("ready", state.ready);
      if (!state.ready) w.field("reason", std::string_view(state.reason));
      w.end_object();
      return Response{.status = state.ready ? 200u : 503u, .content_type = "application/json", .body = std::move(body)};
    }
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
  if (hooks.predict) routes.add("POST", "/v1/predict", std::move(hooks.predict));
  if (hooks.dashboard) {
    routes.add("GET", "/", [dashboard = std::move(hooks.dashboard)](const Request&) {
      return Response{.status = 200, .content_type = "text/html; charset=utf-8", .body = RenderDashboard(dashboard())};
    });
  }
  if (hooks.series_json) {
    routes.add("GET", "/v1/series", [series = std::move(hooks.series_json)](const Request&) {
      return Response{.status = 200, .content_type = "application/json", .body = series()};
    });
  }
  return routes;
}

void AddModelRoutes(Router& routes, ModelRouteHooks hooks) {
  auto shared = std::make_shared<ModelRouteHooks>(std::move(hooks));
  routes.add("GET", "/v1/models", [shared](const Request&) {
    return Response{.status = 200, .content_type = "application/json", .body = shared->models_json()};
  });
  for (const std::string& name : shared->names) {
    const std::string base = "/v1/models/" + name;
    routes.add("GET", base, [shared, name](const Request&) { return JsonResponse(shared->model_json(name)); });
    for (const char* action : {"rollback", "promote"}) {
      routes.add("POST", base + "/" + action,
                 RequireToken(shared->token, [shared, name, action = std::string(action)](const Request& request) {
                   return JsonResponse(shared->change(name, action, request.body));
                 }));
    }
  }
  // Any other path under /v1/models/: a JSON 404 that names the models (a model.name other
  // than the config's, e.g. the README's sea-logreg on a run without -c, is the usual cause).
  constexpr std::string_view kBase = "/v1/models/";
  auto unknown = [shared, kBase](const Request& request) {
    const std::string_view rest = std::string_view(request.path).substr(kBase.size());
    const std::string name(rest.substr(0, rest.find('/')));
    std::string models;
    for (const auto& known : shared->names) models += (models.empty() ? "'" : ", '") + known + "'";
    const bool known = std::find(shared->names.begin(), shared->names.end(), name) != shared->names.end();
    return JsonResponse(Status::NotFound(
        known ? "no such path: a model has GET /v1/models/" + name + " and POST .../rollback, .../promote"
              : "no model named '" + name + "' (models: " + (models.empty() ? "none" : models) + ")"));
  };
  routes.add_fallback("GET", std::string(kBase), unknown);
  routes.add_fallback("POST", std::string(kBase), unknown);
}

Response JsonResponse(const Result<std::string>& result) {
  if (result.ok()) return Response{.status = 200, .content_type = "application/json", .body = *result};
  unsigned status = 500;
  switch (result.status().code()) {
    case ErrorCode::kInvalidArgument: status = 400; break;
    case ErrorCode::kNotFound: status = 404; break;
    case ErrorCode::kFailedPrecondition: status = 409; break;
    case ErrorCode::kUnavailable: status = 503; break;
    default: break;
  }
  std::string body;
  JsonWriter(&body).begin_object().field("error", std::string_view(result.status().message())).end_object();
  return Response{.status = status, .content_type = "application/json", .body = std::move(body)};
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer one is looked at; a length mismatch still fails at the end.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  // Through a volatile so the compiler keeps the loop whole.
  volatile unsigned char result = diff;
  return result == 0;
}

Handler RequireToken(std::string token, Handler handler) {
  return [token = std::move(token), handler = std::move(handler)](const Request& request) {
    auto refuse = [](unsigned status, std::string_view why) {
      std::string body;
      JsonWriter(&body).begin_object().field("error", why).end_object();
      return Response{.status = status, .content_type = "application/json", .body = std::move(body)};
    };
    if (token.empty()) return refuse(403, "disabled: set http.token (or STREAMLEARN_HTTP_TOKEN)");
    constexpr std::string_view kBearer = "Bearer ";
    const std::string_view sent = request.authorization;
    if (sent.size() < kBearer.size() || !ConstantTimeEquals(sent.substr(0, kBearer.size()), kBearer) ||
        !ConstantTimeEquals(sent.substr(kBearer.size()), token)) {
      return refuse(401, "missing or wrong token: send Authorization: Bearer <http.token>");
    }
    return handler(request);
  };
}

}  // namespace streamlearn::http
