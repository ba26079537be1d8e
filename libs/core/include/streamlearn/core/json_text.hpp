#pragma once
// Appending JSON text by hand on the hot path (predictions, drift events): faster than a
// DOM library and allocation-free once the buffer has grown.

#include <string>
#include <string_view>

namespace streamlearn {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes and control bytes.
void AppendJsonString(std::string& out, std::string_view s);

// A name or id quoted for a dead-letter reason: 'name', cut at 64 bytes on a UTF-8
// character boundary (with "..."): a hostile 10 MB key must not become a 10 MB header, and
// the reason stays valid UTF-8 for consumers of the DLQ `error` header.
std::string QuoteForReason(std::string_view name);

}  // namespace streamlearn
