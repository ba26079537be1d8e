#pragma once
// What learner families share: reading their keys (through core's config grammar) and
// framing their snapshots with their kind tag. For families in libs above learn (trees,
// neighbors); the linear family has its own older snapshot frame.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::learn {

// Keys the pipeline passes to every family (learning_rate, l2, hash_bits): accepted and
// ignored, so model.type can switch families without touching the rest of the config.
bool IsPipelineKey(std::string_view key);

// Each returns InvalidArgument "<problem>, got '<text>'" (the caller prefixes the key).
Status ParseWhole(std::string_view text, int64_t lo, int64_t hi, int64_t* out);
Status ParseReal(std::string_view text, double lo, double hi, bool lo_open, bool hi_open, double* out);
Status ParseChoice(std::string_view text, std::initializer_list<std::string_view> choices, std::string* out);

// A payload sealed with the family's kind tag as magic (bytes.hpp's SealSnapshot), so the
// first 4 bytes are the tag and any flipped byte fails the checksum.
void WriteSealed(ByteWriter& out, uint32_t kind_tag, uint32_t version, std::string_view payload);
// The payload of the sealed snapshot at `in` (advanced past it on success). Another kind's
// tag is FailedPrecondition; short or damaged bytes are Corruption. `what` names the family.
Result<std::string> ReadSealed(ByteReader& in, uint32_t kind_tag, uint32_t version, std::string_view what);


}  // namespace streamlearn::learn
