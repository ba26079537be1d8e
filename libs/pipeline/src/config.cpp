#include "streamlearn/pipeline/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "streamlearn/core/config_values.hpp"
#include "streamlearn/drift/factory.hpp"
#include "streamlearn/features/config.hpp"
#include "streamlearn/learn/learner_factory.hpp"
#include "model_selection.hpp"

namespace streamlearn::pipeline {
namespace {

// One scalar key: how to parse text into it and which values are allowed. The table of
// keys is the single place that knows the config's shape: file, environment and errors.
// `set` names the key as `key` in its errors (the path, or the environment variable).
struct KeySpec {
  std::string path;  // "kafka.bootstrap_servers"
  std::function<Status(std::string_view key, const std::string& text, PipelineConfig& c)> set;
};

// Kafka refuses longer topic names.
constexpr size_t kTopicMaxLength = 249;

constexpr std::array<std::string_view, 2> kKafkaOrderNames = {"timestamp", "arrival"};
constexpr std::array<std::string_view, 2> kKafkaGuaranteeNames = {"at_least_once", "exactly_once"};
constexpr std::array<std::string_view, 2> kModelSyncMixNames = {"average", "updates"};
constexpr std::array<std::string_view, 3> kDriftActionNames = {"none", "reset", "background"};
constexpr std::array<std::string_view, 4> kSelectionMetricNames = {"auto", "accuracy", "log_loss", "mae"};


// The detector factory's names, as choices.
std::span<const std::string_view> DetectorChoices() {
  static const std::vector<std::string_view> names(drift::DetectorNames().begin(), drift::DetectorNames().end());
  return names;
}

// A checked value into its field (an int, a bool, an enum by its index...).
template <typename Field, typename T>
Status Store(Result<T> value, Field& field) {
  if (!value.ok()) return value.status();
  field = static_cast<Field>(*value);
  return Status::Ok();
}

Status SetString(std::string_view key, const std::string& text, size_t max_length, std::string& field) {
  return Store(StringValue(key, text, max_length), field);
}

Status SetInt(std::string_view key, const std::string& text, int lo, int hi, int& field) {
  return Store(IntegerValue(key, text, lo, hi), field);
}

// Above lo, below hi (both excluded).
Status SetNumber(std::string_view key, const std::string& text, double lo, double hi, double& field) {
  return Store(NumberValue(key, text, {lo, hi}), field);
}

// metrics.slices: field names separated by commas (a YAML list arrives joined); at most 16.
Status SetSliceFields(std::string_view key, const std::string& text, std::vector<std::string>& fields) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string name; std::getline(in, name, ',');) {
    const size_t first = name.find_first_not_of(' ');
    const size_t last = name.find_last_not_of(' ');
    name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
    if (name.empty()) return Status::Invalid(std::string(key) + ": an empty field name");
    auto checked = StringValue(key, name, kNameMaxLength);
    if (!checked.ok()) return checked.status();
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      return Status::Invalid(std::string(key) + ": field '" + name + "' is listed twice");
    }
    out.push_back(std::move(name));
  }
  if (out.size() > 16) return Status::Invalid(std::string(key) + ": at most 16 fields");
  fields = std::move(out);
  return Status::Ok();
}

// A learner setting under `model.`: checked on its own here (so the error names the
// line), and in combination when the processor builds the learner.
// A selection.* key: also records that the config has a selection section (no defaults).
template <typename Set>
KeySpec SelectionKey(std::string path, Set set) {
  return {std::move(path), [set](std::string_view key, const std::string& text, PipelineConfig& c) {
            c.selection.given = true;
            return set(key, text, c);
          }};
}

KeySpec ModelParam(const std::string& name) {
  return {"model." + name, [name](std::string_view key, const std::string& text, PipelineConfig& c) {
            SL_RETURN_IF_ERROR(StringValue(key, text, kNameMaxLength).status());
            Status checked = learn::CheckLearnerSetting(name, text);
            if (!checked.ok()) return Status::Invalid(std::string(key) + ": " + checked.message());
            c.model.params[name] = text;
            return Status::Ok();
          }};
}

const std::vector<KeySpec>& Keys() {
  using S = const std::string;
  using C = PipelineConfig;
  static const std::vector<KeySpec> keys = {
      {"kafka.bootstrap_servers",
       [](auto k, S& t, C& c) { return SetString(k, t, kListMaxLength, c.kafka.bootstrap_servers); }},
      {"kafka.group_id", [](auto k, S& t, C& c) { return SetString(k, t, kNameMaxLength, c.kafka.group_id); }},
      {"kafka.topics.events", [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.kafka.events_topic); }},
      {"kafka.topics.predictions",
       [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.kafka.predictions_topic); }},
      {"kafka.topics.drift", [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.kafka.drift_topic); }},
      {"kafka.topics.dlq", [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.kafka.dlq_topic); }},
      {"kafka.topics.labels", [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.kafka.labels_topic); }},
      {"kafka.batch_size", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 100000, c.kafka.batch_size); }},
      {"kafka.poll_timeout_ms", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 60000, c.kafka.poll_timeout_ms); }},
      {"kafka.order", [](auto k, S& t, C& c) { return Store(ChoiceValue(k, t, kKafkaOrderNames), c.kafka.order); }},
      {"kafka.guarantee",
       [](auto k, S& t, C& c) { return Store(ChoiceValue(k, t, kKafkaGuaranteeNames), c.kafka.guarantee); }},
      {"kafka.max_idle_ms", [](auto k, S& t, C& c) { return SetInt(k, t, 0, 600000, c.kafka.max_idle_ms); }},
      {"kafka.auth_timeout_ms", [](auto k, S& t, C& c) { return SetInt(k, t, 1000, 86400000, c.kafka.auth_timeout_ms); }},
      {"scale.changelog",
       [](auto k, S& t, C& c) {
         c.scale.changelog_given = true;
         return Store(BoolValue(k, t), c.scale.changelog);
       }},
      {"scale.changelog_topic",
       [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.scale.changelog_topic); }},
      {"scale.standby_replicas", [](auto k, S& t, C& c) { return SetInt(k, t, 0, 100, c.scale.standby_replicas); }},
      {"scale.replay_dedup", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.scale.replay_dedup); }},
      {"scale.changelog_labels", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.scale.changelog_labels); }},
      {"state.dir", [](auto k, S& t, C& c) { return SetString(k, t, kListMaxLength, c.state.dir); }},
      {"state.commit_interval_ms",
       [](auto k, S& t, C& c) { return SetInt(k, t, 10, 600000, c.state.commit_interval_ms); }},
      {"state.disk_error_timeout_ms",
       [](auto k, S& t, C& c) { return SetInt(k, t, 1000, 86400000, c.state.disk_error_timeout_ms); }},
      {"state.max_cached_entities",
       [](auto k, S& t, C& c) { return SetInt(k, t, 1, 2000000000, c.state.max_cached_entities); }},
      {"features.entity_aggregates",
       [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.features.entity_aggregates); }},
      {"features.ewma_half_life_s",
       [](auto k, S& t, C& c) { return SetNumber(k, t, 0, 1e12, c.features.ewma_half_life_s); }},
      {"features.hash_bits", [](auto k, S& t, C& c) { return SetInt(k, t, 4, 24, c.features.hash_bits); }},
      {"model.name", [](auto k, S& t, C& c) { return SetString(k, t, kNameMaxLength, c.model.name); }},
      {"model.type",
       [](auto k, S& t, C& c) {
         // The learner factory's types (read each time: families may register at start-up).
         const std::vector<std::string_view>& types = learn::LearnerTypes();
         auto index = ChoiceValue(k, t, std::span<const std::string_view>(types));
         if (!index.ok()) return index.status();
         c.model.type = std::string(types[*index]);
         c.model.type_given = true;
         return Status::Ok();
       }},
      ModelParam("optimizer"), ModelParam("schedule"), ModelParam("l1"), ModelParam("power_t"), ModelParam("alpha"),
      ModelParam("beta1"), ModelParam("beta2"), ModelParam("epsilon"), ModelParam("ftrl_alpha"),
      ModelParam("ftrl_beta"), ModelParam("huber_epsilon"), ModelParam("classes"), ModelParam("standardize"),
      {"model.learning_rate", [](auto k, S& t, C& c) { return SetNumber(k, t, 0, 1e6, c.model.learning_rate); }},
      {"model.standardize_target",
       [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.model.standardize_target); }},
      {"model.l2", [](auto k, S& t, C& c) { return Store(NumberValue(k, t, {0, 1e6, false, true}), c.model.l2); }},
      {"drift.detector",
       [](auto k, S& t, C& c) {
         auto index = ChoiceValue(k, t, DetectorChoices());
         if (!index.ok()) return index.status();
         c.drift.detector = t;
         return Status::Ok();
       }},
      {"drift.delta", [](auto k, S& t, C& c) { return SetNumber(k, t, 0, 1, c.drift.delta); }},
      {"drift.action",
       [](auto k, S& t, C& c) {
         c.drift.action_given = true;
         return Store(ChoiceValue(k, t, kDriftActionNames), c.drift.action);
       }},
      {"drift.warning_delta", [](auto k, S& t, C& c) { return SetNumber(k, t, 0, 1, c.drift.warning_delta); }},
      {"drift.background_max_events",
       [](auto k, S& t, C& c) { return SetInt(k, t, 1, 100000000, c.drift.background_max_events); }},
      {"drift.divergence_factor", [](auto k, S& t, C& c) { return SetNumber(k, t, 0, 1e12, c.drift.divergence_factor); }},
      {"drift.divergence_window",
       [](auto k, S& t, C& c) { return SetInt(k, t, 10, 10000000, c.drift.divergence_window); }},
      {"drift.data.enabled", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.drift.data_enabled); }},
      {"drift.data.numeric_detector",
       [](auto k, S& t, C& c) {
         auto index = ChoiceValue(k, t, {"adwin", "kswin"});
         if (!index.ok()) return index.status();
         c.drift.data_numeric_detector = t;
         return Status::Ok();
       }},
      {"drift.data.psi_threshold", [](auto k, S& t, C& c) { return SetNumber(k, t, 0, 1e6, c.drift.data_psi_threshold); }},
      {"drift.data.psi_window", [](auto k, S& t, C& c) { return SetInt(k, t, 10, 10000000, c.drift.data_psi_window); }},
      {"drift.data.false_alarm_rate",
       [](auto k, S& t, C& c) { return Store(NumberValue(k, t, {0, 0.01, false, false}), c.drift.data_false_alarm_rate); }},
      {"drift.data.block", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 100000, c.drift.data_block); }},
      {"drift.data.warmup", [](auto k, S& t, C& c) { return SetInt(k, t, 0, 1000000000, c.drift.data_warmup); }},
      {"drift.data.cooldown", [](auto k, S& t, C& c) { return SetInt(k, t, 0, 1000000000, c.drift.data_cooldown); }},
      {"drift.data.sample", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 1000000, c.drift.data_sample); }},
      {"metrics.rolling_window", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 10000000, c.metrics.rolling_window); }},
      SelectionKey("selection.enabled", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.selection.enabled); }),
      SelectionKey("selection.metric",
       [](auto k, S& t, C& c) { return Store(ChoiceValue(k, t, kSelectionMetricNames), c.selection.metric); }),
      SelectionKey("selection.window", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 10000000, c.selection.window); }),
      SelectionKey("selection.margin", [](auto k, S& t, C& c) { return Store(NumberValue(k, t, {0, 1e6, false, true}), c.selection.margin); }),
      SelectionKey("selection.min_events", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 100000000, c.selection.min_events); }),
      SelectionKey("selection.include_baselines",
       [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.selection.include_baselines); }),
      {"metrics.slices", [](auto k, S& t, C& c) { return SetSliceFields(k, t, c.metrics.slices); }},
      {"metrics.slices_top_k", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 1000, c.metrics.slices_top_k); }},
      {"metrics.slice_gap_alert",
       [](auto k, S& t, C& c) { return Store(NumberValue(k, t, {0, 1, false, false}), c.metrics.slice_gap_alert); }},
      {"labels.enabled", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.labels.enabled); }},
      {"labels.ttl", [](auto k, S& t, C& c) { return Store(DurationValue(k, t), c.labels.ttl_ms); }},
      {"labels.max_pending", [](auto k, S& t, C& c) { return Store(IntegerValue(k, t, 1, 1000000000), c.labels.max_pending); }},
      {"labels.early_ttl", [](auto k, S& t, C& c) { return Store(DurationValue(k, t), c.labels.early_ttl_ms); }},
      {"labels.max_early", [](auto k, S& t, C& c) { return Store(IntegerValue(k, t, 0, 100000000), c.labels.max_early); }},
      {"http.bind", [](auto k, S& t, C& c) { return SetString(k, t, kNameMaxLength, c.http.bind); }},
      {"http.port", [](auto k, S& t, C& c) { return SetInt(k, t, 0, 65535, c.http.port); }},
      {"scale.model_sync", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.sync.enabled); }},
      {"scale.model_sync_mix", [](auto k, S& t, C& c) { return Store(ChoiceValue(k, t, kModelSyncMixNames), c.sync.mix); }},
      {"scale.model_sync_topic", [](auto k, S& t, C& c) { return SetString(k, t, kTopicMaxLength, c.sync.topic); }},
      {"scale.instance_id", [](auto k, S& t, C& c) { return SetString(k, t, kNameMaxLength, c.sync.instance_id); }},
      {"http.enabled", [](auto k, S& t, C& c) { return Store(BoolValue(k, t), c.http.enabled); }},
      {"http.token", [](auto k, S& t, C& c) { return SetString(k, t, kNameMaxLength, c.http.token); }},
      {"http.max_connections", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 10000, c.http.max_connections); }},
      {"http.predict_refresh_ms",
       [](auto k, S& t, C& c) { return SetInt(k, t, 10, 600000, c.http.predict_refresh_ms); }},
      {"models.keep", [](auto k, S& t, C& c) { return SetInt(k, t, 1, 1000, c.models.keep); }},
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

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

std::string KeyText(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : std::string("?"); }

// Before anything is read: at every level, a key given twice is an error naming both lines
// (yaml-cpp keeps both, and the later one would win silently), and no key or value is
// longer than the grammar allows.
Status CheckStructure(const YAML::Node& node, const std::string& path, const std::string& source) {
  if (node.IsScalar()) {
    if (node.Scalar().size() > kValueMaxLength) {
      return Status::Invalid(Where(source, node) + ": " + StringValue(path, node.Scalar(), kValueMaxLength).status().message());
    }
    return Status::Ok();
  }
  if (node.IsSequence()) {
    for (const auto& item : node) SL_RETURN_IF_ERROR(CheckStructure(item, path, source));
    return Status::Ok();
  }
  if (!node.IsMap()) return Status::Ok();
  std::map<std::string, int, std::less<>> first_line;
  for (const auto& item : node) {
    const std::string key = KeyText(item.first);
    if (key.size() > kNameMaxLength) {
      return Status::Invalid(Where(source, item.first) + ": a key under '" + (path.empty() ? "(top)" : path) +
                             "' is " + std::to_string(key.size()) + " characters long (at most " +
                             std::to_string(kNameMaxLength) + ")");
    }
    const std::string key_path = path.empty() ? key : path + "." + key;
    auto [it, inserted] = first_line.emplace(key, LineOf(item.first));
    if (!inserted) {
      return Status::Invalid(Where(source, item.first) + ": duplicate key '" + key_path + "' (first at line " +
                             std::to_string(it->second) + ")");
    }
    SL_RETURN_IF_ERROR(CheckStructure(item.second, key_path, source));
  }
  return Status::Ok();
}

// Where each key was written (path -> line), so errors found later name the line too, and
// a key spelled twice (`kafka.group_id:` and `kafka: {group_id:}`) is caught.
using KeyLines = std::map<std::string, int>;

Status Record(KeyLines& lines, const std::string& path, const YAML::Node& key, const std::string& source) {
  auto [it, inserted] = lines.emplace(path, LineOf(key));
  if (!inserted) {
    return Status::Invalid(Where(source, key) + ": duplicate key '" + path + "' (first at line " +
                           std::to_string(it->second) + ")");
  }
  return Status::Ok();
}

Status FlattenFeatures(const YAML::Node& key_node, const YAML::Node& value, const std::string& key,
                       const std::string& source, std::map<std::string, std::string>& out, KeyLines& lines) {
  if (value.IsScalar()) {
    SL_RETURN_IF_ERROR(Record(lines, "features." + key, key_node, source));
    out[key] = value.Scalar();
    return Status::Ok();
  }
  if (value.IsSequence()) {
    SL_RETURN_IF_ERROR(Record(lines, "features." + key, key_node, source));
    std::string joined;
    for (const auto& item : value) {
      if (!item.IsScalar()) return Status::Invalid(Where(source, item) + ": features." + key + ": list items must be single values");
      joined += (joined.empty() ? "" : ",") + item.Scalar();
    }
    out[key] = joined;
    return Status::Ok();
  }
  if (value.IsMap()) {
    for (const auto& item : value) {
      SL_RETURN_IF_ERROR(FlattenFeatures(item.first, item.second, key + "." + KeyText(item.first), source, out, lines));
    }
    return Status::Ok();
  }
  return Status::Invalid(Where(source, value) + ": features." + key + ": must be a value, a list or a section");
}

// A learner setting as text: a single value, or a list of single values as "[a, b]" (an
// MLP's hidden_dims: [16, 8]). False for anything else.
bool SettingText(const YAML::Node& value, std::string* out) {
  if (value.IsScalar()) {
    *out = value.Scalar();
    return true;
  }
  if (!value.IsSequence()) return false;
  std::string joined;
  for (const auto& item : value) {
    if (!item.IsScalar()) return false;
    joined += (joined.empty() ? "" : ", ") + item.Scalar();
  }
  *out = "[" + joined + "]";
  return true;
}

// Edit distance of two short names (insertions, deletions, substitutions), for a suggestion.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'kafka.batch_size'?)" for a key of a section that is one or two edits
// from a known key of the same section; "" when none is that close.
std::string DidYouMean(const std::string& path) {
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos) return "";
  const std::string section = path.substr(0, dot + 1);
  const KeySpec* closest = nullptr;
  size_t best = 3;
  for (const auto& k : Keys()) {
    if (k.path.rfind(section, 0) != 0 || k.path.find('.', section.size()) != std::string::npos) continue;
    const size_t d = EditDistance(path, k.path);
    if (d < best) {
      best = d;
      closest = &k;
    }
  }
  return closest ? " (did you mean '" + closest->path + "'?)" : "";
}

Status Walk(const YAML::Node& map, const std::string& prefix, const std::string& source, PipelineConfig& config,
            KeyLines& lines) {
  for (const auto& item : map) {
    std::string key = KeyText(item.first);
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
      SL_RETURN_IF_ERROR(FlattenFeatures(item.first, value, path.substr(9), source, config.features.params, lines));
      continue;
    }
    // model: the table has the linear families' keys; any other key is a setting of some
    // learner family (River's names for the trees: grace_period, delta, ...), checked on its
    // own here and for the configured type when the whole config is.
    std::string setting_text;
    if (path.rfind("model.", 0) == 0 && !FindKey(path) && SettingText(value, &setting_text)) {
      SL_RETURN_IF_ERROR(Record(lines, path, item.first, source));
      const std::string setting = path.substr(6);
      Status st = StringValue(path, setting_text, kNameMaxLength).status();
      if (st.ok()) {
        st = learn::CheckLearnerSetting(setting, setting_text);
        if (!st.ok()) st = Status::Invalid(path + ": " + st.message());
      }
      if (!st.ok()) return Status::Invalid(Where(source, value) + ": " + st.message());
      config.model.params[setting] = setting_text;
      continue;
    }
    if (path == "challengers") {
      if (!value.IsMap()) return Status::Invalid(Where(source, value) + ": challengers: must be a map of name: settings");
      for (const auto& model : value) {
        const std::string name = KeyText(model.first);
        if (!model.second.IsMap()) {
          return Status::Invalid(Where(source, model.second) + ": challengers." + name + ": must be a map of settings");
        }
        auto& settings = config.challengers[name];
        for (const auto& setting : model.second) {
          const std::string setting_path = "challengers." + name + "." + KeyText(setting.first);
          std::string text;
          if (!SettingText(setting.second, &text)) {
            return Status::Invalid(Where(source, setting.second) + ": " + setting_path +
                                   ": must be a single value or a list of them");
          }
          SL_RETURN_IF_ERROR(Record(lines, setting_path, setting.first, source));
          settings[KeyText(setting.first)] = text;
        }
      }
      continue;
    }
    if (free_map) {
      if (!value.IsMap()) return Status::Invalid(Where(source, value) + ": " + path + ": must be a map of name: value");
      for (const auto& prop : value) {
        const std::string prop_path = path + "." + KeyText(prop.first);
        if (!prop.second.IsScalar()) {
          return Status::Invalid(Where(source, prop.second) + ": " + prop_path + ": must be a single value");
        }
        SL_RETURN_IF_ERROR(Record(lines, prop_path, prop.first, source));
        (*free_map)[KeyText(prop.first)] = prop.second.Scalar();
      }
      continue;
    }
    if (const KeySpec* spec = FindKey(path)) {
      // metrics.slices is a list: its items joined with commas, as the environment gives it.
      const bool list = path == "metrics.slices" && value.IsSequence();
      if (!value.IsScalar() && !list) return Status::Invalid(Where(source, value) + ": " + path + ": must be a single value");
      SL_RETURN_IF_ERROR(Record(lines, path, item.first, source));
      std::string text;
      if (list) {
        for (const auto& element : value) {
          if (!element.IsScalar()) return Status::Invalid(Where(source, element) + ": " + path + ": must be a list of field names");
          text += (text.empty() ? "" : ",") + element.Scalar();
        }
      }
      Status st = spec->set(path, list ? text : value.Scalar(), config);
      if (!st.ok()) return Status::Invalid(Where(source, value) + ": " + st.message());
      continue;
    }
    if (IsSectionPrefix(path)) {
      if (!value.IsMap()) return Status::Invalid(Where(source, value) + ": " + path + ": must be a section (a map)");
      SL_RETURN_IF_ERROR(Walk(value, path, source, config, lines));
      continue;
    }
    return Status::Invalid(Where(source, item.first) + ": unknown key '" + path + "'" + DidYouMean(path));
  }
  return Status::Ok();
}

Status ApplyEnvironment(const Environment& env, PipelineConfig& config) {
  if (!env) return Status::Ok();
  for (const auto& k : Keys()) {
    std::string name = EnvName(k.path);
    const char* value = env(name.c_str());
    if (!value) continue;
    SL_RETURN_IF_ERROR(k.set("environment " + name + " (" + k.path + ")", value, config));
  }
  return Status::Ok();
}

// The file's settings, then the environment's; an empty text only when `allow_empty`.
Result<PipelineConfig> Parse(const std::string& yaml_text, const std::string& source, const Environment& env,
                             bool allow_empty) {
  RegisterLearnerFamilies();  // model.type's choices include every family
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
      SL_RETURN_IF_ERROR(CheckStructure(root, "", source));
      SL_RETURN_IF_ERROR(Walk(root, "", source, config, lines));
    } catch (const YAML::Exception& e) {
      return Status::Invalid(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  } else if (!allow_empty) {
    // A file that sets nothing is a mistake (a wrong path, a truncated copy), not a wish
    // for the defaults: those come from leaving the file out.
    return Status::Invalid(source + ":1: the config has no settings (the file is empty or only comments)");
  }
  SL_RETURN_IF_ERROR(ApplyEnvironment(env, config));
  // The free-form parts (features, model settings, challengers) are checked now, by the
  // libs that own them, so a bad key fails the load and not the first start.
  Status learner = ValidateLearnerSettings(config);
  if (!learner.ok()) {
    // The message starts with the key ("features.x.y: ..."): name its line when the file set
    // it. The longest recorded key followed by ": " is the one (a key may hold ": " itself).
    const std::string& message = learner.message();
    int line = 0;
    size_t matched = 0;
    for (const auto& [key, key_line] : lines) {
      if (key.size() > matched && message.size() > key.size() + 1 && message.compare(0, key.size(), key) == 0 &&
          message.compare(key.size(), 2, ": ") == 0) {
        matched = key.size();
        line = key_line;
      }
    }
    const std::string where = matched == 0 ? source : source + ":" + std::to_string(line);
    // A learner lists its own keys; `model.typ` is more likely a typo of the pipeline's `model.type`.
    const bool unknown = matched > 0 && message.compare(matched, 13, ": unknown key") == 0;
    return Status::Invalid(where + ": " + message + (unknown ? DidYouMean(message.substr(0, matched)) : ""));
  }
  return config;
}

}  // namespace

std::string_view ToString(KafkaOrder order) { return kKafkaOrderNames[static_cast<size_t>(order)]; }
std::string_view ToString(DriftAction action) { return kDriftActionNames[static_cast<size_t>(action)]; }
std::string_view ToString(SelectionMetric metric) { return kSelectionMetricNames[static_cast<size_t>(metric)]; }

Result<KafkaOrder> ParseKafkaOrder(std::string_view name) {
  auto index = ParseChoice(name, kKafkaOrderNames);
  if (!index.ok()) return index.status();
  return static_cast<KafkaOrder>(*index);
}

Result<DriftAction> ParseDriftAction(std::string_view name) {
  auto index = ParseChoice(name, kDriftActionNames);
  if (!index.ok()) return index.status();
  return static_cast<DriftAction>(*index);
}

Task TaskOf(const ModelSettings& model) {
  RegisterLearnerFamilies();
  auto task = learn::TaskOfLearnerType(model.type);
  return task.ok() ? *task : Task::kBinary;
}

namespace {
// A linear regression on SGD without a schedule of its own takes the normalized one: its
// step is bounded by the input's size, so no learning rate and no feature count makes it
// run away.
void BoundRegressionSteps(std::string_view type, std::map<std::string, std::string>& keys) {
  if (type != "linear" && type != "huber") return;
  const auto optimizer = keys.find("optimizer");
  if (optimizer != keys.end() && optimizer->second != "sgd") return;
  keys.emplace("schedule", "normalized");
}

std::map<std::string, std::string> SharedLearnerKeys(const ModelSettings& model, int hash_bits) {
  std::map<std::string, std::string> keys = model.params;
  keys["learning_rate"] = fmt::format("{}", model.learning_rate);
  keys["l2"] = fmt::format("{}", model.l2);
  keys["hash_bits"] = std::to_string(hash_bits);
  return keys;
}
}  // namespace

DriftAction EffectiveDriftAction(const PipelineConfig& config) {
  if (config.drift.action_given || TaskOf(config.model) != Task::kRegression) return config.drift.action;
  return DriftAction::kBackground;
}

std::map<std::string, std::string> LearnerKeys(const ModelSettings& model, int hash_bits) {
  std::map<std::string, std::string> keys = SharedLearnerKeys(model, hash_bits);
  BoundRegressionSteps(model.type, keys);
  return keys;
}


std::map<std::string, std::string> FeatureKeys(const FeatureSettings& features) {
  std::map<std::string, std::string> keys = features.params;
  keys["entity_aggregates"] = features.entity_aggregates ? "true" : "false";
  keys["ewma_half_life_s"] = fmt::format("{}", features.ewma_half_life_s);
  keys["hash_bits"] = std::to_string(features.hash_bits);
  // Outlier clipping is on unless the section says otherwise (clip_std: 0 turns it off).
  keys.try_emplace("fields.*.clip_std", fmt::format("{}", kDefaultClipStd));
  return keys;
}

std::string ChallengerType(const PipelineConfig& config, const std::string& name) {
  auto it = config.challengers.find(name);
  if (it == config.challengers.end()) return config.model.type;
  auto type = it->second.find("type");
  return type == it->second.end() ? config.model.type : type->second;
}

std::map<std::string, std::string> ChallengerKeys(const PipelineConfig& config, const std::string& name) {
  std::map<std::string, std::string> keys = SharedLearnerKeys(config.model, config.features.hash_bits);
  auto it = config.challengers.find(name);
  if (it == config.challengers.end()) return LearnerKeys(config.model, config.features.hash_bits);
  const std::string type = ChallengerType(config, name);
  if (type != config.model.type) {
    // Of another type, it takes of the champion's own settings only those its type knows
    // (a logistic challenger beside an mlp champion has no use for hidden_dims); the
    // pipeline-wide ones (learning_rate, l2, hash_bits) always.
    ModelSettings pipeline_wide;
    pipeline_wide.learning_rate = config.model.learning_rate;
    pipeline_wide.l2 = config.model.l2;
    std::map<std::string, std::string> shared = SharedLearnerKeys(pipeline_wide, config.features.hash_bits);
    for (const auto& [key, value] : config.model.params) {
      std::map<std::string, std::string> probe = shared;
      probe[key] = value;
      if (learn::MakeLearner(type, probe).ok()) shared[key] = value;
    }
    keys = std::move(shared);
  }
  for (const auto& [key, value] : it->second) {
    if (key != "type") keys[key] = value;
  }
  BoundRegressionSteps(type, keys);
  return keys;
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
  return ValidateSelectionSettings(config);
}

Result<PipelineConfig> ParseConfig(const std::string& yaml_text, const std::string& source, const Environment& env) {
  return Parse(yaml_text, source, env, /*allow_empty=*/false);
}

Result<PipelineConfig> LoadConfigFile(const std::string& path, const Environment& env) {
  std::ifstream in(path);
  if (!in) return Status::IoError("config file " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path, env);
}

Result<PipelineConfig> DefaultConfig(const Environment& env) { return Parse("", "defaults", env, /*allow_empty=*/true); }

std::vector<std::string> UnknownSettingVariables(const std::vector<std::string>& names) {
  std::vector<std::string> sections;  // "STREAMLEARN_KAFKA_", ...: the settings' namespace
  for (const auto& k : Keys()) {
    const std::string section = EnvName(k.path.substr(0, k.path.find('.'))) + "_";
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) sections.push_back(section);
  }
  std::vector<std::string> warnings;
  for (const auto& name : names) {
    const bool in_a_section = std::any_of(sections.begin(), sections.end(),
                                          [&](const std::string& s) { return name.starts_with(s); });
    if (!in_a_section) continue;  // the tooling's own STREAMLEARN_* variables are not settings
    const KeySpec* closest = nullptr;
    size_t best = 4;  // a suggestion only for a likely typo
    bool known = false;
    for (const auto& k : Keys()) {
      const std::string env_name = EnvName(k.path);
      if (env_name == name) {
        known = true;
        break;
      }
      const size_t d = EditDistance(name, env_name);
      if (d < best) {
        best = d;
        closest = &k;
      }
    }
    if (known) continue;
    std::string message = "environment " + name + " is not a setting and is ignored";
    if (closest) message += " (did you mean " + EnvName(closest->path) + ", " + closest->path + "?)";
    warnings.push_back(std::move(message));
  }
  return warnings;
}

std::string ChangelogTopic(const PipelineConfig& config) {
  if (!config.scale.changelog_topic.empty()) return config.scale.changelog_topic;
  // Like Kafka Streams' <application.id>-<store>-changelog: the group owns the state.
  return config.kafka.group_id + "-" + config.kafka.events_topic + "-changelog";
}

}  // namespace streamlearn::pipeline
