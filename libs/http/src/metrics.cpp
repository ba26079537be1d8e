#include "streamlearn/http/metrics.hpp"

#include <utility>

#include <prometheus/text_serializer.h>

namespace streamlearn::http {

std::string RenderPrometheus(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

Handler MetricsHandler(std::shared_ptr<prometheus::Registry> registry) {
  return [registry = std::move(registry)](const Request&) {
    if (!registry) return Response{.status = 503, .body = "no metrics registry"};
    return Response{.status = 200, .content_type = kPrometheusContentType, .body = RenderPrometheus(*registry)};
  };
}

}  // namespace streamlearn::http
