#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "knn.hpp"
#include "knn_window.hpp"
#include "learner_contract.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "streamlearn/neighbors/knn_learners.hpp"

using namespace streamlearn;

namespace {

std::unique_ptr<learn::Learner> MakeKnn(std::string_view type, const learn::LearnerKeys& keys = {}) {
  REQUIRE(neighbors::RegisterNeighborLearners().ok());
  auto made = learn::MakeLearner(type, keys);
  INFO(made.status().message());
  REQUIRE(made.ok());
  return std::move(made).value();
}

FeatureVector Row(std::initializer_list<double> values) {
  FeatureVector x;
  x.dense = values;
  x.present.assign(x.dense.size(), 1);
  return x;
}

double Predict(const learn::Learner& l, const FeatureVector& x) {
  learn::Prediction p;
  l.predict(x, p);
  return p.score;
}

}  // namespace

TEST_CASE("knn keeps the learner contract", "[neighbors][contract]") {
  SECTION("binary") {
    testing::CheckLearnerContract([] { return MakeKnn("knn"); });
  }
  SECTION("multiclass") {
    testing::CheckLearnerContract([] { return MakeKnn("knn_multiclass"); });
  }
  SECTION("regression") {
    testing::CheckLearnerContract([] { return MakeKnn("knn_regressor"); });
  }
  SECTION("a small ring that wraps, unweighted softmax votes, median, Manhattan") {
    testing::CheckLearnerContract(
        [] { return MakeKnn("knn_multiclass", {{"window_size", "37"}, {"weighted", "false"}, {"softmax", "true"}}); });
    testing::CheckLearnerContract(
        [] { return MakeKnn("knn_regressor", {{"window_size", "50"}, {"aggregation_method", "median"}, {"p", "1"}}); });
  }
}

// Hand-worked: rows at distances 1, 2, 4 from the query (Euclidean), k = 3.
TEST_CASE("the regressor aggregates as River: mean, median, 1/distance-weighted mean", "[neighbors]") {
  const auto feed = [](learn::Learner& l) {
    l.learn(Row({1, 0}), 10);
    l.learn(Row({0, 2}), 20);
    l.learn(Row({0, -4}), 70);
    l.learn(Row({9, 9}), 1000);  // the farthest: not among the 3
  };
  const FeatureVector q = Row({0, 0});
  auto mean = MakeKnn("knn_regressor", {{"n_neighbors", "3"}});
  auto median = MakeKnn("knn_regressor", {{"n_neighbors", "3"}, {"aggregation_method", "median"}});
  auto weighted = MakeKnn("knn_regressor", {{"n_neighbors", "3"}, {"aggregation_method", "weighted_mean"}});
  feed(*mean);
  feed(*median);
  feed(*weighted);
  CHECK(Predict(*mean, q) == (10.0 + 20.0 + 70.0) / 3);
  CHECK(Predict(*median, q) == 20.0);
  CHECK(Predict(*weighted, q) == (10.0 / 1 + 20.0 / 2 + 70.0 / 4) / (1.0 + 0.5 + 0.25));
  // An exact match decides alone; with an even count the median is the middle pair's mean.
  CHECK(Predict(*weighted, Row({0, 2})) == 20.0);
  auto even = MakeKnn("knn_regressor", {{"n_neighbors", "4"}, {"aggregation_method", "median"}});
  feed(*even);
  CHECK(Predict(*even, q) == (20.0 + 70.0) / 2);
}

TEST_CASE("before enough rows it uses those there are, with none it predicts 0", "[neighbors]") {
  auto l = MakeKnn("knn_regressor");  // k = 5
  CHECK(Predict(*l, Row({1})) == 0.0);
  l->learn(Row({0}), 3);
  l->learn(Row({2}), 5);
  CHECK(Predict(*l, Row({1})) == 4.0);
  auto c = MakeKnn("knn");
  learn::Prediction p;
  c->predict(Row({1}), p);
  CHECK(p.score == 0.0);
  CHECK(p.class_index == 0);
  auto m = MakeKnn("knn_multiclass");
  m->predict(Row({1}), p);
  CHECK(p.class_index == -1);
  CHECK(p.probabilities.empty());
}

TEST_CASE("the classifier's votes are 1/distance, normalised by their sum or by softmax", "[neighbors]") {
  const auto feed = [](learn::Learner& l) {
    l.learn(Row({1}), 0);   // distance 1 from 0
    l.learn(Row({-2}), 2);  // distance 2
    l.learn(Row({4}), 2);   // distance 4
  };
  auto l = MakeKnn("knn_multiclass");
  feed(*l);
  learn::Prediction p;
  l->predict(Row({0}), p);
  REQUIRE(p.probabilities.size() == 3);
  const double total = 1.0 + 0.5 + 0.25;
  CHECK(p.probabilities[0] == 1.0 / total);
  CHECK(p.probabilities[1] == 0.0);  // never learned: River does not list it
  CHECK(p.probabilities[2] == (0.5 + 0.25) / total);
  CHECK(p.class_index == 0);
  auto s = MakeKnn("knn_multiclass", {{"softmax", "true"}});
  feed(*s);
  s->predict(Row({0}), p);
  const double z = std::exp(1.0 - 1.0) + std::exp(0.75 - 1.0);
  CHECK(p.probabilities[0] == Approx(1.0 / z).epsilon(1e-15));
  CHECK(p.probabilities[1] == 0.0);
  CHECK(p.probabilities[2] == Approx(std::exp(-0.25) / z).epsilon(1e-15));
  auto u = MakeKnn("knn_multiclass", {{"weighted", "false"}});
  feed(*u);
  u->predict(Row({0}), p);
  CHECK(p.class_index == 2);  // two plain votes beat one
  CHECK(p.probabilities[2] == 2.0 / 3);
  // An exact match: its class with probability 1.
  l->predict(Row({-2}), p);
  CHECK(p.probabilities[2] == 1.0);
  CHECK(p.probabilities[0] == 0.0);
}

TEST_CASE("ties in distance go to the older row, the window forgets the oldest first", "[neighbors]") {
  auto l = MakeKnn("knn_regressor", {{"n_neighbors", "1"}, {"window_size", "3"}});
  l->learn(Row({1}), 10);
  l->learn(Row({-1}), 20);  // as near to 0 as the first
  CHECK(Predict(*l, Row({0})) == 10.0);
  l->learn(Row({5}), 30);
  l->learn(Row({6}), 40);  // evicts (1 -> 10)
  CHECK(Predict(*l, Row({0})) == 20.0);
  l->learn(Row({7}), 50);  // evicts (-1 -> 20)
  CHECK(Predict(*l, Row({0})) == 30.0);
}

TEST_CASE("a missing feature counts as 0, as River's absent keys, buckets are features", "[neighbors]") {
  auto l = MakeKnn("knn_regressor", {{"n_neighbors", "1"}});
  l->learn(Row({3, 0}), 1);
  l->learn(Row({0, 2.5}), 2);
  FeatureVector q = Row({1e9, 0.1});
  q.present[0] = 0;  // missing: 0, whatever dense holds
  CHECK(Predict(*l, q) == 2.0);
  // A feature only the query has is 0 in every row; a wider row widens the window.
  CHECK(Predict(*l, Row({3, 0, 100})) == 1.0);
  l->learn(Row({0, 0, 100}), 3);
  CHECK(Predict(*l, Row({0, 0, 99})) == 3.0);
  // Sparse buckets: the same bucket is near, another bucket is as far as a missing one.
  auto s = MakeKnn("knn_regressor", {{"n_neighbors", "1"}});
  FeatureVector a, b, qa;
  a.sparse_index = {7};
  a.sparse_value = {1.0f};
  b.sparse_index = {9, 3};
  b.sparse_value = {1.0f, 1.0f};
  s->learn(a, 1);
  s->learn(b, 2);
  qa.sparse_index = {9};
  qa.sparse_value = {1.0f};
  CHECK(Predict(*s, qa) == 2.0);  // distance 1 to b, sqrt(2) to a
  qa.sparse_index = {7, 7};
  qa.sparse_value = {0.5f, 0.5f};  // one bucket given twice is their sum
  CHECK(Predict(*s, qa) == 1.0);
}

// The window's search against a full sort of every row, on a wrapped ring of 3000 rows.
TEST_CASE("the bounded search finds the rows a full sort does", "[neighbors][search]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0, 1);
  for (double p : {1.0, 2.0, 3.0}) {
    neighbors::KnnWindow w(3000);
    std::vector<FeatureVector> rows;
    for (int i = 0; i < 4000; ++i) {
      FeatureVector x = Row({g(rng), g(rng), std::round(g(rng))});
      if (i % 7 == 0) x.present[1] = 0;
      w.push(x, i);
      rows.push_back(x);
    }
    for (int t = 0; t < 20; ++t) {
      const FeatureVector q = Row({g(rng), g(rng), std::round(g(rng))});
      neighbors::Neighbor found[16];
      REQUIRE(w.search(q, p, 16, found) == 16);
      std::vector<std::pair<double, int>> all;
      for (int i = 1000; i < 4000; ++i) {
        double acc = 0;
        for (int j = 0; j < 3; ++j) {
          const double r = rows[i].present[j] ? rows[i].dense[j] : 0.0;
          acc += std::pow(std::abs(q.dense[j] - r), p);
        }
        all.emplace_back(std::pow(acc, 1 / p), i);
      }
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (int k = 0; k < 16; ++k) {
        CHECK(w.target(found[k].age) == all[k].second);
        CHECK(found[k].distance == Approx(all[k].first).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("knn keys are checked by name and the pipeline's keys are taken", "[neighbors][factory]") {
  REQUIRE(neighbors::RegisterNeighborLearners().ok());
  REQUIRE(neighbors::RegisterNeighborLearners().ok());  // twice is harmless
  CHECK(*learn::TaskOfLearnerType("knn") == learn::LearnerTask::kBinary);
  CHECK(*learn::TaskOfLearnerType("knn_multiclass") == learn::LearnerTask::kMulticlass);
  CHECK(*learn::TaskOfLearnerType("knn_regressor") == learn::LearnerTask::kRegression);
  auto bad = learn::MakeLearner("knn", {{"n_neighbors", "0"}}, "model.");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "model.n_neighbors: must be between 1 and 256, got '0'");
  auto foreign = learn::MakeLearner("knn", {{"aggregation_method", "mean"}}, "model.");
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.status().message().rfind("model.aggregation_method: unknown key for knn", 0) == 0);
  auto choice = learn::MakeLearner("knn_regressor", {{"aggregation_method", "mode"}}, "model.");
  REQUIRE_FALSE(choice.ok());
  CHECK(choice.status().message().rfind("model.aggregation_method: ", 0) == 0);
  CHECK_FALSE(learn::MakeLearner("knn_regressor", {{"p", "0.5"}}).ok());
  CHECK_FALSE(learn::MakeLearner("knn", {{"weighted", "maybe"}}).ok());
  CHECK(learn::MakeLearner("knn_regressor", {{"learning_rate", "0.1"}, {"l2", "0"}, {"hash_bits", "18"},
                                             {"window_size", "5000"}, {"p", "1.5"}})
            .ok());
  CHECK(neighbors::CheckKnnSetting("n_neighbors", "300").message() == "must be between 1 and 256, got '300'");
  CHECK(neighbors::CheckKnnSetting("grace_period", "x").ok());  // another family's key
  CHECK(neighbors::CheckKnnSetting("n_neighbors", "20").ok());
  // A snapshot restores with its own settings; another setting refuses it.
  auto saved = MakeKnn("knn_regressor", {{"window_size", "10"}, {"aggregation_method", "median"}});
  saved->learn(Row({1, 2}), 3);
  const std::string bytes = testing::SavedLearner(*saved);
  ByteReader in(bytes);
  auto restored = learn::RestoreLearner(in);
  REQUIRE(restored.ok());
  CHECK((*restored)->type() == "knn_regressor");
  CHECK(testing::SavedLearner(**restored) == bytes);
  auto other = MakeKnn("knn_regressor", {{"window_size", "11"}, {"aggregation_method", "median"}});
  ByteReader again(bytes);
  CHECK(other->load(again).code() == ErrorCode::kFailedPrecondition);
}

TEST_CASE("a weight below one half learns nothing, not even the class", "[neighbors]") {
  auto l = MakeKnn("knn_multiclass");
  const std::string empty = testing::SavedLearner(*l);
  l->learn(Row({1}), 3, 0.4);
  CHECK(testing::SavedLearner(*l) == empty);
  l->learn(Row({1}), 3, 1.6);  // rounds to 2 copies
  CHECK(l->trained() == 2);
}

namespace {

// The search as first written, term by term: each row's sum is the query-only features,
// then every feature in index order (missing ones 0), then the sparse part (the row's
// buckets by index, then the buckets only the query has, first occurrence first). The
// window's search must give exactly these neighbours, sums and distances, to the bit.
struct ReferenceWindow {
  size_t capacity;
  std::vector<FeatureVector> rows;  // oldest first

  void push(const FeatureVector& x) {
    rows.push_back(x);
    if (rows.size() > capacity) rows.erase(rows.begin());
  }

  static double Term(double d, double p) {
    if (p == 2) return d * d;
    if (p == 1) return std::abs(d);
    return std::pow(std::abs(d), p);
  }
  static double Root(double s, double p) {
    if (p == 2) return std::sqrt(s);
    if (p == 1) return s;
    return std::pow(s, 1.0 / p);
  }
  static double Dense(const FeatureVector& x, size_t i) {
    return i < x.dense.size() && i < x.present.size() && x.present[i] ? x.dense[i] : 0.0;
  }
  static double Bucket(const FeatureVector& x, uint32_t index) {
    double v = 0;
    for (size_t j = 0; j < x.sparse_index.size(); ++j) {
      if (x.sparse_index[j] == index) v += x.sparse_value[j];
    }
    return v;
  }

  std::vector<neighbors::Neighbor> search(const FeatureVector& q, double p, size_t k) const {
    size_t dim = 0;
    for (const auto& r : rows) dim = std::max(dim, std::min(r.dense.size(), r.present.size()));
    // Dimensions ever seen count, even when the rows that brought them have left.
    dim = std::max(dim, widest);
    const size_t qn = std::min(q.dense.size(), q.present.size());
    double beyond = 0;
    for (size_t i = dim; i < qn; ++i) {
      if (q.present[i]) beyond += Term(q.dense[i], p);
    }
    std::vector<neighbors::Neighbor> out;
    for (size_t age = 0; age < rows.size(); ++age) {
      const FeatureVector& r = rows[age];
      double acc = beyond;
      for (size_t i = 0; i < dim; ++i) acc += Term(Dense(q, i) - Dense(r, i), p);
      if (!rows.empty() && (any_sparse || !q.sparse_index.empty())) {
        // The row's buckets, summed per index and sorted, as the window stores them.
        std::vector<std::pair<uint32_t, float>> b;
        for (size_t j = 0; j < r.sparse_index.size(); ++j) b.emplace_back(r.sparse_index[j], r.sparse_value[j]);
        std::stable_sort(b.begin(), b.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        std::vector<std::pair<uint32_t, float>> merged;
        for (const auto& e : b) {
          if (!merged.empty() && merged.back().first == e.first) {
            merged.back().second += e.second;
          } else {
            merged.push_back(e);
          }
        }
        double part = 0;
        for (const auto& [index, value] : merged) part += Term(static_cast<double>(value) - Bucket(q, index), p);
        for (size_t j = 0; j < q.sparse_index.size(); ++j) {
          const uint32_t index = q.sparse_index[j];
          if (std::find(q.sparse_index.begin(), q.sparse_index.begin() + static_cast<std::ptrdiff_t>(j), index) !=
              q.sparse_index.begin() + static_cast<std::ptrdiff_t>(j)) {
            continue;
          }
          if (std::any_of(merged.begin(), merged.end(), [&](const auto& e) { return e.first == index; })) continue;
          part += Term(Bucket(q, index), p);
        }
        acc += part;
      }
      out.push_back({Root(acc, p), acc, static_cast<uint32_t>(age)});
    }
    // Nearest first, the older first on equal distances; a NaN distance never enters once
    // k are found, and goes last before.
    std::vector<neighbors::Neighbor> top;
    for (const auto& c : out) {
      if (top.size() == k) {
        if (!(c.distance < top.back().distance)) continue;
        top.pop_back();
      }
      size_t j = top.size();
      top.push_back(c);
      while (j > 0 && top[j - 1].distance > c.distance) {
        top[j] = top[j - 1];
        --j;
      }
      top[j] = c;
    }
    return top;
  }

  size_t widest = 0;
  bool any_sparse = false;
};

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

}  // namespace

// Random windows built to reach every path of the search: few distinct values (ties),
// missing features, features no row holds, query-only features, windows wider than the
// query's stack buffer, buckets repeated in a row and in the query, more query buckets than
// the merge tracks, a ring that wraps, and the exponents with their own loops and pow.
TEST_CASE("the search gives the plain search's neighbours, sums and distances to the bit", "[neighbors][search]") {
  std::mt19937_64 rng(11);
  const auto uniform = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  struct Shape {
    size_t capacity, dims, k;
    int sparse;  // most buckets a row carries
    int zero_every;  // every such feature is never set (0: none)
  };
  for (const Shape shape : {Shape{40, 5, 3, 0, 0}, Shape{60, 66, 5, 2, 4}, Shape{30, 700, 4, 3, 3},
                            Shape{25, 20, 25, 70, 0}, Shape{50, 9, 1, 4, 2}}) {
    for (double p : {1.0, 2.0, 3.0, 1.5}) {
      INFO("dims " << shape.dims << " p " << p);
      neighbors::KnnWindow w(shape.capacity);
      ReferenceWindow ref{shape.capacity, {}};
      const auto make = [&](bool query) {
        FeatureVector x;
        // Rows widen over time (the window widens), queries sometimes reach past them.
        size_t n = shape.dims - static_cast<size_t>(uniform(static_cast<int>(shape.dims / 2 + 1)));
        if (query && uniform(4) == 0) n = shape.dims + 3;
        x.dense.resize(n);
        x.present.resize(n);
        for (size_t i = 0; i < n; ++i) {
          const bool never = shape.zero_every > 0 && i % static_cast<size_t>(shape.zero_every) != 0;
          x.present[i] = never ? uniform(8) == 0 && query : uniform(5) != 0;
          x.dense[i] = never && !query ? 0.0 : uniform(3) - 1 + (uniform(4) == 0 ? 0.5 : 0.0);
          if (never && query && uniform(2) == 0) x.dense[i] = 0.0;  // present, 0: still left out
        }
        const int m = shape.sparse > 0 ? uniform(shape.sparse + 1) + (query ? uniform(3) : 0) : 0;
        for (int j = 0; j < m; ++j) {
          x.sparse_index.push_back(static_cast<uint32_t>(uniform(shape.sparse > 8 ? 200 : 6)));
          x.sparse_value.push_back(uniform(3) == 0 ? 0.5f : 1.0f);
        }
        return x;
      };
      size_t checked = 0;
      for (int i = 0; i < 3 * static_cast<int>(shape.capacity); ++i) {
        const FeatureVector q = make(true);
        if (shape.sparse > 8 && i % 5 == 0) {
          FeatureVector wide = q;  // more distinct buckets than the merge tracks
          for (uint32_t b = 0; b < 80; ++b) {
            wide.sparse_index.push_back(b * 3);
            wide.sparse_value.push_back(1.0f);
          }
          neighbors::Neighbor found[neighbors::kMaxNeighbors];
          const size_t n = w.search(wide, p, shape.k, found);
          const auto expected = ref.search(wide, p, shape.k);
          REQUIRE(n == expected.size());
          for (size_t j = 0; j < n; ++j) {
            CHECK(found[j].age == expected[j].age);
            CHECK(Bits(found[j].sum) == Bits(expected[j].sum));
          }
        }
        neighbors::Neighbor found[neighbors::kMaxNeighbors];
        const size_t n = w.search(q, p, shape.k, found);
        const auto expected = ref.search(q, p, shape.k);
        REQUIRE(n == expected.size());
        for (size_t j = 0; j < n; ++j) {
          CHECK(found[j].age == expected[j].age);
          CHECK(Bits(found[j].sum) == Bits(expected[j].sum));
          CHECK(Bits(found[j].distance) == Bits(expected[j].distance));
        }
        checked += n;
        const FeatureVector x = make(false);
        w.push(x, i);
        ref.push(x);
        ref.widest = std::max(ref.widest, std::min(x.dense.size(), x.present.size()));
        ref.any_sparse = ref.any_sparse || !x.sparse_index.empty();
      }
      CHECK(checked > 0);
      // A window loaded from a snapshot (its per-feature counts rebuilt) searches the same.
      std::string bytes;
      ByteWriter writer(&bytes);
      w.save(writer);
      neighbors::KnnWindow loaded(shape.capacity);
      ByteReader reader(bytes);
      REQUIRE(loaded.load(reader));
      for (int t = 0; t < 20; ++t) {
        const FeatureVector q = make(true);
        neighbors::Neighbor found[neighbors::kMaxNeighbors];
        const size_t n = loaded.search(q, p, shape.k, found);
        const auto expected = ref.search(q, p, shape.k);
        REQUIRE(n == expected.size());
        for (size_t j = 0; j < n; ++j) {
          CHECK(found[j].age == expected[j].age);
          CHECK(Bits(found[j].distance) == Bits(expected[j].distance));
        }
      }
    }
  }
}
