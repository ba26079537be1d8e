#include "streamlearn/core/json_writer.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "streamlearn/core/json_text.hpp"

namespace streamlearn {

char* WriteJsonDouble(char* at, double value) {
  if (!std::isfinite(value)) {
    static constexpr char kNull[] = "null";
    return std::copy(kNull, kNull + 4, at);
  }
  // fmt's "{}" (Dragonbox): the shortest round-trip digits, laid out as described in the
  // header (at most 24 characters: "-2.2250738585072014e-308"). Compiled: no format
  // string parsed, nothing allocated.
  return fmt::format_to(at, FMT_COMPILE("{}"), value);
}

void AppendJsonDouble(std::string& out, double value) {
  char buf[kJsonDoubleMaxChars];
  const char* end = WriteJsonDouble(buf, value);
  out.append(buf, static_cast<size_t>(end - buf));
}

void JsonWriter::separate() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = false;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_->push_back('{');
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_->push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_->push_back('[');
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_->push_back(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  AppendJsonString(*out_, name);
  out_->push_back(':');
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  separate();
  AppendJsonString(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::number(double value) {
  separate();
  AppendJsonDouble(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t value) {
  separate();
  AppendJsonInteger(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::unsigned_integer(uint64_t value) {
  separate();
  AppendJsonUnsigned(*out_, value);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  separate();
  out_->append(value ? "true" : "false");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_->append("null");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_->append(json);
  need_comma_ = true;
  return *this;
}

}  // namespace streamlearn
