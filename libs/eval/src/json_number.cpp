#include "streamlearn/eval/json_number.hpp"

#include <charconv>
#include <cmath>

namespace streamlearn::eval {

void AppendJsonNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  char buf[32];  // the shortest form of a double needs at most 24 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // cannot fail with this buffer
  out.append(buf, end);
}

void AppendJsonInteger(std::string& out, int64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out.append(buf, end);
}

void AppendJsonUnsigned(std::string& out, uint64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out.append(buf, end);
}

}  // namespace streamlearn::eval
