#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "hoeffding_tree.hpp"
#include "inline_list.hpp"
#include "streamlearn/core/bytes.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;

namespace {

template <typename T, size_t N>
std::vector<T> Contents(const trees::InlineList<T, N>& list) {
  return std::vector<T>(list.begin(), list.end());
}

}  // namespace

TEST_CASE("an inline list holds what a vector would, in place and spilled", "[trees][inline_list]") {
  std::mt19937 rng(11);
  trees::InlineList<int, 2> list;
  std::vector<int> expected;
  for (int step = 0; step < 4000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 6) {
      const int v = static_cast<int>(rng() % 1000);
      list.push_back(v);
      expected.push_back(v);
    } else if (op < 9) {
      const size_t n = rng() % 6;
      list.resize(n);
      expected.resize(n);  // new ones are 0 (T{}) in both
    } else {
      trees::InlineList<int, 2> copy = list;  // a copy is its own
      if (!copy.empty()) copy[0] = -1;
      list = copy;
      if (!expected.empty()) expected[0] = -1;
    }
    REQUIRE(list.size() == expected.size());
    REQUIRE(Contents(list) == expected);
    if (!expected.empty()) REQUIRE(list[expected.size() - 1] == expected.back());
    if (list.size() <= 2) REQUIRE(list.heap_capacity() == 0);
  }
}

TEST_CASE("an inline list keeps two in place and the third moves all to the heap", "[trees][inline_list]") {
  trees::InlineList<double, 2> list;
  list.push_back(1.5);
  list.push_back(2.5);
  CHECK(list.heap_capacity() == 0);
  const double* in_place = list.data();
  list.push_back(3.5);
  CHECK(list.heap_capacity() >= 3);
  CHECK(list.data() != in_place);
  CHECK(Contents(list) == std::vector<double>{1.5, 2.5, 3.5});
  list.resize(2);
  CHECK(list.heap_capacity() == 0);
  CHECK(Contents(list) == std::vector<double>{1.5, 2.5});
  list.clear();
  CHECK(list.empty());
}

// The size limit's estimate (TreeLeaf::bytes) counts a numeric observer as it did when its
// class Gaussians were a vector of their own: 32 bytes and 48 per class, whatever the layout.
TEST_CASE("a leaf's byte estimate counts numeric observers as before they kept classes in place", "[trees][inline_list]") {
  trees::TreeLeaf empty;
  trees::TreeLeaf leaf;
  leaf.numeric_slot = {0, 1, 2};
  for (uint32_t a = 0; a < 3; ++a) {
    trees::NumericObserver obs;
    obs.attribute = a;
    for (uint32_t c = 0; c <= a; ++c) obs.classes.push_back({c, {}, 0.0, 0.0});  // 1, 2 and 3 classes
    leaf.numeric.push_back(obs);
  }
  CHECK(leaf.bytes() - empty.bytes() == 3 * 32 + (1 + 2 + 3) * 48 + 3 * sizeof(int32_t));
}

TEST_CASE("a leaf's bucket index finds what a hash map would, across growth", "[trees][inline_list]") {
  std::mt19937 rng(5);
  trees::BucketSlots slots;
  std::unordered_map<uint32_t, uint32_t> expected;
  for (int step = 0; step < 20000; ++step) {
    // Few distinct ids at first (mostly finds), then many (growth and long probes).
    const uint32_t range = step < 5000 ? 40 : (1u << 26);
    const uint32_t bucket = static_cast<uint32_t>(rng() % range);
    bool added = false;
    const uint32_t fresh = static_cast<uint32_t>(expected.size());
    const uint32_t got = slots.find_or_add(bucket, fresh, &added);
    const auto [it, inserted] = expected.try_emplace(bucket, fresh);
    REQUIRE(added == inserted);
    REQUIRE(got == it->second);
    REQUIRE(slots.size() == expected.size());
    REQUIRE(2 * slots.size() <= slots.table_size());
  }
  for (const auto& [bucket, slot] : expected) {  // every id still found after the growth
    bool added = true;
    REQUIRE(slots.find_or_add(bucket, 999999, &added) == slot);
    REQUIRE(!added);
  }
}

// An empty leaf's estimate as it was with std::unordered_map as the bucket index (x86-64,
// libstdc++: 256 bytes of TreeLeaf less the two vectors not counted), and a bucket observer
// counted as with its class weights in a vector of their own and the map's node (3 pointers).
TEST_CASE("a leaf's byte estimate counts the bucket index as the hash map it replaced", "[trees][inline_list]") {
  trees::TreeLeaf empty;
  CHECK(empty.bytes() == 208);
  trees::TreeLeaf leaf;
  for (uint32_t b : {7u, 9u}) {
    bool added = false;
    leaf.bucket_slot.find_or_add(b, static_cast<uint32_t>(leaf.buckets.size()), &added);
    trees::BucketObserver obs;
    obs.bucket = b;
    obs.present.push_back({0, 1.0});
    obs.present.push_back({1, 2.0});
    leaf.buckets.push_back(obs);
  }
  // Each: 32 bytes (a bucket id and a vector, as before they kept two classes in place),
  // 16 per class weight, the map's node.
  CHECK(leaf.bytes() - empty.bytes() == 2 * (32 + 2 * 16 + 3 * sizeof(void*)));
}

// Four classes: every observer's class statistics move out of place (past two), and the
// snapshot writes and reads them there; the tree read back predicts and learns as the original.
TEST_CASE("a multiclass tree with buckets reads back from its snapshot as it was", "[trees][inline_list][snapshot]") {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<FeatureVector> xs;
  std::vector<double> ys;
  for (int i = 0; i < 4000; ++i) {
    const uint32_t cls = static_cast<uint32_t>(rng() % 4);
    FeatureVector x;
    x.dense = {cls + noise(rng), noise(rng), 0.5 * cls + noise(rng)};
    x.present = {1, 1, 1};
    x.sparse_index = {1000 + cls * 3 + static_cast<uint32_t>(rng() % 3), 2000 + static_cast<uint32_t>(rng() % 40)};
    x.sparse_value = {1.0f, 1.0f};
    xs.push_back(x);
    ys.push_back(cls);
  }
  auto original = testing::MakeTreeLearner("hoeffding_tree_multiclass", {{"grace_period", "50"}, {"delta", "0.01"}});
  for (size_t i = 0; i < 2500; ++i) original->learn(xs[i], ys[i]);
  REQUIRE(dynamic_cast<trees::HoeffdingTreeLearner&>(*original).splits() > 0);
  auto restored = testing::SavedAndRestored(*original);
  std::string a_bytes, b_bytes;
  ByteWriter wa(&a_bytes), wb(&b_bytes);
  original->save(wa);
  restored->save(wb);
  CHECK(a_bytes == b_bytes);
  learn::Prediction a, b;
  size_t differ = 0;
  for (size_t i = 2500; i < xs.size(); ++i) {
    original->predict(xs[i], a);
    restored->predict(xs[i], b);
    if (a.class_index != b.class_index || a.probabilities != b.probabilities) ++differ;
    original->learn(xs[i], ys[i]);
    restored->learn(xs[i], ys[i]);
  }
  CHECK(differ == 0);
  // Having learned alike they hold the same state (the bucket index found the same observers).
  a_bytes.clear();
  b_bytes.clear();
  original->save(wa);
  restored->save(wb);
  CHECK(a_bytes == b_bytes);
}
