// Model sync without Kafka: the record format, ModelSync's bookkeeping fed records, and the
// Processor's mix of peer champions.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "model_sync.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/output.hpp"
#include "streamlearn/pipeline/processor.hpp"

using namespace streamlearn;
using namespace streamlearn::pipeline;

namespace {

ModelSyncRecord Record(std::string instance, uint64_t sequence, std::string pipeline = "p") {
  ModelSyncRecord r;
  r.instance = std::move(instance);
  r.pipeline = std::move(pipeline);
  r.sequence = sequence;
  r.events = 10 * sequence;
  r.champion.type = "logistic";
  r.champion.version = 3;
  r.champion.trained = 123;
  r.champion.classes = {"no", "yes"};
  r.champion.features = {"x1", "x2"};
  r.champion.learner = std::string("\0\1bytes", 7);
  return r;
}

struct CountingSink : JsonOutputSink {
  uint64_t predictions = 0;
  Status prediction(std::string_view, std::string_view) override {
    ++predictions;
    return Status::Ok();
  }
  Status dead_letter(const RawMessage&, std::string_view) override { return Status::Ok(); }
  Status drift(std::string_view, std::string_view) override { return Status::Ok(); }
};

// The seeded SEA stream as messages of `partitions` partitions (by entity), every event labelled.
std::vector<std::vector<RawMessage>> SeaByPartition(uint64_t events, int partitions, std::vector<std::string>* keys,
                                                    std::vector<std::string>* payloads) {
  SyntheticOptions o;
  o.events = events;
  o.seed = 9;
  o.invalid_share = 0;
  SyntheticSeaStream stream(o);
  std::string key, payload;
  bool valid = false;
  keys->reserve(events);
  payloads->reserve(events);
  while (stream.next(&key, &payload, &valid)) {
    keys->push_back(key);
    payloads->push_back(payload);
  }
  std::vector<std::vector<RawMessage>> out(static_cast<size_t>(partitions));
  for (size_t i = 0; i < keys->size(); ++i) {
    const auto p = static_cast<int32_t>(std::hash<std::string>{}((*keys)[i]) % static_cast<size_t>(partitions));
    out[static_cast<size_t>(p)].push_back(
        {{"events", p, static_cast<int64_t>(out[static_cast<size_t>(p)].size()), -1}, (*keys)[i], (*payloads)[i]});
  }
  return out;
}

PipelineConfig LogisticConfig() {
  PipelineConfig c;
  c.model.type = "logistic";
  return c;
}

}  // namespace

TEST_CASE("model sync: records round-trip and damaged ones are refused", "[model_sync]") {
  const ModelSyncRecord r = Record("a", 7);
  const std::string bytes = EncodeModelSyncRecord(r);
  auto back = DecodeModelSyncRecord(bytes);
  REQUIRE(back.ok());
  CHECK(back->instance == "a");
  CHECK(back->sequence == 7);
  CHECK(back->events == 70);
  CHECK(back->champion.classes == r.champion.classes);
  CHECK(back->champion.features == r.champion.features);
  CHECK(back->champion.learner == r.champion.learner);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x20;
  CHECK_FALSE(DecodeModelSyncRecord(flipped).ok());
  CHECK_FALSE(DecodeModelSyncRecord(bytes.substr(0, bytes.size() - 3)).ok());
  CHECK_FALSE(DecodeModelSyncRecord("").ok());
}

TEST_CASE("model sync: each peer's latest record is mixed once, own and foreign records never", "[model_sync]") {
  ModelSync sync("me", "p", 1);
  using R = ModelSync::Received;
  CHECK(sync.receive("me", EncodeModelSyncRecord(Record("me", 1))) == R::kOwn);
  CHECK(sync.receive("x", EncodeModelSyncRecord(Record("x", 1, "other pipeline"))) == R::kOtherPipeline);
  CHECK(sync.receive("y", "not a record") == R::kUndecodable);
  CHECK(sync.take_unmixed().empty());

  CHECK(sync.receive("a", EncodeModelSyncRecord(Record("a", 1))) == R::kNew);
  CHECK(sync.receive("a", EncodeModelSyncRecord(Record("a", 2))) == R::kNew);  // replaces 1
  CHECK(sync.receive("b", EncodeModelSyncRecord(Record("b", 5))) == R::kNew);
  auto first = sync.take_unmixed();
  REQUIRE(first.size() == 2);
  CHECK(first[0]->instance == "a");
  CHECK(first[0]->sequence == 2);
  CHECK(first[1]->instance == "b");
  CHECK(sync.peers() == 2);

  // Nothing new: nothing to mix (a peer that stopped publishing stops contributing).
  CHECK(sync.receive("b", EncodeModelSyncRecord(Record("b", 5))) == R::kSame);
  CHECK(sync.take_unmixed().empty());
  // A restarted peer starts another sequence: new again.
  CHECK(sync.receive("b", EncodeModelSyncRecord(Record("b", 900))) == R::kNew);
  auto second = sync.take_unmixed();
  REQUIRE(second.size() == 1);
  CHECK(second[0]->sequence == 900);

  const ModelSyncRecord mine = sync.publication(ChampionModel{}, 42);
  CHECK(mine.instance == "me");
  CHECK(mine.pipeline == "p");
  CHECK(mine.events == 42);
  CHECK(sync.publication(ChampionModel{}, 0).sequence == mine.sequence + 1);
}

TEST_CASE("model sync: the fingerprint separates pipelines of other models or settings", "[model_sync]") {
  PipelineConfig a = LogisticConfig(), b = LogisticConfig(), c = LogisticConfig();
  b.model.learning_rate = 0.5;
  c.model.name = "other";
  CHECK(PipelineFingerprint(a) == PipelineFingerprint(LogisticConfig()));
  CHECK(PipelineFingerprint(a) != PipelineFingerprint(b));
  CHECK(PipelineFingerprint(a) != PipelineFingerprint(c));
}

TEST_CASE("model sync: processors on disjoint partitions mix, counts stay their own",
          "[model_sync]") {
  std::vector<std::string> keys, payloads;
  const auto parts = SeaByPartition(8000, 2, &keys, &payloads);
  auto a = Processor::Create(LogisticConfig(), nullptr, nullptr);
  auto b = Processor::Create(LogisticConfig(), nullptr, nullptr);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CountingSink sink;
  REQUIRE((*a)->process(parts[0], sink).ok());
  REQUIRE((*b)->process(parts[1], sink).ok());
  const ChampionModel before = (*a)->champion_model();
  const ChampionModel peer = (*b)->champion_model();
  CHECK(before.features == peer.features);

  // Weight 0 and a copy of itself change nothing.
  const WeightedChampion none[] = {{&peer, 0.0}};
  REQUIRE((*a)->mix_champion(1.0, none).ok());
  const WeightedChampion self[] = {{&before, 100.0}};
  REQUIRE((*a)->mix_champion(100.0, self).ok());
  CHECK((*a)->champion_model().learner == before.learner);

  const WeightedChampion both[] = {{&peer, static_cast<double>(peer.trained)}};
  REQUIRE((*a)->mix_champion(static_cast<double>(before.trained), both).ok());
  const ChampionModel mixed = (*a)->champion_model();
  CHECK(mixed.learner != before.learner);
  CHECK(mixed.trained == before.trained);  // the sum over instances stays the labelled count
  CHECK(mixed.trained + peer.trained == keys.size());

  // Another type, or features indexed otherwise, is refused and nothing changes.
  ChampionModel tree = peer;
  tree.type = "hoeffding_tree";
  const WeightedChampion other_type[] = {{&tree, 5.0}};
  CHECK((*a)->mix_champion(1.0, other_type).code() == ErrorCode::kFailedPrecondition);
  ChampionModel reordered = peer;
  std::swap(reordered.features.front(), reordered.features.back());
  const WeightedChampion other_order[] = {{&reordered, 5.0}};
  CHECK((*a)->mix_champion(1.0, other_order).code() == ErrorCode::kFailedPrecondition);
  CHECK((*a)->champion_model().learner == mixed.learner);
}

TEST_CASE("model sync: a family that does not mix says so and keeps its model", "[model_sync]") {
  PipelineConfig c;
  c.model.type = "knn";
  auto a = Processor::Create(c, nullptr, nullptr);
  REQUIRE(a.ok());
  const ChampionModel own = (*a)->champion_model();
  const WeightedChampion peer[] = {{&own, 3.0}};
  const Status st = (*a)->mix_champion(1.0, peer);
  CHECK(st.code() == ErrorCode::kUnimplemented);
  CHECK(st.message().find("knn") != std::string::npos);
  // Asked with no peers (what the sync does before publishing): the same answer, and a
  // linear champion says it mixes.
  CHECK((*a)->mix_champion(0, {}).code() == ErrorCode::kUnimplemented);
  auto linear = Processor::Create(LogisticConfig(), nullptr, nullptr);
  REQUIRE(linear.ok());
  CHECK((*linear)->mix_champion(0, {}).ok());
}

TEST_CASE("model sync: the scale keys are read, off by default, and a bad value names its key", "[model_sync]") {
  const Environment none = [](const char*) -> const char* { return nullptr; };
  auto defaults = ParseConfig("model: {type: logistic}\n", "p.yaml", none);
  REQUIRE(defaults.ok());
  CHECK_FALSE(defaults->sync.enabled);
  CHECK(defaults->sync.topic.empty());
  auto on = ParseConfig("scale:\n  model_sync: true\n  model_sync_topic: shared\n  instance_id: node-1\n", "p.yaml", none);
  REQUIRE(on.ok());
  CHECK(on->sync.enabled);
  CHECK(on->sync.topic == "shared");
  CHECK(on->sync.instance_id == "node-1");
  auto bad = ParseConfig("scale:\n  model_sync: maybe\n", "p.yaml", none);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("scale.model_sync") != std::string::npos);
  const Environment env = [](const char* name) -> const char* {
    return std::string_view(name) == "STREAMLEARN_SCALE_MODEL_SYNC" ? "true" : nullptr;
  };
  auto from_env = ParseConfig("model: {type: logistic}\n", "p.yaml", env);
  REQUIRE(from_env.ok());
  CHECK(from_env->sync.enabled);
}

namespace {

ModelSyncRecord Versioned(std::string instance, uint64_t sequence, uint64_t version, std::string origin,
                          uint64_t trained = 100) {
  ModelSyncRecord r = Record(std::move(instance), sequence);
  r.champion.version = version;
  r.champion.trained = trained;
  r.origin = std::move(origin);
  r.cause = r.origin.empty() ? "drift" : "rollback";
  return r;
}

}  // namespace

TEST_CASE("model sync: versions are agreed: a newer one is taken, only the same one mixes", "[model_sync]") {
  // Newer: a higher number; for one number, the smaller origin (a drift reset's "" first).
  CHECK(Supersedes({4, "b", ""}, {3, "", ""}));
  CHECK(Supersedes({3, "", ""}, {3, "a", ""}));
  CHECK(Supersedes({3, "a", ""}, {3, "b", ""}));
  CHECK_FALSE(Supersedes({3, "b", ""}, {3, "b", ""}));

  ModelSync sync("me", "p", 1);
  sync.observe_own(2, "start");
  // A restored version takes the identity a peer gives the same number.
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 1, 2, "z")));
  auto plan = sync.plan();
  CHECK(plan.adopt == nullptr);
  REQUIRE(plan.mix.size() == 1);
  CHECK(sync.version().origin == "z");

  // A drift reset here: origin "", any instance's reset of version 2 is the same version 3.
  sync.observe_own(3, "drift");
  CHECK(sync.version().number == 3);
  CHECK(sync.version().origin.empty());
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 2, 2, "z")));   // not reset yet: dropped
  sync.receive("b", EncodeModelSyncRecord(Versioned("b", 1, 3, "")));    // reset too: mixed
  plan = sync.plan();
  CHECK(plan.adopt == nullptr);
  CHECK(plan.stale == 1);
  REQUIRE(plan.mix.size() == 1);
  CHECK(plan.mix[0]->instance == "b");
  CHECK(sync.publication(ChampionModel{}, 0).origin.empty());

  // A rollback on two peers at once, both to version 4: the smaller origin wins, and the
  // peer that made the losing one takes it too (it sees the winner's record as newer).
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 3, 4, "a", 50)));
  sync.receive("b", EncodeModelSyncRecord(Versioned("b", 2, 4, "b", 900)));
  plan = sync.plan();
  REQUIRE(plan.adopt != nullptr);
  CHECK(plan.adopt->instance == "a");
  CHECK(plan.mix.empty());
  CHECK(plan.stale == 1);
  sync.adopted(*plan.adopt);
  CHECK(sync.version().number == 4);
  CHECK(sync.version().origin == "a");
  const ModelSyncRecord mine = sync.publication(ChampionModel{}, 0);
  CHECK(mine.origin == "a");
  CHECK(mine.cause == "rollback");
  ModelSync loser("b", "p", 1);
  loser.observe_own(4, "rollback");
  CHECK(loser.version().origin == "");  // the first observation: provisional
  loser.observe_own(5, "rollback");
  CHECK(loser.version().origin == "b");
  loser.receive("me", EncodeModelSyncRecord(Versioned("me", 7, 5, "a")));
  auto lost = loser.plan();
  REQUIRE(lost.adopt != nullptr);
  CHECK(lost.adopt->instance == "me");
}

TEST_CASE("model sync: summed updates see every record in order, and only those after an adoption",
          "[model_sync]") {
  ModelSync sync("me", "p", 1, /*every_record=*/true);
  sync.observe_own(1, "start");
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 1, 1, "")));
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 2, 1, "")));
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 2, 1, "")));  // the same record again
  sync.receive("b", EncodeModelSyncRecord(Versioned("b", 1, 1, "")));
  auto plan = sync.plan();
  CHECK(plan.adopt == nullptr);
  REQUIRE(plan.mix.size() == 3);
  CHECK(plan.mix[0]->sequence == 1);
  CHECK(plan.mix[1]->sequence == 2);
  CHECK(plan.mix[2]->instance == "b");
  CHECK(sync.plan().mix.empty());

  // b resets: its record of version 2 is taken whole; a's update of version 2 published
  // before it is in b's model as far as anyone can tell, a's after it is added.
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 3, 2, "", 200)));
  sync.receive("b", EncodeModelSyncRecord(Versioned("b", 2, 2, "", 300)));
  sync.receive("a", EncodeModelSyncRecord(Versioned("a", 4, 2, "", 210)));
  sync.receive("b", EncodeModelSyncRecord(Versioned("b", 3, 1, "", 50)));  // stale
  plan = sync.plan();
  REQUIRE(plan.adopt != nullptr);
  CHECK(plan.adopt->instance == "b");
  REQUIRE(plan.mix.size() == 1);
  CHECK(plan.mix[0]->sequence == 4);
  CHECK(plan.stale == 2);
}

TEST_CASE("model sync: a processor takes a peer's newer version whole and adds peers' updates",
          "[model_sync]") {
  std::vector<std::string> keys, payloads;
  const auto parts = SeaByPartition(6000, 2, &keys, &payloads);
  auto a = Processor::Create(LogisticConfig(), nullptr, nullptr);
  auto b = Processor::Create(LogisticConfig(), nullptr, nullptr);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CountingSink sink;
  REQUIRE((*a)->process(parts[0], sink).ok());
  REQUIRE((*b)->process(parts[1], sink).ok());
  const uint64_t own_trained = (*a)->champion_model_trained();
  ChampionModel peer = (*b)->champion_model();
  peer.version = 7;
  REQUIRE((*a)->adopt_champion(peer).ok());
  CHECK((*a)->champion_version().number == 7);
  CHECK((*a)->champion_version().cause == "adopted");
  CHECK((*a)->champion_model_trained() == own_trained);  // its own count, as with a mix
  CHECK((*a)->stats().model_version == 7);
  // The peer's model, to rounding: mixing it in again moves nothing visible.
  const ChampionModel taken = (*a)->champion_model();
  CHECK(taken.learner.size() == peer.learner.size());

  // A zero update (now == base) leaves every bit; a real one changes the model.
  REQUIRE((*a)->add_champion_update(peer, peer.learner).ok());
  CHECK((*a)->champion_model().learner == taken.learner);
  const ChampionModel before_learning = (*b)->champion_model();
  REQUIRE((*b)->process(parts[0], sink).ok());
  REQUIRE((*a)->add_champion_update((*b)->champion_model(), before_learning.learner).ok());
  CHECK((*a)->champion_model().learner != taken.learner);

  // Features indexed otherwise are refused, nothing changed.
  ChampionModel reordered = peer;
  std::swap(reordered.features.front(), reordered.features.back());
  const std::string kept = (*a)->champion_model().learner;
  CHECK((*a)->adopt_champion(reordered).code() == ErrorCode::kFailedPrecondition);
  CHECK((*a)->add_champion_update(reordered, reordered.learner).code() == ErrorCode::kFailedPrecondition);
  CHECK((*a)->champion_model().learner == kept);
  CHECK((*a)->champion_version().number == 7);
}

TEST_CASE("model sync: scale.model_sync_mix chooses averaging (the default) or summed updates", "[model_sync]") {
  const Environment none = [](const char*) -> const char* { return nullptr; };
  auto defaults = ParseConfig("model: {type: logistic}\n", "p.yaml", none);
  REQUIRE(defaults.ok());
  CHECK(defaults->sync.mix == ModelSyncMix::kAverage);
  auto updates = ParseConfig("scale:\n  model_sync_mix: updates\n", "p.yaml", none);
  REQUIRE(updates.ok());
  CHECK(updates->sync.mix == ModelSyncMix::kUpdates);
  auto bad = ParseConfig("scale:\n  model_sync_mix: median\n", "p.yaml", none);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("scale.model_sync_mix") != std::string::npos);
}

TEST_CASE("model sync: an idle instance hears its peer's record and takes it, and learning nothing, it publishes nothing",
          "[model_sync][kafka]") {
  auto broker = kafka::EmbeddedBroker::Start();
  REQUIRE(broker.ok());
  const kafka::Properties client = {{"bootstrap.servers", (*broker)->bootstrap_servers()}};
  PipelineConfig config = LogisticConfig();
  config.kafka.group_id = "g";
  config.sync.enabled = true;
  config.sync.mix = ModelSyncMix::kUpdates;
  REQUIRE((*broker)->create_topic("g.model-sync", 1).ok());
  std::vector<std::string> keys, payloads;
  const auto parts = SeaByPartition(4000, 2, &keys, &payloads);
  struct Instance {
    std::unique_ptr<Processor> processor;
    std::unique_ptr<kafka::Producer> producer;
    std::unique_ptr<ModelSyncLink> link;
  };
  auto start = [&](const std::string& id) {
    PipelineConfig c = config;
    c.sync.instance_id = id;
    Instance i;
    auto processor = Processor::Create(c, nullptr, nullptr);
    auto producer = kafka::Producer::Create({{"bootstrap.servers", (*broker)->bootstrap_servers()}, {"linger.ms", "1"}});
    REQUIRE(processor.ok());
    REQUIRE(producer.ok());
    i.processor = std::move(processor).value();
    i.producer = std::move(producer).value();
    auto link = ModelSyncLink::Create(c, *i.producer, client, nullptr);
    REQUIRE(link.ok());
    i.link = std::move(link).value();
    return i;
  };
  // A checkpoint as the runner makes it: the mix, then (after the write) the publication.
  auto checkpoint = [](Instance& i) {
    i.link->before_checkpoint(*i.processor);
    i.link->after_checkpoint(*i.processor);
    REQUIRE(i.producer->flush(10000).ok());
  };
  // Every wait has a deadline: what arrives on the embedded broker arrives within it.
  auto hears = [](Instance& i) {
    for (int tries = 0; tries < 100; ++tries) {
      if (i.link->peers_published()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  Instance a = start("a");
  Instance b = start("b");
  CountingSink sink;
  for (Instance* i : {&a, &b}) i->link->before_checkpoint(*i->processor);  // the first: where learning starts
  REQUIRE(a.processor->process(parts[0], sink).ok());
  checkpoint(a);
  REQUIRE(hears(b));
  REQUIRE(b.processor->process(parts[1], sink).ok());
  checkpoint(b);  // takes a's record, publishes its own
  CHECK_FALSE(b.link->peers_published());  // a's record is taken

  // a learned nothing since: its peer's record alone makes it checkpoint, and changes its model.
  REQUIRE(hears(a));
  const std::string idle = a.processor->champion_model().learner;
  const uint64_t trained = a.processor->champion_model_trained();
  checkpoint(a);
  CHECK(a.processor->champion_model().learner != idle);
  CHECK(a.processor->champion_model_trained() == trained);  // b's events stay b's count
  CHECK_FALSE(a.link->peers_published());
  // ... and publishes nothing: b hears nothing new (given the time a record takes above).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK_FALSE(b.link->peers_published());
  for (Instance* i : {&a, &b}) i->link.reset();  // the readers close before the broker
}
