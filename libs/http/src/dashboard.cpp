#include "streamlearn/http/admin.hpp"

#include <string_view>

namespace streamlearn::http {

// libs/http/assets/dashboard.html, embedded at build time (cmake/embed_asset.cmake).
extern const std::string_view kDashboardHtml;

namespace {

void AppendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
}

void ReplaceOnce(std::string& text, std::string_view marker, const std::string& with) {
  const auto at = text.find(marker);
  if (at != std::string::npos) text.replace(at, marker.size(), with);
}

}  // namespace

std::string RenderDashboard(const DashboardView& view) {
  std::string page(kDashboardHtml);
  std::string rows;
  for (const auto& [name, value] : view.rows) {
    rows += "        <tr><td>";
    AppendEscaped(rows, name);
    rows += "</td><td>";
    AppendEscaped(rows, value);
    rows += "</td></tr>\n";
  }
  std::string headline;
  AppendEscaped(headline, view.headline);
  ReplaceOnce(page, "@@STATUS_ROWS@@", rows);
  ReplaceOnce(page, "@@HEADLINE@@", headline);
  return page;
}

}  // namespace streamlearn::http
