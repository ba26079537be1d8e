#pragma once
// Appending JSON text by hand on the hot path (predictions, drift events): faster than a
// DOM library and allocation-free once the buffer has grown.

#include <string>
#include <string_view>

namespace streamlearn {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes and control bytes.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace streamlearn
