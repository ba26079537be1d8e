#pragma once
// A list that keeps up to kInline elements inside itself and moves them all to the heap
// past that: a leaf's per-class statistics (two classes for a binary task) sit next to the
// observer that owns them, so reading an observer does not chase a pointer per attribute.
// Elements live in room_ while size() <= kInline, else in spill_ (all of them).
// Written here rather than taken from Boost: boost::container::small_vector (1.74, Debian 12)
// does the same, but its move constructor trips GCC 12's -Wstringop-overread (a false
// positive through inlining), which the -Werror build refuses.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamlearn::trees {

template <typename T, size_t kInline>
class InlineList {
 public:
  T* data() { return size_ <= kInline ? room_.data() : spill_.data(); }
  const T* data() const { return size_ <= kInline ? room_.data() : spill_.data(); }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  // What the heap holds for it (0 while the elements are in place).
  size_t heap_capacity() const { return spill_.capacity(); }

  void push_back(const T& v) {
    if (size_ < kInline) {
      room_[size_++] = v;
      return;
    }
    if (size_ == kInline) spill_.assign(room_.begin(), room_.end());
    spill_.push_back(v);
    ++size_;
  }
  // Kept elements stay; new ones are T{}.
  void resize(size_t n) {
    if (n <= kInline) {
      if (size_ > kInline) {
        for (size_t i = 0; i < n; ++i) room_[i] = spill_[i];
        spill_.clear();
        spill_.shrink_to_fit();
      } else {
        for (size_t i = size_; i < n; ++i) room_[i] = T{};
      }
    } else {
      if (size_ <= kInline) spill_.assign(room_.begin(), room_.begin() + static_cast<std::ptrdiff_t>(size_));
      spill_.resize(n);
    }
    size_ = static_cast<uint32_t>(n);
  }
  void clear() { resize(0); }

 private:
  std::array<T, kInline> room_{};
  uint32_t size_ = 0;
  std::vector<T> spill_;
};

}  // namespace streamlearn::trees
