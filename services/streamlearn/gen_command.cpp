#include "gen_command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>

#include "commands.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/eval/sea_generator.hpp"
#include "streamlearn/eval/streams.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/config.hpp"

namespace streamlearn::cli {
namespace {

// Both generators stamp event i with this ts (eval::EventJsonOptions' and
// pipeline::SyntheticOptions' defaults agree).
constexpr int64_t kStartTsMs = 1700000000000;
constexpr int64_t kStepMs = 10;
// The delay draws have an engine of their own, so --labels-out never changes the events.
constexpr uint64_t kDelaySeed = 0x1abe'1de1'a7ed'0001ULL;

// --label-delay: 0, const:D, exp:MEAN or uniform:LO:HI, D a config duration (core's
// ParseDurationMs: 500ms, 30s, 1.5m, 2h, 7d; a bare number is seconds).
class LabelDelay {
 public:
  static Result<LabelDelay> Parse(const std::string& text) {
    const auto bad = [&](const std::string& why) {
      return Status::Invalid("--label-delay '" + text + "': " + why +
                             " (expected 0, const:30s, exp:60s or uniform:10s:5m)");
    };
    const auto duration = [](const std::string& d) { return ParseDurationMs(d); };
    LabelDelay delay;
    if (text == "0") return delay;
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return bad("no distribution");
    const std::string kind = text.substr(0, colon);
    const std::string rest = text.substr(colon + 1);
    if (kind == "const" || kind == "exp") {
      auto ms = duration(rest);
      if (!ms.ok()) return bad(ms.status().message());
      delay.kind_ = kind == "const" ? Kind::kConst : Kind::kExp;
      delay.a_ms_ = *ms;
      return delay;
    }
    if (kind == "uniform") {
      const size_t second = rest.find(':');
      if (second == std::string::npos) return bad("uniform needs a low and a high bound");
      auto lo = duration(rest.substr(0, second));
      auto hi = duration(rest.substr(second + 1));
      if (!lo.ok()) return bad(lo.status().message());
      if (!hi.ok()) return bad(hi.status().message());
      if (*hi < *lo) return bad("the high bound is below the low one");
      delay.kind_ = Kind::kUniform;
      delay.a_ms_ = *lo;
      delay.b_ms_ = *hi;
      return delay;
    }
    return bad("unknown distribution '" + kind + "'");
  }

  // Milliseconds; uniform numbers from the engine's top 53 bits, as the generators draw.
  int64_t draw(std::mt19937_64& engine) const {
    const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;  // [0, 1)
    switch (kind_) {
      case Kind::kConst: return a_ms_;
      case Kind::kExp: return std::llround(-static_cast<double>(a_ms_) * std::log1p(-u));
      case Kind::kUniform:
        return a_ms_ + std::llround(u * static_cast<double>(b_ms_ - a_ms_));
    }
    return 0;
  }

 private:
  enum class Kind { kConst, kExp, kUniform };
  Kind kind_ = Kind::kConst;
  int64_t a_ms_ = 0, b_ms_ = 0;
};

struct DelayedLabel {
  int64_t ts;
  uint64_t position;  // the event's: its id is "e-<position>"
  std::string label;  // as JSON text: 0, 1, "c3", 2.5
};

// Shapes one generated event line (label last, no marker yet) for the output.
class LineWriter {
 public:
  LineWriter(const GenCommandOptions& options, const LabelDelay& delay)
      : kcat_(options.format == "kcat"),
        split_labels_(!options.labels_out.empty()),
        delay_(delay),
        delay_engine_(options.seed ^ kDelaySeed) {}

  // `payload` ends in ,"label":L} — L is cut out when labels go to their own file, and the
  // concept marker goes in before the closing brace for JSON output.
  void event(std::string_view key, std::string& payload, uint64_t position, int concept_index) {
    if (split_labels_) {
      const size_t at = payload.rfind(",\"label\":");
      if (at != std::string::npos) {
        const size_t value = at + 9;
        labels_.push_back({kStartTsMs + static_cast<int64_t>(position) * kStepMs + delay_.draw(delay_engine_),
                           position, payload.substr(value, payload.size() - 1 - value)});
        payload.erase(at, payload.size() - 1 - at);
      }
    }
    if (!kcat_) {
      payload.pop_back();
      payload.append(",\"meta\":{\"concept\":").append(std::to_string(concept_index)).append("}}");
    }
    raw(key, payload);
  }

  // A line as it is (an invalid message).
  void raw(std::string_view key, std::string_view payload) {
    if (kcat_) buffer_.append(key).push_back('\t');
    buffer_.append(payload).push_back('\n');
    if (buffer_.size() >= (1 << 16)) flush();
  }

  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }

  Status write_labels(const std::string& path) {
    // Sorted by arrival: a consumer (or `evaluate --labels`) reads them as they would come.
    std::stable_sort(labels_.begin(), labels_.end(),
                     [](const DelayedLabel& a, const DelayedLabel& b) { return a.ts < b.ts; });
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IoError("cannot write labels file '" + path + "'");
    std::string line;
    for (const DelayedLabel& l : labels_) {
      line.clear();
      fmt::format_to(std::back_inserter(line), "{{\"id\":\"e-{}\",\"label\":{},\"ts\":{}}}\n", l.position, l.label,
                     l.ts);
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    out.flush();
    if (!out) return Status::IoError("cannot write labels file '" + path + "'");
    return Status::Ok();
  }

  size_t labels() const { return labels_.size(); }

 private:
  bool kcat_;
  bool split_labels_;
  LabelDelay delay_;
  std::mt19937_64 delay_engine_;
  std::string buffer_;
  std::vector<DelayedLabel> labels_;
};

// The demo's SEA stream, unchanged (the crash tests and benchmarks are sized on it).
std::vector<uint64_t> GenerateSea(const GenCommandOptions& o, LineWriter& writer, uint64_t* invalid) {
  pipeline::SyntheticOptions options;
  options.events = o.events;
  options.seed = o.seed;
  options.entities = o.entities.value_or(options.entities);
  options.invalid_share = o.invalid_share;
  if (!std::isnan(o.noise)) options.noise = o.noise;
  options.change_at = o.change_at;
  const uint64_t expected_valid =
      static_cast<uint64_t>(static_cast<double>(options.events) * (1 - options.invalid_share));
  if (options.change_at.empty() && o.concepts > 1) options.change_at = eval::EvenChanges(expected_valid, o.concepts);
  pipeline::SyntheticSeaStream stream(options);
  std::string key, payload;
  bool valid = false;
  uint64_t position = 0;
  while (stream.next(&key, &payload, &valid)) {
    if (valid) {
      const int concept_index = static_cast<int>(stream.change_messages().size() % options.thetas.size());
      writer.event(key, payload, position, concept_index);
    } else {
      writer.raw(key, payload);
    }
    ++position;
  }
  *invalid = stream.invalid();
  return stream.change_messages();
}

Result<std::vector<uint64_t>> GenerateStream(const GenCommandOptions& o, LineWriter& writer) {
  eval::StreamOptions options;
  options.events = o.events;
  options.seed = o.seed;
  options.change_at = o.change_at;
  options.concepts = o.concepts;
  if (!std::isnan(o.noise)) options.noise = o.noise;
  options.entities = o.entities;
  auto stream = eval::MakeStream(o.stream, options);
  if (!stream.ok()) return stream.status();
  eval::GeneratedEvent event;
  eval::EventJsonOptions json;
  json.start_ts_ms = kStartTsMs;
  json.step_ms = kStepMs;
  json.concept_marker = false;  // LineWriter adds it after the label
  std::string payload;
  while (true) {
    const uint64_t position = (*stream)->position();
    if (!(*stream)->next(&event)) break;
    payload.clear();
    eval::AppendEventJson(payload, event, position, json);
    writer.event(event.entity, payload, position, event.concept_index);
  }
  return (*stream)->change_at();
}

Status CheckOptions(const GenCommandOptions& o) {
  // The stream options' own rules (ascending change positions below --events, …), for sea too.
  eval::StreamOptions check;
  check.events = o.events;
  check.change_at = o.change_at;
  check.concepts = o.concepts;
  if (!std::isnan(o.noise)) check.noise = o.noise;
  check.entities = o.entities;
  if (Status st = check.validate(); !st.ok()) {
    // "change_at: …" names the field; the user typed --change-at.
    std::string message = st.message();
    const size_t colon = message.find(':');
    if (colon != std::string::npos) {
      std::string option = "--" + message.substr(0, colon);
      std::replace(option.begin(), option.end(), '_', '-');
      message = option + message.substr(colon);
    }
    return Status::Invalid(message);
  }
  if (o.invalid_share > 0 && o.stream != "sea") {
    return Status::Invalid("--invalid-share: only --stream sea writes invalid messages");
  }
  if (!o.labels_out.empty() && o.invalid_share > 0) {
    return Status::Invalid("--labels-out with --invalid-share: invalid messages have no id to label");
  }
  return Status::Ok();
}

}  // namespace

CLI::App* AddGenCommand(CLI::App& app, GenCommandOptions& options) {
  CLI::App* gen = app.add_subcommand("gen", "Write a synthetic event stream with known concept changes as JSON lines to stdout");
  gen->add_option("--stream", options.stream,
                  "Stream: sea, hyperplane, agrawal, stagger, led, randomrbf, entities, wide, regression")
      ->check(CLI::IsMember(eval::StreamNames()))
      ->capture_default_str();
  gen->add_option("--events", options.events, "Events to write")->capture_default_str();
  gen->add_option("--seed", options.seed, "Random seed")->capture_default_str();
  auto* concepts = gen->add_option("--concepts", options.concepts, "Concepts, evenly spaced (K - 1 abrupt changes)")
                       ->capture_default_str()
                       ->check(CLI::Range(size_t{1}, size_t{1000000}));
  gen->add_option("--change-at", options.change_at, "Positions where a new concept starts, ascending (a,b,c)")
      ->delimiter(',')
      ->excludes(concepts);
  gen->add_option("--noise", options.noise, "The stream's noise (see docs/evaluation.md; default: the stream's own)")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--entities", options.entities,
                  "Distinct entity keys (default 1000; regression: none, its events carry no entity unless this is given)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  gen->add_option("--invalid-share", options.invalid_share, "Share of deliberately invalid messages (sea only)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  gen->add_option("--format", options.format, "json (with the concept marker), or kcat (entity TAB json, for kcat -K '\\t')")
      ->check(CLI::IsMember({"json", "kcat"}))
      ->capture_default_str();
  auto* labels_out = gen->add_option("--labels-out", options.labels_out,
                                     "Write events without labels, and the labels to this file ({\"id\",\"label\",\"ts\"} by ts)");
  gen->add_option("--label-delay", options.label_delay,
                  "Label delay after the event: 0, const:30s, exp:60s (mean), uniform:10s:5m")
      ->capture_default_str()
      ->needs(labels_out);
  gen->footer(
      "Events are e-0, e-1, … with ts 1700000000000 + 10 ms per event. JSON lines end in \"meta\":{\"concept\":K}, "
      "the index of the concept that labelled the event (a change is where it differs from the previous event's); "
      "streamlearn evaluate scores drift detection against it. kcat lines leave the marker out. Streams, features and "
      "changes: see docs/evaluation.md.");
  return gen;
}

int RunGenCommand(const GenCommandOptions& options) {
  Status st = CheckOptions(options);
  auto delay = LabelDelay::Parse(options.label_delay);
  if (st.ok() && !delay.ok()) st = delay.status();
  if (!st.ok()) {
    spdlog::error("gen: {}", st.message());
    return 2;
  }
  // Opened before the stream is written, so a bad path fails before any output.
  if (!options.labels_out.empty() && !std::ofstream(options.labels_out, std::ios::app)) {
    spdlog::error("gen: cannot write labels file '{}'", options.labels_out);
    return 1;
  }
  LineWriter writer(options, *delay);
  std::vector<uint64_t> changes;
  uint64_t invalid = 0;
  if (options.stream == "sea") {
    changes = GenerateSea(options, writer, &invalid);
  } else {
    auto generated = GenerateStream(options, writer);
    if (!generated.ok()) {
      spdlog::error("gen: {}", generated.status().message());
      return 2;
    }
    changes = std::move(generated).value();
  }
  writer.flush();
  std::fflush(stdout);
  if (!options.labels_out.empty()) {
    st = writer.write_labels(options.labels_out);
    if (!st.ok()) {
      spdlog::error("gen: {}", st.message());
      return 1;
    }
  }
  spdlog::info("generated {} {} events (seed {}, {} invalid); concepts begin at events {}{}", options.events,
               options.stream, options.seed, invalid, changes.empty() ? "-" : fmt::format("{}", fmt::join(changes, ", ")),
               options.labels_out.empty()
                   ? ""
                   : fmt::format("; {} labels in {} (delay {})", writer.labels(), options.labels_out, options.label_delay));
  return 0;
}

Command RegisterGenCommand(CLI::App& app) {
  auto options = std::make_shared<GenCommandOptions>();
  CLI::App* sub = AddGenCommand(app, *options);
  return {sub, [options] { return RunGenCommand(*options); }};
}

}  // namespace streamlearn::cli
