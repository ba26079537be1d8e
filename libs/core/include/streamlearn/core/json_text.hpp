#pragma once
// Appending JSON text by hand on the hot path (predictions, drift events): faster than a
// DOM library and allocation-free once the buffer has grown.

#include <cstdint>
#include <string>
#include <string_view>

namespace streamlearn {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes and control bytes.
void AppendJsonString(std::string& out, std::string_view s);

// Numbers: the one form of json_writer.hpp (AppendJsonDouble): the shortest text that reads
// back as the same double, plain for decimal exponents -4 to 15, e.g. 0.1, 1e+300, 12.5, so
// nothing is lost and a replayed event yields the same bytes; NaN and infinities, which JSON
// cannot express, become null.
void AppendJsonNumber(std::string& out, double value);
void AppendJsonInteger(std::string& out, int64_t value);
void AppendJsonUnsigned(std::string& out, uint64_t value);

// A name or id quoted for a dead-letter reason: 'name', cut at 64 bytes on a UTF-8
// character boundary (with "..."): a hostile 10 MB key must not become a 10 MB header, and
// the reason stays valid UTF-8 for consumers of the DLQ `error` header.
std::string QuoteForReason(std::string_view name);

}  // namespace streamlearn
