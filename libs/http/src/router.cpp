#include "streamlearn/http/server.hpp"

#include <utility>

namespace streamlearn::http {

void Router::add(std::string method, std::string path, Handler handler) {
  routes_[std::move(path)].insert_or_assign(std::move(method), std::move(handler));
}

void Router::add_fallback(std::string method, std::string prefix, Handler handler) {
  fallbacks_[std::move(prefix)].insert_or_assign(std::move(method), std::move(handler));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  auto by_path = routes_.find(path);
  if (by_path == routes_.end()) {
    for (const auto& [prefix, by_method] : fallbacks_) {
      if (!path.starts_with(prefix)) continue;
      auto it = by_method.find(method);
      if (it == by_method.end() && method == "HEAD") it = by_method.find("GET");
      if (it != by_method.end()) result.handler = &it->second;
    }
    return result;
  }
  const auto& by_method = by_path->second;
  result.path_known = true;

  if (auto it = by_method.find(method); it != by_method.end()) {
    result.handler = &it->second;
  } else if (method == "HEAD") {
    // HEAD must answer like GET without the body (RFC 9110 §9.3.2).
    if (auto get = by_method.find("GET"); get != by_method.end()) result.handler = &get->second;
  }

  const bool has_head = by_method.count("HEAD") > 0;
  for (const auto& [name, handler] : by_method) {
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += name;
    // The map is sorted and "HEAD" follows "GET" alphabetically, so the list stays sorted.
    if (name == "GET" && !has_head) result.allow += ", HEAD";
  }
  return result;
}

}  // namespace streamlearn::http
