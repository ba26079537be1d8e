#pragma once
// The model's input: a dense block indexed by FeatureDictionary ids, and a hashed sparse
// block. Lives in core because features (which builds it) and learn (which reads it) both
// need it and neither may depend on the other.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__clang__)
#define STREAMLEARN_NO_IPA
#else
#define STREAMLEARN_NO_IPA [[gnu::noipa]]
#endif

namespace streamlearn {

struct FeatureVector {
  std::vector<double> dense;     // dense feature i (ids assigned by FeatureDictionary)
  std::vector<uint8_t> present;  // same size as dense: 1 = given, 0 = missing (the model imputes)
  std::vector<uint32_t> sparse_index;  // hashed buckets in [0, 2^hash_bits)
  std::vector<float> sparse_value;     // 1.0 for one-hot categoricals
  // Categorical fields as nominal attributes (features.nominals on; empty otherwise): field
  // and value ids, both assigned by the feature builder and stable across snapshots. The
  // i-th pair is also sparse entry nominal_sparse_begin + i, its hashed one-hot copy, which
  // linear models read and a learner that reads the pairs skips.
  std::vector<uint32_t> nominal_field;
  std::vector<uint32_t> nominal_value;
  uint32_t nominal_sparse_begin = 0;

  // Keeps capacity: the per-event path must not allocate once sizes are stable.
  void clear() {
    dense.clear();
    present.clear();
    clear_all_but_dense();
  }
  // clear(), then a dense block of `size` missing features, in place: one memset of each
  // array when the size is the last event's, as it mostly is (0.0 is all zero bytes).
  void reset(size_t size) {
    clear_all_but_dense();
    if (dense.size() == size && present.size() == size) {
      if (size > 0) {
        std::memset(dense.data(), 0, size * sizeof(double));
        std::memset(present.data(), 0, size);
      }
    } else {
      dense.assign(size, 0.0);
      present.assign(size, 0);
    }
  }
  // Every part but the dense block (a member added here is cleared by clear() and reset()).
  void clear_all_but_dense() {
    sparse_index.clear();
    sparse_value.clear();
    nominal_field.clear();
    nominal_value.clear();
    nominal_sparse_begin = 0;
  }
  // Whether sparse entry k is the hashed copy of a nominal pair.
  bool sparse_is_nominal(size_t k) const {
    return k >= nominal_sparse_begin && k - nominal_sparse_begin < nominal_field.size();
  }
  // Called several times per feature per event: inlined at every call site (the compiler
  // would not on its own); growing the block is the rare case, out of line.
  [[gnu::always_inline]] void set_dense(uint32_t id, double v) {
    if (id >= dense.size()) [[unlikely]] {
      grow_dense(id);
    }
    dense[id] = v;
    present[id] = 1;
  }
  // set_dense's rare case: the block grows to hold `id` (new ids read as missing). Not
  // specialised for a constant id either (GCC 12 then warns of a bound it cannot see; clang,
  // which the fuzzers build with, has no noipa and does not warn).
  [[gnu::noinline]] STREAMLEARN_NO_IPA void grow_dense(uint32_t id) {
    dense.resize(id + 1, 0.0);
    present.resize(id + 1, 0);
  }
};

}  // namespace streamlearn
