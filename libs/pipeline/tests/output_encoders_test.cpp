// One encoder per wire format: exact bytes where they are pinned, and every output checked
// against its schema by the contract tests' validator (Debian's python3 with jsonschema).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "output_encoders.hpp"
#include "streamlearn/core/json_text.hpp"
#include "streamlearn/core/json_writer.hpp"
#include "streamlearn/drift/data_drift.hpp"
#include "streamlearn/pipeline/slices.hpp"
#include "streamlearn/testing/allocation_counter.hpp"  // this binary's one copy

using namespace streamlearn;
using namespace streamlearn::pipeline;
namespace fs = std::filesystem;

namespace {

// Runs tests/contracts/validate_json.py on `lines` against schemas/<schema>.schema.json:
// its exit status (0: every line valid; 1: some invalid; 2: the validator cannot run).
int Validate(const std::string& schema, const std::vector<std::string>& lines) {
  const fs::path file = fs::temp_directory_path() / ("sl-encoders-" + std::to_string(std::random_device{}()) + ".jsonl");
  {
    std::ofstream out(file);
    for (const auto& line : lines) out << line << "\n";
  }
  const std::string root = STREAMLEARN_SOURCE_DIR;
  const std::string command = "/usr/bin/python3 " + root + "/tests/contracts/validate_json.py " + root + "/schemas/" +
                              schema + ".schema.json " + file.string() + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  fs::remove(file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

PredictionRecord Binary() {
  PredictionRecord r;
  r.id = "e-25";
  r.entity = "u23";
  r.model = "logreg";
  r.version = 1;
  r.score = 0.4811765409767383;
  r.class_field = PredictionRecord::ClassField::kIndex;
  r.class_index = 0;
  r.ts_ms = 1700000000250;
  r.latency_us = 12;
  return r;
}

}  // namespace

TEST_CASE("prediction encoder: today's bytes, schema-valid, no allocation per event", "[encoders]") {
  PredictionEncoder encoder;
  std::string out;
  encoder.encode(Binary(), out);
  CHECK(out ==
        R"({"id":"e-25","entity":"u23","model":"logreg","version":1,"score":0.4811765409767383,"class":0,"ts":1700000000250,"latency_us":12})");

  std::vector<std::string> lines = {out};
  PredictionRecord multiclass = Binary();
  multiclass.class_field = PredictionRecord::ClassField::kName;
  multiclass.class_name = "spam \"quoted\"";
  multiclass.score = 1e-5;
  out.clear();
  encoder.encode(multiclass, out);
  CHECK(out.find(R"("score":1e-05,"class":"spam \"quoted\"")") != std::string::npos);
  lines.push_back(out);
  PredictionRecord unknown = multiclass;
  unknown.class_field = PredictionRecord::ClassField::kNull;
  unknown.model = "other model";
  out.clear();
  encoder.encode(unknown, out);
  CHECK(out.find(R"("model":"other model","version":1,"score":1e-05,"class":null,)") != std::string::npos);
  lines.push_back(out);
  PredictionRecord regression = Binary();
  regression.class_field = PredictionRecord::ClassField::kNone;
  regression.score = -1234.5;
  out.clear();
  encoder.encode(regression, out);
  CHECK(out.find(R"("score":-1234.5,"ts":)") != std::string::npos);
  lines.push_back(out);
  CHECK(Validate("prediction", lines) == 0);

  // Warm, then 1000 events: nothing allocated.
  out.reserve(512);
  PredictionRecord r = Binary();
  const uint64_t before = testing::Allocations();
  for (int i = 0; i < 1000; ++i) {
    r.score = i / 1000.0;
    r.ts_ms = i;
    out.clear();
    encoder.encode(r, out);
  }
  CHECK(testing::Allocations() == before);
}

TEST_CASE("prediction encoder: strings escaped as AppendJsonString, appended after what out holds", "[encoders]") {
  // The encoder writes into space it reserved: every escape, and each optional field, must
  // come out as the appending writers make them.
  const std::string nasty = std::string("a\"b\\c\n\r\t") + '\x01' + '\x1f' + "\xc3\xa9 z";
  PredictionRecord r = Binary();
  r.id = nasty;
  r.entity = "";  // omitted
  r.candidate = nasty;
  r.class_field = PredictionRecord::ClassField::kName;
  r.class_name = nasty;
  r.score = std::numeric_limits<double>::infinity();
  r.version = std::numeric_limits<uint64_t>::max();
  r.ts_ms = std::numeric_limits<int64_t>::min();
  r.latency_us = -1;
  std::string quoted;
  AppendJsonString(quoted, nasty);
  const std::string expected = "prefix{\"id\":" + quoted + R"(,"model":"logreg","version":18446744073709551615,"candidate":)" +
                               quoted + R"(,"score":null,"class":)" + quoted +
                               R"(,"ts":-9223372036854775808,"latency_us":-1})";
  PredictionEncoder encoder;
  std::string out = "prefix";
  encoder.encode(r, out);
  CHECK(out == expected);
  CHECK(quoted == R"("a\"b\\c\n\r\t\u0001\u001f)" "\xc3\xa9" R"( z")");
}

TEST_CASE("prediction encoder: the shortcuts write what the appending writers write", "[encoders]") {
  // Strings are copied unchecked 8 bytes at a time and redone when a word needs an escape,
  // the header (model, version, candidate) is kept while they stay, the timestamp's leading
  // digits while they stay: each must give the bytes written from scratch.
  auto expected = [](const PredictionRecord& r) {
    std::string out = R"({"id":)";
    AppendJsonString(out, r.id);
    if (!r.entity.empty()) {
      out += R"(,"entity":)";
      AppendJsonString(out, r.entity);
    }
    out += R"(,"model":)";
    AppendJsonString(out, r.model);
    out += R"(,"version":)" + std::to_string(r.version);
    if (!r.candidate.empty()) {
      out += R"(,"candidate":)";
      AppendJsonString(out, r.candidate);
    }
    out += R"(,"score":)";
    AppendJsonDouble(out, r.score);  // json_writer.hpp
    out += R"(,"class":0,"ts":)" + std::to_string(r.ts_ms) + R"(,"latency_us":)" + std::to_string(r.latency_us) + "}";
    return out;
  };
  PredictionEncoder encoder;
  PredictionRecord r = Binary();
  // Every length to 40, with nothing to escape and with each escaped byte at each place.
  for (size_t n = 0; n <= 40; ++n) {
    std::string plain;
    for (size_t i = 0; i < n; ++i) plain.push_back(static_cast<char>('a' + i % 26 - (i % 5 == 4 ? 32 : 0)));
    plain += n % 3 == 0 ? "" : "\xc3\xa9";  // bytes above 0x7f are copied as they are
    r.id = plain;
    r.entity = plain;
    CHECK(std::string(encoder.encode(r)) == expected(r));
    for (size_t at = 0; at < n; ++at) {
      for (const char bad : {'"', '\\', '\n', '\x01', '\x1f'}) {
        std::string escaped = plain;
        escaped[at] = bad;
        r.id = escaped;
        r.entity = at % 2 == 0 ? std::string_view(plain) : std::string_view(escaped);
        CHECK(std::string(encoder.encode(r)) == expected(r));
      }
    }
  }
  r = Binary();
  // Bytes just above and below the escaped ones, in a word and in the tail.
  const std::string edges = std::string("\x20\x21\x23\x5b\x5d\x7f\x80\xff") + "\x20!#[]\x7f";
  r.id = edges;
  CHECK(std::string(encoder.encode(r)) == expected(r));
  // The header follows the model, the version and the candidate, and back.
  for (const std::string_view model : {"logreg", "logreg", "other \"model\"", "a-model-with-a-name-longer-than-the-header-buffer-of-64-bytes", "logreg"}) {
    for (const uint64_t version : {uint64_t{1}, uint64_t{2}, uint64_t{2}, std::numeric_limits<uint64_t>::max()}) {
      for (const std::string_view candidate : {"", "arf", "", "hoeffding"}) {
        r.model = model;
        r.version = version;
        r.candidate = candidate;
        CHECK(std::string(encoder.encode(r)) == expected(r));
      }
    }
  }
  r = Binary();
  // Timestamps around the kept leading digits, and those without any.
  for (const int64_t ts : {int64_t{1700000000250}, int64_t{1700000009999}, int64_t{1700000010000}, int64_t{1700000000000},
                           int64_t{1699999999999}, int64_t{0}, int64_t{9999}, int64_t{10000}, int64_t{10001}, int64_t{-1},
                           int64_t{-10000}, int64_t{-10001}, int64_t{20000}, int64_t{1700000000250},
                           std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), int64_t{1700000000250}}) {
    r.ts_ms = ts;
    CHECK(std::string(encoder.encode(r)) == expected(r));
  }
  // Latencies around each digit count.
  for (int64_t latency = 0; latency < std::numeric_limits<int64_t>::max() / 10; latency = latency * 10 + 9) {
    for (const int64_t l : {latency, latency + 1, latency + 2}) {
      r.latency_us = l;
      CHECK(std::string(encoder.encode(r)) == expected(r));
    }
  }
  r.latency_us = -5;
  CHECK(std::string(encoder.encode(r)) == expected(r));
}

TEST_CASE("the validator runs and rejects what breaks the schema", "[encoders]") {
  // version 0 and a class 2 are not predictions: the check above could not pass vacuously.
  CHECK(Validate("prediction", {R"({"id":"e","entity":"u","model":"m","version":0,"score":1,"ts":0,"latency_us":0})"}) == 1);
  CHECK(Validate("drift", {R"({"type":"concept_drift","model":"m"})"}) == 1);
}

TEST_CASE("concept drift encoder: the golden bytes, schema-valid", "[encoders]") {
  const std::vector<std::pair<std::string, double>> stats = {{"width", 2450},
                                                             {"estimation", 0.13673469387755102},
                                                             {"nan", std::numeric_limits<double>::quiet_NaN()},
                                                             {"n_detections", 0}};
  ConceptDriftRecord r;
  r.model = "logreg";
  r.version = 1;
  r.detector = "adwin";
  r.level = "warning";
  r.events = 6199;
  r.ts_ms = 1700000062610;
  r.action = "background";
  r.event_id = "e-6261";
  r.stats = stats;
  r.error_before = 0.13638219681502653;
  r.error_after = 0.13673469387755102;
  r.background_trained = 0;
  std::string warning;
  EncodeConceptDrift(r, warning);
  CHECK(warning ==
        R"({"type":"concept_drift","model":"logreg","version":1,"detector":"adwin","level":"warning","events":6199,)"
        R"("ts":1700000062610,"action":"background","event_id":"e-6261","stats":{"width":2450,)"
        R"("estimation":0.13673469387755102,"n_detections":0,"error_before":0.13638219681502653,)"
        R"("error_after":0.13673469387755102,"background_trained":0}})");
  r.level = "drift";
  r.action = "reset";
  r.background_trained.reset();
  std::string drift;
  EncodeConceptDrift(r, drift);
  CHECK(drift.find(R"("error_after":0.13673469387755102}})") != std::string::npos);
  CHECK(Validate("drift", {warning, drift}) == 0);
}

TEST_CASE("data drift encoder: the golden bytes, schema-valid, null for what is undefined", "[encoders]") {
  drift::DataDriftEvent d;
  d.feature = "city";
  d.kind = drift::FeatureKind::kCategorical;
  d.detector = "psi";
  d.statistic = 1.2250805995968066;
  d.threshold = 0.25;
  d.observations = 1600;
  d.alarms = 1;
  d.reference_count = 500;
  d.current_count = 500;
  d.top_categories.push_back({"c6", 0, 0.04, 0.23905943542960845});
  d.stats = {{"psi", 1.2250805995968066}, {"threshold", 0.25}, {"epsilon", 0.0001}, {"bins", 11}, {"pooled", 0}};
  DataDriftRecord r;
  r.model = "logreg";
  r.alarm = &d;
  r.events = 1599;
  r.ts_ms = 1700000015990;
  r.event_id = "e-1599";
  std::string categorical;
  EncodeDataDrift(r, categorical);
  CHECK(categorical ==
        R"({"type":"data_drift","model":"logreg","feature":"city","kind":"categorical","detector":"psi",)"
        R"("statistic":1.2250805995968066,"threshold":0.25,"observations":1600,"alarms":1,"events":1599,)"
        R"("ts":1700000015990,"event_id":"e-1599","reference":{"count":500,"mean":0},"current":{"count":500,"mean":0},)"
        R"("top_categories":[{"category":"c6","reference_share":0,"current_share":0.04,"contribution":0.23905943542960845}],)"
        R"("stats":{"psi":1.2250805995968066,"threshold":0.25,"epsilon":0.0001,"bins":11,"pooled":0}})");
  drift::DataDriftEvent numeric;
  numeric.feature = "x1";
  numeric.detector = "kswin";
  numeric.statistic = std::numeric_limits<double>::quiet_NaN();
  numeric.threshold = 0.005;
  numeric.observations = 10;
  numeric.alarms = 2;
  numeric.reference_mean = std::numeric_limits<double>::infinity();
  numeric.stats = {{"p_value", std::numeric_limits<double>::quiet_NaN()}};
  r.alarm = &numeric;
  std::string undefined;
  EncodeDataDrift(r, undefined);
  CHECK(undefined.find(R"("statistic":null,"threshold":0.005,)") != std::string::npos);
  CHECK(undefined.find(R"("reference":{"count":0,"mean":null})") != std::string::npos);
  CHECK(undefined.find(R"("stats":{}})") != std::string::npos);
  CHECK(Validate("drift", {categorical, undefined}) == 0);
}

namespace {

// One row per model_change record: the record, its exact bytes when they are pinned, and
// whether the schema accepts it.
struct ModelChangeCase {
  const char* what;
  ModelChangeRecord record;
  const char* bytes;  // nullptr: not pinned
  bool valid;
};

ModelChangeRecord Change(std::string_view action, uint64_t version, uint64_t previous_version, uint64_t trained,
                         int64_t ts_ms) {
  ModelChangeRecord r;
  r.model = "logreg";
  r.action = action;
  r.version = version;
  r.previous_version = previous_version;
  r.trained = trained;
  r.ts_ms = ts_ms;
  return r;
}

}  // namespace

TEST_CASE("model change encoder: rollback, promote and adopt, schema-valid", "[encoders]") {
  ModelChangeRecord rollback = Change("rollback", 4, 3, 1200, 1700000090000);
  rollback.restored_version = 2;
  ModelChangeRecord promote = Change("promote", 5, 4, 30000, 1700000095000);
  promote.challenger = "fast \"one\"";
  // A version adopted from a peer names the peer.
  ModelChangeRecord adopt = Change("adopt", 3, 2, 5400, 1700000099000);
  adopt.peer = "host-b:/var/lib/streamlearn";
  adopt.cause = "drift";
  // Neither field (restored_version, challenger), or both, breaks the schema.
  ModelChangeRecord neither = rollback;
  neither.restored_version.reset();
  // Without its peer an adoption is refused; a rollback naming a peer too.
  ModelChangeRecord bare = adopt;
  bare.peer = {};
  ModelChangeRecord odd = Change("rollback", 4, 3, 0, 0);
  odd.restored_version = 2;
  odd.peer = "host-b:/x";
  const std::vector<ModelChangeCase> cases = {
      {"rollback", rollback,
       R"({"type":"model_change","model":"logreg","action":"rollback","version":4,"previous_version":3,)"
       R"("restored_version":2,"trained":1200,"ts":1700000090000})",
       true},
      {"promote", promote,
       R"({"type":"model_change","model":"logreg","action":"promote","version":5,"previous_version":4,)"
       R"("challenger":"fast \"one\"","trained":30000,"ts":1700000095000})",
       true},
      {"adopt", adopt,
       R"({"type":"model_change","model":"logreg","action":"adopt","version":3,"previous_version":2,)"
       R"("peer":"host-b:/var/lib/streamlearn","cause":"drift","trained":5400,"ts":1700000099000})",
       true},
      {"rollback without its restored version", neither, nullptr, false},
      {"adopt without its peer", bare, nullptr, false},
      {"rollback naming a peer", odd, nullptr, false},
  };
  std::vector<std::string> valid;
  for (const auto& c : cases) {
    INFO(c.what);
    std::string encoded;
    EncodeModelChange(c.record, encoded);
    if (c.bytes != nullptr) CHECK(encoded == c.bytes);
    if (c.valid) {
      valid.push_back(encoded);  // validated together: one validator run
    } else {
      CHECK(Validate("drift", {encoded}) == 1);
    }
  }
  CHECK(Validate("drift", valid) == 0);
}

TEST_CASE("JsonOutputSink hands each record on as its encoded text", "[encoders]") {
  struct Collect : JsonOutputSink {
    std::vector<std::string> texts;
    Status prediction(std::string_view entity, std::string_view json) override {
      texts.push_back(std::string(entity) + " " + std::string(json));
      return Status::Ok();
    }
    Status dead_letter(const RawMessage& m, std::string_view reason) override {
      texts.push_back(std::string(m.payload) + " | " + std::string(reason));
      return Status::Ok();
    }
    Status drift(std::string_view model, std::string_view json) override {
      texts.push_back(std::string(model) + " " + std::string(json));
      return Status::Ok();
    }
  } sink;
  OutputSink& out = sink;
  REQUIRE(out.write(Binary()).ok());
  ConceptDriftRecord c;
  c.model = "logreg";
  c.version = 2;
  c.detector = "ddm";
  c.level = "drift";
  c.action = "none";
  c.event_id = "e";
  REQUIRE(out.write(c).ok());
  REQUIRE(out.write(DeadLetterRecord{{{"events", 0, 3, 0}, "k", "not json"}, "bad"}).ok());
  REQUIRE(sink.texts.size() == 3);
  CHECK(sink.texts[0].rfind(R"(u23 {"id":"e-25")", 0) == 0);
  CHECK(sink.texts[1].rfind(R"(logreg {"type":"concept_drift","model":"logreg","version":2,"detector":"ddm")", 0) == 0);
  CHECK(sink.texts[2] == "not json | bad");
}

TEST_CASE("model switch encoder: the golden bytes, schema-valid, a prediction names its candidate", "[encoders][selection]") {
  ModelSwitchRecord r;
  r.model = "logreg";
  r.version = 2;
  r.from = "logreg";
  r.to = "tree";
  r.metric = "accuracy";
  r.from_value = 0.5;
  r.to_value = std::numeric_limits<double>::quiet_NaN();
  r.window = 1000;
  r.events = 12000;
  r.labelled = 11990;
  r.ts_ms = 1700000120000;
  r.event_id = "e-12000";
  std::string json;
  EncodeModelSwitch(r, json);
  CHECK(json ==
        R"({"type":"model_switch","model":"logreg","version":2,"from":"logreg","to":"tree","metric":"accuracy",)"
        R"("from_value":0.5,"to_value":null,"window":1000,"events":12000,"labelled":11990,"ts":1700000120000,)"
        R"("event_id":"e-12000"})");
  r.event_id = {};
  r.metric = "mae";
  std::string without_id;
  EncodeModelSwitch(r, without_id);
  CHECK(without_id.find("event_id") == std::string::npos);
  CHECK(Validate("drift", {json, without_id}) == 0);
  CHECK(Validate("drift", {R"({"type":"model_switch","model":"m","version":2,"from":"a"})"}) == 1);

  PredictionRecord p;
  p.id = "e-1";
  p.model = "logreg";
  p.version = 2;
  p.candidate = "no_change";
  p.score = 0.9;
  p.class_field = PredictionRecord::ClassField::kIndex;
  p.class_index = 1;
  p.ts_ms = 1;
  PredictionEncoder encoder;
  std::string prediction;
  encoder.encode(p, prediction);
  CHECK(prediction == R"({"id":"e-1","model":"logreg","version":2,"candidate":"no_change","score":0.9,"class":1,"ts":1,"latency_us":0})");
  CHECK(Validate("prediction", {prediction}) == 0);
}

TEST_CASE("slice gap encoder: the bytes, schema-valid", "[encoders]") {
  SliceGapAlert alert;
  alert.field = "group";
  alert.metric = "demographic_parity";
  alert.gap = 0.3;
  alert.threshold = 0.2;
  alert.max_value = "A";
  alert.max_rate = 0.6;
  alert.min_value = "B";
  alert.min_rate = 0.3;
  alert.events = 4000;
  SliceGapRecord r;
  r.model = "m";
  r.alert = &alert;
  r.events = 4001;
  r.ts_ms = 1700000000000;
  r.event_id = "e-4000";
  std::string json;
  EncodeSliceGap(r, json);
  CHECK(json == R"({"type":"slice_gap","model":"m","field":"group","metric":"demographic_parity","gap":0.3,)"
                R"("threshold":0.2,"max_value":"A","max_rate":0.6,"min_value":"B","min_rate":0.3,)"
                R"("field_events":4000,"events":4001,"ts":1700000000000,"event_id":"e-4000"})");
  alert.metric = "equal_opportunity";
  std::string json2;
  EncodeSliceGap(r, json2);
  CHECK(Validate("drift", {json, json2}) == 0);
  alert.metric = "parity";  // not a metric the schema knows
  std::string bad;
  EncodeSliceGap(r, bad);
  CHECK(Validate("drift", {bad}) == 1);
}
