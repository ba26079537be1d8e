#include "streamlearn/core/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "streamlearn/core/json_writer.hpp"

namespace streamlearn {

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t clean_from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(clean_from, i - clean_from));
    clean_from = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, 6);
      }
    }
  }
  out.append(s.substr(clean_from));
  out.push_back('"');
}

void AppendJsonNumber(std::string& out, double value) { AppendJsonDouble(out, value); }

void AppendJsonInteger(std::string& out, int64_t value) {
  char buf[24];
  out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, value).ptr - buf));
}

void AppendJsonUnsigned(std::string& out, uint64_t value) {
  char buf[24];
  out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, value).ptr - buf));
}

std::string QuoteForReason(std::string_view name) {
  constexpr size_t kMax = 64;
  size_t cut = std::min(name.size(), kMax);
  while (cut > 0 && cut < name.size() && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  std::string s = "'";
  s.append(name.substr(0, cut));
  if (name.size() > cut) s.append("...");
  s.push_back('\'');
  return s;
}

}  // namespace streamlearn
