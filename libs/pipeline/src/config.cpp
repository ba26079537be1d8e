#include "streamlearn/pipeline/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "streamlearn/features/config.hpp"
#include "streamlearn/learn/learner_factory.hpp"

namespace streamlearn::pipeline {
namespace {

// One scalar key: how to parse text into it and which values are allowed. The table of
// keys is the single place that knows the config's shape: file, environment and errors.
struct KeySpec {
  std::string path;  // "kafka.bootstrap_servers"
  std::function<Status(const std::string& text, PipelineConfig& c)> set;
};

Status ParseInt(const std::string& text, long lo, long hi, int* out) {
  long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return Status::Invalid("expected an integer, got '" + text + "'");
  if (v < lo || v > hi) {
    return Status::Invalid("must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + text);
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status ParseDouble(const std::string& text, double lo_exclusive, double hi_exclusive, double* out) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    return Status::Invalid("expected a number, got '" + text + "'");
  }
  if (!(v > lo_exclusive && v < hi_exclusive)) {
    return Status::Invalid("out of range, got " + text);
  }
  *out = v;
  return Status::Ok();
}

Status ParseBool(const std::string& text, bool* out) {
  if (text == "true" || text == "1" || text == "yes") { *out = true; return Status::Ok(); }
  if (text == "false" || text == "0" || text == "no") { *out = false; return Status::Ok(); }
  return Status::Invalid("expected true or false, got '" + text + "'");
}

Status ParseString(const std::string& text, std::string* out) {
  if (text.empty()) return Status::Invalid("must not be empty");
  *out = text;
  return Status::Ok();
}

Status ParseChoice(const std::string& text, std::initializer_list<const char*> choices, std::string* out) {
  std::string allowed;
  for (const char* c : choices) {
    if (text == c) { *out = text; return Status::Ok(); }
    allowed += allowed.empty() ? c : std::string(", ") + c;
  }
  return Status::Invalid("must be one of " + allowed + ", got '" + text + "'");
}

Status ParseCount(const std::string& text, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return Status::Invalid("expected an integer, got '" + text + "'");
  if (v < lo || v > hi) {
    return Status::Invalid("must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + text);
  }
  *out = v;
  return Status::Ok();
}

Status ParseDuration(const std::string& text, int64_t* out) {
  auto ms = ParseDurationMs(text);
  if (!ms.ok()) return ms.status();
  *out = *ms;
  return Status::Ok();
}

// A learner setting under `model.`: checked on its own here (so the error names the
// line), and in combination when the processor builds the learner.
KeySpec ModelParam(const std::string& name) {
  return {"model." + name, [name](const std::string& text, PipelineConfig& c) {
            SL_RETURN_IF_ERROR(learn::CheckLearnerSetting(name, text));
            c.model.params[name] = text;
            return Status::Ok();
          }};
}

// model.type: one of the learner factory's types.
Status ParseModelType(const std::string& text, std::string* out) {
  std::string allowed;
  for (std::string_view type : learn::LearnerTypes()) {
    if (text == type) {
      *out = text;
      return Status::Ok();
    }
    allowed.append(allowed.empty() ? "" : ", ").append(type);
  }
  return Status::Invalid("must be one of " + allowed + ", got '" + text + "'");
}

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec> keys = {
      {"kafka.bootstrap_servers", [](auto& t, auto& c) { return ParseString(t, &c.kafka.bootstrap_servers); }},
      {"kafka.group_id", [](auto& t, auto& c) { return ParseString(t, &c.kafka.group_id); }},
      {"kafka.topics.events", [](auto& t, auto& c) { return ParseString(t, &c.kafka.events_topic); }},
      {"kafka.topics.predictions", [](auto& t, auto& c) { return ParseString(t, &c.kafka.predictions_topic); }},
      {"kafka.topics.drift", [](auto& t, auto& c) { return ParseString(t, &c.kafka.drift_topic); }},
      {"kafka.topics.dlq", [](auto& t, auto& c) { return ParseString(t, &c.kafka.dlq_topic); }},
      {"kafka.topics.labels", [](auto& t, auto& c) { return ParseString(t, &c.kafka.labels_topic); }},
      {"kafka.batch_size", [](auto& t, auto& c) { return ParseInt(t, 1, 100000, &c.kafka.batch_size); }},
      {"kafka.poll_timeout_ms", [](auto& t, auto& c) { return ParseInt(t, 1, 60000, &c.kafka.poll_timeout_ms); }},
      {"kafka.order", [](auto& t, auto& c) { return ParseChoice(t, {"timestamp", "arrival"}, &c.kafka.order); }},
      {"kafka.max_idle_ms", [](auto& t, auto& c) { return ParseInt(t, 0, 600000, &c.kafka.max_idle_ms); }},
      {"state.dir", [](auto& t, auto& c) { return ParseString(t, &c.state.dir); }},
      {"state.commit_interval_ms", [](auto& t, auto& c) { return ParseInt(t, 10, 600000, &c.state.commit_interval_ms); }},
      {"features.entity_aggregates", [](auto& t, auto& c) { return ParseBool(t, &c.features.entity_aggregates); }},
      {"features.ewma_half_life_s", [](auto& t, auto& c) { return ParseDouble(t, 0, 1e12, &c.features.ewma_half_life_s); }},
      {"features.hash_bits", [](auto& t, auto& c) { return ParseInt(t, 4, 24, &c.features.hash_bits); }},
      {"model.name", [](auto& t, auto& c) { return ParseString(t, &c.model.name); }},
      {"model.type", [](auto& t, auto& c) { return ParseModelType(t, &c.model.type); }},
      ModelParam("optimizer"), ModelParam("schedule"), ModelParam("l1"), ModelParam("power_t"), ModelParam("alpha"),
      ModelParam("beta1"), ModelParam("beta2"), ModelParam("epsilon"), ModelParam("ftrl_alpha"),
      ModelParam("ftrl_beta"), ModelParam("huber_epsilon"), ModelParam("classes"), ModelParam("standardize"),
      {"model.learning_rate", [](auto& t, auto& c) { return ParseDouble(t, 0, 1e6, &c.model.learning_rate); }},
      {"model.l2", [](auto& t, auto& c) {
         if (t == "0" || t == "0.0") { c.model.l2 = 0; return Status::Ok(); }
         return ParseDouble(t, 0, 1e6, &c.model.l2);
       }},
      {"drift.detector", [](auto& t, auto& c) {
         return ParseChoice(t, {"adwin", "ddm", "eddm", "hddm_a", "hddm_w", "page_hinkley", "kswin"}, &c.drift.detector);
       }},
      {"drift.delta", [](auto& t, auto& c) { return ParseDouble(t, 0, 1, &c.drift.delta); }},
      {"drift.action", [](auto& t, auto& c) { return ParseChoice(t, {"none", "reset", "background"}, &c.drift.action); }},
      {"drift.warning_delta", [](auto& t, auto& c) { return ParseDouble(t, 0, 1, &c.drift.warning_delta); }},
      {"drift.background_max_events", [](auto& t, auto& c) { return ParseInt(t, 1, 100000000, &c.drift.background_max_events); }},
      {"drift.data.enabled", [](auto& t, auto& c) { return ParseBool(t, &c.drift.data_enabled); }},
      {"drift.data.numeric_detector", [](auto& t, auto& c) { return ParseChoice(t, {"adwin", "kswin"}, &c.drift.data_numeric_detector); }},
      {"drift.data.psi_threshold", [](auto& t, auto& c) { return ParseDouble(t, 0, 1e6, &c.drift.data_psi_threshold); }},
      {"drift.data.psi_window", [](auto& t, auto& c) { return ParseInt(t, 10, 10000000, &c.drift.data_psi_window); }},
      {"metrics.rolling_window", [](auto& t, auto& c) { return ParseInt(t, 1, 10000000, &c.metrics.rolling_window); }},
      {"labels.enabled", [](auto& t, auto& c) { return ParseBool(t, &c.labels.enabled); }},
      {"labels.ttl", [](auto& t, auto& c) { return ParseDuration(t, &c.labels.ttl_ms); }},
      {"labels.max_pending", [](auto& t, auto& c) { return ParseCount(t, 1, 1000000000, &c.labels.max_pending); }},
      {"labels.early_ttl", [](auto& t, auto& c) { return ParseDuration(t, &c.labels.early_ttl_ms); }},
      {"labels.max_early", [](auto& t, auto& c) { return ParseCount(t, 0, 100000000, &c.labels.max_early); }},
      {"http.bind", [](auto& t, auto& c) { return ParseString(t, &c.http.bind); }},
      {"http.port", [](auto& t, auto& c) { return ParseInt(t, 0, 65535, &c.http.port); }},
      {"http.enabled", [](auto& t, auto& c) { return ParseBool(t, &c.http.enabled); }},
  };
  return keys;
}

std::string EnvName(const std::string& path) {
  std::string name = "STREAMLEARN_";
  for (char ch : path) name.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return name;
}

const KeySpec* FindKey(const std::string& path) {
  for (const auto& k : Keys()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

bool IsSectionPrefix(const std::string& path) {
  for (const auto& k : Keys()) {
    if (k.path.size() > path.size() && k.path.compare(0, path.size(), path) == 0 && k.path[path.size()] == '.') return true;
  }
  return false;
}

std::string Where(const std::string& source, const YAML::Node& node) {
  return source + ":" + std::to_string(node.Mark().line + 1);
}

// Where each key was written (path -> line), so errors found later name the line too.
using KeyLines = std::map<std::string, int>;

Status FlattenFeatures(const YAML::Node& value, const std::string& key, const std::string& source,
                       std::map<std::string, std::string>& out, KeyLines& lines) {
  lines["features." + key] = value.Mark().line + 1;
  if (value.IsScalar()) {
    out[key] = value.as<std::string>();
    return Status::Ok();
  }
  if (value.IsSequence()) {
    std::string joined;
    for (const auto& item : value) {
      if (!item.IsScalar()) return Status::Invalid(Where(source, item) + ": features." + key + ": list items must be single values");
      joined += (joined.empty() ? "" : ",") + item.as<std::string>();
    }
    out[key] = joined;
    return Status::Ok();
  }
  if (value.IsMap()) {
    for (const auto& item : value) {
      SL_RETURN_IF_ERROR(FlattenFeatures(item.second, key + "." + item.first.as<std::string>(), source, out, lines));
    }
    return Status::Ok();
  }
  return Status::Invalid(Where(source, value) + ": features." + key + ": must be a value, a list or a section");
}

Status Walk(const YAML::Node& map, const std::string& prefix, const std::string& source, PipelineConfig& config,
            KeyLines& lines) {
  for (const auto& item : map) {
    std::string key = item.first.as<std::string>();
    std::string path = prefix.empty() ? key : prefix + "." + key;
    const YAML::Node& value = item.second;
    // Free-form maps, checked by whoever consumes them (librdkafka; the detector factory).
    std::map<std::string, std::string>* free_map = path == "kafka.properties" ? &config.kafka.properties
                                                   : path == "drift.params"   ? &config.drift.params
                                                   : path == "drift.data.params" ? &config.drift.data_params
                                                                              : nullptr;
    // features: the table has three keys; the rest is libs/features' own config, kept as
    // dotted text (a list becomes "a,b") and checked when the pipeline starts.
    if (path.rfind("features.", 0) == 0 && !FindKey(path)) {
      SL_RETURN_IF_ERROR(FlattenFeatures(value, path.substr(9), source, config.features.params, lines));
      continue;
    }
    if (path == "challengers") {
      if (!value.IsMap()) return Status::Invalid(Where(source, value) + ": challengers: must be a map of name: settings");
      for (const auto& model : value) {
        const std::string name = model.first.as<std::string>();
        if (!model.second.IsMap()) {
          return Status::Invalid(Where(source, model.second) + ": challengers." + name + ": must be a map of settings");
        }
        auto& settings = config.challengers[name];
        for (const auto& setting : model.second) {
          if (!setting.second.IsScalar()) {
            return Status::Invalid(Where(source, setting.second) + ": challengers." + name + "." +
                                   setting.first.as<std::string>() + ": must be a single value");
          }
          settings[setting.first.as<std::string>()] = setting.second.as<std::string>();
          lines["challengers." + name + "." + setting.first.as<std::string>()] = setting.second.Mark().line + 1;
        }
      }
      continue;
    }
    if (free_map) {
      if (!value.IsMap()) return Status::Invalid(Where(source, value) + ": " + path + ": must be a map of name: value");
      for (const auto& prop : value) {
        if (!prop.second.IsScalar()) {
          return Status::Invalid(Where(source, prop.second) + ": " + path + "." + prop.first.as<std::string>() +
                                 ": must be a single value");
        }
        (*free_map)[prop.first.as<std::string>()] = prop.second.as<std::string>();
      }
      continue;
    }
    if (const KeySpec* spec = FindKey(path)) {
      if (!value.IsScalar()) return Status::Invalid(Where(source, value) + ": " + path + ": must be a single value");
      lines[path] = value.Mark().line + 1;
      Status st = spec->set(value.as<std::string>(), config);
      if (!st.ok()) return Status::Invalid(Where(source, value) + ": " + path + ": " + st.message());
      continue;
    }
    if (IsSectionPrefix(path)) {
      if (!value.IsMap()) return Status::Invalid(Where(source, value) + ": " + path + ": must be a section (a map)");
      SL_RETURN_IF_ERROR(Walk(value, path, source, config, lines));
      continue;
    }
    return Status::Invalid(Where(source, item.first) + ": unknown key '" + path + "'");
  }
  return Status::Ok();
}

Status ApplyEnvironment(const Environment& env, PipelineConfig& config) {
  if (!env) return Status::Ok();
  for (const auto& k : Keys()) {
    std::string name = EnvName(k.path);
    const char* value = env(name.c_str());
    if (!value) continue;
    Status st = k.set(value, config);
    if (!st.ok()) return Status::Invalid("environment " + name + " (" + k.path + "): " + st.message());
  }
  return Status::Ok();
}

}  // namespace

std::map<std::string, std::string> LearnerKeys(const ModelSettings& model, int hash_bits) {
  std::map<std::string, std::string> keys = model.params;
  keys["learning_rate"] = fmt::format("{}", model.learning_rate);
  keys["l2"] = fmt::format("{}", model.l2);
  keys["hash_bits"] = std::to_string(hash_bits);
  return keys;
}

std::map<std::string, std::string> FeatureKeys(const FeatureSettings& features) {
  std::map<std::string, std::string> keys = features.params;
  keys["entity_aggregates"] = features.entity_aggregates ? "true" : "false";
  keys["ewma_half_life_s"] = fmt::format("{}", features.ewma_half_life_s);
  keys["hash_bits"] = std::to_string(features.hash_bits);
  return keys;
}

std::map<std::string, std::string> ChallengerKeys(const PipelineConfig& config, const std::string& name) {
  std::map<std::string, std::string> keys = LearnerKeys(config.model, config.features.hash_bits);
  auto it = config.challengers.find(name);
  if (it == config.challengers.end()) return keys;
  for (const auto& [key, value] : it->second) {
    if (key != "type") keys[key] = value;
  }
  return keys;
}

std::string ChallengerType(const PipelineConfig& config, const std::string& name) {
  auto it = config.challengers.find(name);
  if (it == config.challengers.end()) return config.model.type;
  auto type = it->second.find("type");
  return type == it->second.end() ? config.model.type : type->second;
}

Status ValidateLearnerSettings(const PipelineConfig& config) {
  auto features = features::FeatureConfig::Parse(FeatureKeys(config.features));
  if (!features.ok()) return features.status();
  auto model = learn::MakeLearner(config.model.type, LearnerKeys(config.model, config.features.hash_bits), "model.");
  if (!model.ok()) return model.status();
  for (const auto& challenger : config.challengers) {
    const std::string prefix = "challengers." + challenger.first + ".";
    auto parsed = learn::MakeLearner(ChallengerType(config, challenger.first), ChallengerKeys(config, challenger.first),
                                     prefix);
    if (!parsed.ok()) return parsed.status();
  }
  return Status::Ok();
}

Result<int64_t> ParseDurationMs(const std::string& text) {
  const auto bad = [&] {
    return Status::Invalid("expected a duration such as 500ms, 30s, 15m, 2h or 7d, got '" + text + "'");
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) digits++;
  if (digits == 0 || digits > 12) return bad();
  const int64_t n = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60 * 1000;
  else if (unit == "h") scale = 3600 * 1000;
  else if (unit == "d") scale = 24 * 3600 * 1000;
  else return bad();
  if (n > (int64_t{1} << 53) / scale) return bad();
  return n * scale;
}

Result<PipelineConfig> ParseConfig(const std::string& yaml_text, const std::string& source, const Environment& env) {
  PipelineConfig config;
  KeyLines lines;
  YAML::Node root;
  try {  // yaml-cpp reports syntax errors by exception: caught here, at the edge
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::Invalid(source + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) return Status::Invalid(source + ": the config must be a YAML map of sections");
    try {
      SL_RETURN_IF_ERROR(Walk(root, "", source, config, lines));
    } catch (const YAML::Exception& e) {
      return Status::Invalid(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  }
  SL_RETURN_IF_ERROR(ApplyEnvironment(env, config));
  // The free-form parts (features, model settings, challengers) are checked now, by the
  // libs that own them, so a bad key fails the load and not the first start.
  Status learner = ValidateLearnerSettings(config);
  if (!learner.ok()) {
    // The message starts with the key ("features.x.y: ..."): name its line when the file set it.
    const std::string& message = learner.message();
    auto it = lines.find(message.substr(0, message.find(": ")));
    const std::string where = it == lines.end() ? source : source + ":" + std::to_string(it->second);
    return Status::Invalid(where + ": " + message);
  }
  return config;
}

Result<PipelineConfig> LoadConfigFile(const std::string& path, const Environment& env) {
  std::ifstream in(path);
  if (!in) return Status::IoError("config file " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path, env);
}

Result<PipelineConfig> DefaultConfig(const Environment& env) { return ParseConfig("", "defaults", env); }

}  // namespace streamlearn::pipeline
