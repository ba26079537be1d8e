#pragma once
// Little-endian binary encoding for snapshots and stored state. Fixed widths, so a
// snapshot written on one machine reads the same on another of the same endianness.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "streamlearn/core/status.hpp"

namespace streamlearn {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void u8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_->append(s.data(), s.size());
  }
  void raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }

 private:
  std::string* out_;
};

// Reads what ByteWriter wrote. Every read checks bounds; the first failure sticks, so a
// decoder can read a whole record and check ok() once at the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  uint8_t u8() { uint8_t v = 0; raw(&v, 1); return v; }
  uint32_t u32() { uint32_t v = 0; raw(&v, sizeof v); return v; }
  uint64_t u64() { uint64_t v = 0; raw(&v, sizeof v); return v; }
  int64_t i64() { int64_t v = 0; raw(&v, sizeof v); return v; }
  double f64() { double v = 0; raw(&v, sizeof v); return v; }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || n > in_.size() - pos_) { ok_ = false; return {}; }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void raw(void* p, size_t n) {
    if (!ok_ || n > in_.size() - pos_) { ok_ = false; return; }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// CRC-32C-free stand-in: a 64-bit FNV-1a over the payload, enough to catch torn or
// edited snapshots (not an adversary).
uint64_t Checksum(std::string_view bytes);

// Frames a payload as: magic(4) | format version(u32) | payload length(u64) | payload | checksum(u64).
std::string SealSnapshot(std::string_view magic4, uint32_t version, std::string_view payload);
// Checks magic, version (must equal `expected_version`), length and checksum; returns the payload.
Result<std::string_view> OpenSnapshot(std::string_view magic4, uint32_t expected_version,
                                      std::string_view sealed);

}  // namespace streamlearn
