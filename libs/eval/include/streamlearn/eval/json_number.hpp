#pragma once
// Numbers for hand-written JSON (figures, generated events): the shortest text that reads
// back as the same double, so nothing is lost; NaN and infinities, which JSON cannot
// express, become null.

#include <cstdint>
#include <string>

namespace streamlearn::eval {

// Shortest round-trip form (std::to_chars), e.g. 0.1, 1e+300, 12.5; null when not finite.
void AppendJsonNumber(std::string& out, double value);
void AppendJsonInteger(std::string& out, int64_t value);
void AppendJsonUnsigned(std::string& out, uint64_t value);

}  // namespace streamlearn::eval
