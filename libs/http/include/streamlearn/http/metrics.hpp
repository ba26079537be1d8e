#pragma once
// Prometheus exposition of a prometheus-cpp registry (text format 0.0.4).

#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "streamlearn/http/server.hpp"

namespace streamlearn::http {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Collects every family of the registry and renders it with prometheus-cpp's TextSerializer.
std::string RenderPrometheus(const prometheus::Registry& registry);

// A GET handler serving RenderPrometheus(*registry). The registry is thread-safe, so the
// handler may run on the server thread while other threads update metrics.
// A null registry answers 503: a scrape should fail loudly rather than look empty.
Handler MetricsHandler(std::shared_ptr<prometheus::Registry> registry);

}  // namespace streamlearn::http
