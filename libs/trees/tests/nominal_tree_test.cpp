// The Hoeffding tree with nominal attributes (nominal_attributes: multiway, fed by the
// feature builder's nominals): multiway and binary nominal splits, a new branch for a value
// first seen after the split, snapshots (version 2, and version 1 still loading).
//
// River parity: River's HoeffdingTreeClassifier docstring runs on synth.Agrawal with its own
// random.Random draws; eval's agrawal generator draws from its own generator, not River's,
// so that printed accuracy cannot be reproduced. Instead: Agrawal's function 2 (age bands
// and elevel) with elevel, car and zipcode as strings, a noise-free rule.

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "hoeffding_tree.hpp"
#include "streamlearn/features/features.hpp"
#include "tree_test_support.hpp"

using namespace streamlearn;
using testing::MakeTreeLearner;

namespace {

// Agrawal's function 2: age < 40: elevel 0-1; age < 60: elevel 1-3; else elevel 2-4.
int Function2(double age, int elevel) {
  if (age < 40) return elevel <= 1;
  if (age < 60) return elevel >= 1 && elevel <= 3;
  return elevel >= 2;
}

// eval's agrawal events through the feature builder (nominals on, no entity features):
// salary, commission, age, hvalue, hyears, loan dense; elevel ("e0".."e4"), car, zipcode
// categorical; labelled by function 2.
std::vector<testing::LearnerExample> AgrawalNominalStream(uint64_t events, uint64_t seed) {
  eval::StreamOptions options;
  options.events = events;
  options.seed = seed;
  options.concepts = 1;
  auto gen = eval::MakeStream("agrawal", options);
  REQUIRE(gen.ok());
  auto config = features::FeatureConfig::Parse({{"nominals", "true"}, {"entity_aggregates", "false"}});
  REQUIRE(config.ok());
  features::FeatureDictionary dict;
  features::FeatureBuilder builder(*config, &dict);
  std::vector<testing::LearnerExample> out;
  eval::GeneratedEvent g;
  while ((*gen)->next(&g)) {
    Event e;
    double age = 0;
    int elevel = 0;
    for (const auto& f : g.numeric) {
      if (f.name == "elevel") {
        elevel = static_cast<int>(f.value);
        e.categorical.push_back({"elevel", "e" + std::to_string(elevel)});
        continue;
      }
      if (f.name == "age") age = f.value;
      e.numeric.push_back({f.name, f.value});
    }
    for (const auto& c : g.categorical) e.categorical.push_back({c.name, c.value});
    testing::LearnerExample ex;
    builder.build(e, &ex.x);
    builder.update(e);
    ex.y = Function2(age, elevel);
    out.push_back(std::move(ex));
  }
  return out;
}

const trees::HoeffdingTreeLearner& AsTree(const learn::Learner& l) {
  return dynamic_cast<const trees::HoeffdingTreeLearner&>(l);
}

std::string Saved(const learn::Learner& l) {
  std::string bytes;
  ByteWriter w(&bytes);
  l.save(w);
  return bytes;
}

// One nominal attribute (field 0) and one hashed copy, value v.
FeatureVector Nominal(uint32_t v) {
  FeatureVector x;
  x.nominal_field = {0};
  x.nominal_value = {v};
  x.sparse_index = {100 + v};
  x.sparse_value = {1.0f};
  return x;
}

}  // namespace

TEST_CASE("nominal: multiway splits learn Agrawal function 2 with string fields above 99%, beating hashed buckets",
          "[trees][hoeffding_tree][nominal]") {
  const auto stream = AgrawalNominalStream(20000, 7);
  auto multiway = MakeTreeLearner("hoeffding_tree");
  auto hashed = MakeTreeLearner("hoeffding_tree", {{"nominal_attributes", "hashed"}});
  const auto m = testing::TestThenTrain(*multiway, stream, 10000);
  const auto h = testing::TestThenTrain(*hashed, stream, 10000);
  const auto m_all = testing::TestThenTrain(*MakeTreeLearner("hoeffding_tree"), stream);
  const auto h_all = testing::TestThenTrain(*MakeTreeLearner("hoeffding_tree", {{"nominal_attributes", "hashed"}}), stream);
  std::printf("agrawal f2, elevel/car/zipcode nominal, 20000 events: multiway %.4f (last 10000 %.4f), hashed %.4f "
              "(last 10000 %.4f)\n",
              m_all.accuracy(), m.accuracy(), h_all.accuracy(), h.accuracy());
  INFO(testing::Described(*multiway));
  CHECK(m.accuracy() > 0.99);
  CHECK(m_all.accuracy() > h_all.accuracy());
  CHECK(m.accuracy() >= h.accuracy());
  const std::string d = testing::Described(*multiway);
  CHECK(d.find(R"("nominal":"multiway")") != std::string::npos);
  CHECK(d.find(R"("bucket":)") == std::string::npos);  // the hashed copies are not attributes
}

TEST_CASE("nominal: a value first seen after a multiway split grows its own branch", "[trees][hoeffding_tree][nominal]") {
  auto made = MakeTreeLearner("hoeffding_tree", {{"grace_period", "50"}, {"leaf_prediction", "mc"}});
  auto& tree = const_cast<trees::HoeffdingTreeLearner&>(AsTree(*made));
  // Values 0 and 1 are class 0, value 2 class 1: one split on field 0, three branches.
  for (int i = 0; i < 600; ++i) {
    const uint32_t v = static_cast<uint32_t>(i % 3);
    tree.learn(Nominal(v), v == 2 ? 1 : 0, 1);
  }
  REQUIRE(tree.splits() == 1);
  CHECK(tree.leaves() == 3);
  learn::Prediction p;
  tree.predict(Nominal(2), p);
  CHECK(p.class_index == 1);
  tree.predict(Nominal(0), p);
  CHECK(p.class_index == 0);
  // Value 3, unseen: predicted by the most traversed branch (0 and 1 have 200 each, the
  // first of them wins: class 0); learned into a new leaf of its own.
  tree.predict(Nominal(3), p);
  CHECK(p.class_index == 0);
  for (int i = 0; i < 30; ++i) tree.learn(Nominal(3), 1, 1);
  CHECK(tree.leaves() == 4);
  CHECK(tree.splits() == 1);
  tree.predict(Nominal(3), p);
  CHECK(p.class_index == 1);
  // Missing field: the most traversed branch.
  tree.predict(FeatureVector{}, p);
  CHECK(p.class_index == 0);

  SECTION("its snapshot round-trips (version 2)") {
    const std::string bytes = Saved(tree);
    ByteReader r(bytes);
    auto restored = learn::RestoreLearner(r);
    REQUIRE(restored.ok());
    CHECK(Saved(**restored) == bytes);
    (*restored)->predict(Nominal(3), p);
    CHECK(p.class_index == 1);
    // Damaged tails are refused.
    for (size_t cut : {size_t{1}, size_t{9}, size_t{40}}) {
      std::string broken = bytes.substr(0, bytes.size() - cut);
      ByteReader rb(broken);
      CHECK_FALSE(learn::RestoreLearner(rb).ok());
    }
  }
}

TEST_CASE("nominal: a binary nominal split where the multiway one has too little weight per branch",
          "[trees][hoeffding_tree][nominal]") {
  // Value 0 in 30% of events (class 1), values 3..9 in 10% each (class 0). With
  // min_branch_fraction 0.2 the multiway split has one branch above the fraction (merit
  // -inf); value == 0 against the rest (30% / 70%) is valid and wins.
  auto made = MakeTreeLearner("hoeffding_tree", {{"grace_period", "100"}, {"min_branch_fraction", "0.2"}});
  auto& tree = const_cast<trees::HoeffdingTreeLearner&>(AsTree(*made));
  const auto value = [](int i) { return static_cast<uint32_t>(i % 10 < 3 ? 0 : i % 10); };
  for (int i = 0; i < 2000; ++i) tree.learn(Nominal(value(i)), value(i) == 0 ? 1 : 0, 1);
  REQUIRE(tree.splits() == 1);
  const std::string d = testing::Described(tree);
  INFO(d);
  CHECK(d.find(R"("nominal":"binary")") != std::string::npos);
  learn::Prediction p;
  for (uint32_t v : {0u, 3u, 9u, 42u}) {
    tree.predict(Nominal(v), p);
    CHECK(p.class_index == (v == 0 ? 1 : 0));
  }
}

TEST_CASE("nominal: version-1 snapshots (before nominals) still load", "[trees][hoeffding_tree][nominal]") {
  testing::RegisterTrees();
  for (const char* name : {"valid-hoeffding_tree-trained.bin", "valid-hoeffding_tree_multiclass-trained.bin",
                           "valid-hoeffding_tree-untrained.bin"}) {
    INFO(name);
    std::ifstream in(std::string(STREAMLEARN_FUZZ_CORPUS) + "/learner_snapshot/" + name, std::ios::binary);
    REQUIRE(in.good());
    // The fuzz corpus keeps snapshots unsealed: kind tag, version, payload.
    const std::string unsealed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(unsealed.size() > 8);
    uint32_t version = 0;
    std::memcpy(&version, unsealed.data() + 4, 4);
    CHECK(version == 1);
    const std::string bytes = SealSnapshot(std::string_view(unsealed).substr(0, 4), version,
                                           std::string_view(unsealed).substr(8));
    ByteReader r(bytes);
    auto restored = learn::RestoreLearner(r);
    INFO(restored.status().message());
    REQUIRE(restored.ok());
    // And into a learner made with nominal_attributes: hashed (version 1 holds no setting).
    auto hashed = MakeTreeLearner((*restored)->type(), {{"nominal_attributes", "hashed"}});
    ByteReader r2(bytes);
    const Status st = hashed->load(r2);
    INFO(st.message());
    CHECK(st.ok());
    // Saved again, as version 2, it loads as well.
    const std::string again = Saved(**restored);
    ByteReader r3(again);
    CHECK(learn::RestoreLearner(r3).ok());
  }
}

TEST_CASE("nominal: the learner contract holds with both settings", "[trees][hoeffding_tree][nominal]") {
  testing::CheckLearnerContract([] { return MakeTreeLearner("hoeffding_tree"); });
  testing::CheckLearnerContract([] { return MakeTreeLearner("hoeffding_tree", {{"nominal_attributes", "hashed"}}); });
}
