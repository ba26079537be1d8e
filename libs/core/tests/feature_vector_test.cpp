#include <catch2/catch.hpp>

#include "streamlearn/core/feature_vector.hpp"

using namespace streamlearn;

namespace {

FeatureVector Used() {
  FeatureVector x;
  x.set_dense(4, 2.5);
  x.sparse_index = {7, 9};
  x.sparse_value = {1.0f, 0.5f};
  x.nominal_field = {1};
  x.nominal_value = {3};
  x.nominal_sparse_begin = 1;
  return x;
}

void CheckFresh(const FeatureVector& x, size_t size) {
  CHECK(x.dense == std::vector<double>(size, 0.0));
  CHECK(x.present == std::vector<uint8_t>(size, 0));
  CHECK(x.sparse_index.empty());
  CHECK(x.sparse_value.empty());
  CHECK(x.nominal_field.empty());
  CHECK(x.nominal_value.empty());
  CHECK(x.nominal_sparse_begin == 0);
}

}  // namespace

TEST_CASE("a reset feature vector reads as a fresh one of that size, whatever it held", "[feature_vector]") {
  SECTION("the same size: zeroed in place, its memory kept") {
    FeatureVector x = Used();
    const double* block = x.dense.data();
    x.reset(5);
    CheckFresh(x, 5);
    CHECK(x.dense.data() == block);
  }
  SECTION("another size") {
    FeatureVector x = Used();
    x.reset(12);
    CheckFresh(x, 12);
    x = Used();
    x.reset(2);
    CheckFresh(x, 2);
  }
  SECTION("empty") {
    FeatureVector x = Used();
    x.reset(0);
    CheckFresh(x, 0);
    x.clear();
    CheckFresh(x, 0);
  }
}
