#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "streamlearn/core/config_values.hpp"
#include "streamlearn/features/config.hpp"
#include "streamlearn/features/pca.hpp"

namespace streamlearn::features {
namespace {

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  s = Trim(s);
  // A YAML flow list may arrive with its brackets: [a, b].
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = Trim(s.substr(1, s.size() - 2));
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = Trim(s.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

Status Bad(std::string_view key, std::string_view what, std::string_view got) {
  return Status::Invalid("features." + std::string(key) + ": " + std::string(what) + ", got '" + std::string(got) + "'");
}

// The values follow core's config grammar; the messages keep this section's wording.
Status ReadBool(std::string_view key, std::string_view v, bool* out) {
  auto b = ParseBool(v);
  if (!b.ok()) return Bad(key, "must be true or false", v);
  *out = *b;
  return Status::Ok();
}

Status ReadNumber(std::string_view key, std::string_view v, double* out) {
  auto d = ParseNumber(v);
  if (!d.ok() || !std::isfinite(*d)) return Bad(key, "must be a number", v);
  *out = *d;
  return Status::Ok();
}

Status ReadUint(std::string_view key, std::string_view v, uint32_t* out) {
  auto n = ParseInteger(v);
  if (!n.ok() || *n < 0 || *n > std::numeric_limits<uint32_t>::max()) return Bad(key, "must be a whole number >= 0", v);
  *out = static_cast<uint32_t>(*n);
  return Status::Ok();
}

Status ParseAggregates(std::string_view key, std::string_view v, uint32_t* out) {
  static const std::pair<std::string_view, uint32_t> kNames[] = {
      {"count", kAggCount}, {"since_last", kAggSinceLast}, {"sum", kAggSum}, {"mean", kAggMean},
      {"std", kAggStd},     {"min", kAggMin},              {"max", kAggMax}, {"ewma", kAggEwma},
      {"last", kAggLast}};
  uint32_t bits = 0;
  for (const auto& item : SplitList(v)) {
    auto it = std::find_if(std::begin(kNames), std::end(kNames), [&](const auto& p) { return p.first == item; });
    if (it == std::end(kNames)) {
      return Bad(key, "unknown aggregate (count, since_last, sum, mean, std, min, max, ewma, last)", item);
    }
    bits |= it->second;
  }
  *out = bits;
  return Status::Ok();
}

Status ParseWindows(std::string_view key, std::string_view v, std::vector<WindowSpec>* out) {
  out->clear();
  for (const auto& item : SplitList(v)) {
    std::string_view s = item;
    WindowSpec w;
    if (s.starts_with("tumbling:")) {
      w.tumbling = true;
      s.remove_prefix(9);
    } else if (s.starts_with("sliding:")) {
      s.remove_prefix(8);
    }
    s = Trim(s);
    auto ms = ParseDurationMs(s);
    if (!ms.ok() || *ms < 1) return Bad(key, "a window is [sliding:|tumbling:]<duration> such as 1m, 1h, tumbling:1d", item);
    w.width_ms = *ms;
    w.name = std::string(s) + (w.tumbling ? "_tumbling" : "");
    out->push_back(std::move(w));
  }
  return Status::Ok();
}

Status ParseCrosses(std::string_view key, std::string_view v, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  for (const auto& item : SplitList(v)) {
    size_t star = item.find('*');
    if (star == std::string::npos || item.find('*', star + 1) != std::string::npos) {
      return Bad(key, "a cross is a pair of field names a*b", item);
    }
    out->emplace_back(std::string(Trim(std::string_view(item).substr(0, star))),
                      std::string(Trim(std::string_view(item).substr(star + 1))));
  }
  return Status::Ok();
}

// One fields.<name>.<setting> value.
Status ParseFieldKey(std::string_view key, std::string_view setting, std::string_view v, FieldConfig* f) {
  std::string_view t = Trim(v);
  if (setting == "impute") {
    if (t == "none") f->impute = Impute::kNone;
    else if (t == "mean") f->impute = Impute::kMean;
    else if (t == "zero") f->impute = Impute::kZero;
    else if (t == "constant") f->impute = Impute::kConstant;
    else return Bad(key, "must be none, mean, zero or constant", v);
    return Status::Ok();
  }
  if (setting == "impute_value") return ReadNumber(key, v, &f->impute_value);
  if (setting == "missing_indicator") return ReadBool(key, v, &f->missing_indicator);
  if (setting == "clip_std") return ReadNumber(key, v, &f->clip_std);
  if (setting == "clip_min") return ReadNumber(key, v, &f->clip_min);
  if (setting == "clip_max") return ReadNumber(key, v, &f->clip_max);
  if (setting == "log1p") {
    if (t == "signed") {
      f->log1p = Log1p::kSigned;
      return Status::Ok();
    }
    auto on = ParseBool(t);
    if (!on.ok()) return Bad(key, "must be false, true or signed", v);
    f->log1p = *on ? Log1p::kOn : Log1p::kOff;
    return Status::Ok();
  }
  if (setting == "scale") {
    if (t == "none") f->scale = Scale::kNone;
    else if (t == "standard") f->scale = Scale::kStandard;
    else if (t == "minmax") f->scale = Scale::kMinMax;
    else return Bad(key, "must be none, standard or minmax", v);
    return Status::Ok();
  }
  if (setting == "encoding") {
    if (t == "hash") f->encoding = Encoding::kHash;
    else if (t == "onehot") f->encoding = Encoding::kOneHot;
    else return Bad(key, "must be hash or onehot", v);
    return Status::Ok();
  }
  if (setting == "max_categories") return ReadUint(key, v, &f->max_categories);
  if (setting == "aggregates") {
    uint32_t bits = 0;
    if (t != "none") {
      SL_RETURN_IF_ERROR(ParseAggregates(key, v, &bits));
      if ((bits & ~kFieldAggregates) != 0) {
        return Bad(key, "count and since_last are the entity's, set in features.aggregates (a field's: sum, mean, std, min, max, ewma, last, or none)", v);
      }
    }
    f->aggregates = bits;
    return Status::Ok();
  }
  return Status::Invalid("features." + std::string(key) +
                         ": unknown field setting (impute, impute_value, missing_indicator, clip_std, clip_min, "
                         "clip_max, log1p, scale, encoding, max_categories, aggregates)");
}

Status ValidateField(const std::string& name, const FieldConfig& f, uint32_t hash_bits) {
  const std::string k = "features.fields." + name + ".";
  if (!std::isfinite(f.impute_value)) return Status::Invalid(k + "impute_value: must be a finite number");
  if (!(f.clip_std >= 0) || !std::isfinite(f.clip_std)) {
    return Status::Invalid(k + "clip_std: must be > 0 (0 = off), got " + Num(f.clip_std));
  }
  if (std::isnan(f.clip_min) || f.clip_min == std::numeric_limits<double>::infinity()) {
    return Status::Invalid(k + "clip_min: must be a number below +inf");
  }
  if (std::isnan(f.clip_max) || f.clip_max == -std::numeric_limits<double>::infinity()) {
    return Status::Invalid(k + "clip_max: must be a number above -inf");
  }
  if (!(f.clip_min < f.clip_max)) {
    return Status::Invalid(k + "clip_max: must be above clip_min (" + Num(f.clip_min) + "), got " + Num(f.clip_max));
  }
  if (f.log1p == Log1p::kOn && f.clip_max < 0) {
    return Status::Invalid(k + "log1p: true refuses negative values, and clip_max " + Num(f.clip_max) +
                           " makes every value negative (use log1p: signed)");
  }
  if (f.log1p == Log1p::kOn && f.impute == Impute::kConstant && f.impute_value < 0) {
    return Status::Invalid(k + "impute_value: log1p: true refuses negative values, got " + Num(f.impute_value));
  }
  if (f.aggregates && (*f.aggregates & ~kFieldAggregates) != 0) {
    return Status::Invalid(k + "aggregates: a field's aggregates are sum, mean, std, min, max, ewma, last");
  }
  if (f.max_categories < 1 || f.max_categories >= (1u << std::min(hash_bits, 24u))) {
    return Status::Invalid(k + "max_categories: must be between 1 and 2^hash_bits - 1, got " +
                           std::to_string(f.max_categories));
  }
  return Status::Ok();
}

constexpr uint32_t kAllAggregates = kAggCount | kAggSinceLast | kAggSum | kAggMean | kAggStd | kAggMin | kAggMax |
                                    kAggEwma | kAggLast;

}  // namespace

Status FeatureConfig::validate() const {
  // The first three messages are the original ones, word for word.
  if (!(ewma_half_life_s > 0) || !std::isfinite(ewma_half_life_s)) {
    return Status::Invalid("features.ewma_half_life_s: must be a positive number of seconds");
  }
  if (hash_bits < 4 || hash_bits > 24) {
    return Status::Invalid("features.hash_bits: must be between 4 and 24");
  }
  if (max_dense_features < 16) {
    return Status::Invalid("features.max_dense_features: must be at least 16");
  }
  if ((aggregates & ~kAllAggregates) != 0) {
    return Status::Invalid("features.aggregates: unknown aggregate bits " + std::to_string(aggregates & ~kAllAggregates));
  }
  if (window_buckets < 1 || window_buckets > 1000) {
    return Status::Invalid("features.window_buckets: must be between 1 and 1000, got " + std::to_string(window_buckets));
  }
  if (windows.size() > 16) return Status::Invalid("features.windows: at most 16 windows");
  std::set<std::string> names;
  for (const auto& w : windows) {
    if (w.width_ms < 1) return Status::Invalid("features.windows: " + w.name + ": must be at least 1ms");
    if (!w.tumbling && w.width_ms % window_buckets != 0) {
      return Status::Invalid("features.windows: " + w.name + " (" + std::to_string(w.width_ms) +
                             "ms) must be a whole number of window_buckets (" + std::to_string(window_buckets) +
                             ") milliseconds");
    }
    if (w.name.empty()) return Status::Invalid("features.windows: a window has no name");
    if (!names.insert(w.name).second) return Status::Invalid("features.windows: " + w.name + " is listed twice");
  }
  if (window_fields.size() > 32) return Status::Invalid("features.window_fields: at most 32 fields");
  names.clear();
  for (const auto& f : window_fields) {
    if (f.empty()) return Status::Invalid("features.window_fields: an empty field name");
    if (!names.insert(f).second) return Status::Invalid("features.window_fields: " + f + " is listed twice");
  }
  if (!window_fields.empty() && windows.empty()) {
    return Status::Invalid("features.window_fields: needs features.windows");
  }
  if (target_prior && !std::isfinite(*target_prior)) {
    return Status::Invalid("features.target_prior: must be \"global\" or a finite number");
  }
  if (nominal_max_values < 1 || nominal_max_values > kMaxNominalValues) {
    return Status::Invalid("features.nominal_max_values: must be between 1 and " + std::to_string(kMaxNominalValues) +
                           ", got " + std::to_string(nominal_max_values));
  }
  if (!(target_prior_weight >= 0) || !std::isfinite(target_prior_weight)) {
    return Status::Invalid("features.target_prior_weight: must be >= 0, got " + Num(target_prior_weight));
  }
  SL_RETURN_IF_ERROR(ValidateField("*", default_field, hash_bits));
  for (const auto& [name, f] : fields) {
    if (name.empty()) return Status::Invalid("features.fields: a field section without a name");
    SL_RETURN_IF_ERROR(ValidateField(name, f, hash_bits));
  }
  if (crosses.size() > 64) return Status::Invalid("features.crosses: at most 64 crosses");
  for (const auto& [a, b] : crosses) {
    if (a.empty() || b.empty()) return Status::Invalid("features.crosses: '" + a + "*" + b + "' lacks a field name");
    if (a == b) return Status::Invalid("features.crosses: '" + a + "*" + b + "' crosses a field with itself");
  }
  if (pca.components > 0) {
    if (pca.components > 64) {
      return Status::Invalid("features.pca.components: must be between 0 and 64, got " + std::to_string(pca.components));
    }
    if (pca.fields.size() < pca.components || pca.fields.size() > OnlinePca::kMaxDims) {
      return Status::Invalid("features.pca.fields: must list between pca.components (" +
                             std::to_string(pca.components) + ") and " + std::to_string(OnlinePca::kMaxDims) +
                             " numeric fields, got " + std::to_string(pca.fields.size()));
    }
    names.clear();
    for (const auto& f : pca.fields) {
      if (f.empty()) return Status::Invalid("features.pca.fields: an empty field name");
      if (!names.insert(f).second) return Status::Invalid("features.pca.fields: " + f + " is listed twice");
    }
    if (pca.refresh_every < 10) {
      return Status::Invalid("features.pca.refresh_every: must be at least 10, got " + std::to_string(pca.refresh_every));
    }
  }
  return Status::Ok();
}

Result<FeatureConfig> FeatureConfig::Parse(const std::map<std::string, std::string>& keys) {
  FeatureConfig c;
  // fields.* first: a named section starts from it, whatever the order of the keys.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> named;  // name -> (setting, key)
  for (const auto& [key, value] : keys) {
    std::string_view k = key;
    if (!k.starts_with("fields.")) continue;
    std::string_view rest = k.substr(7);
    size_t dot = rest.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) {
      return Status::Invalid("features." + key + ": expected fields.<name>.<setting>");
    }
    std::string name(rest.substr(0, dot));
    std::string setting(rest.substr(dot + 1));
    if (name == "*") {
      SL_RETURN_IF_ERROR(ParseFieldKey(key, setting, value, &c.default_field));
    } else {
      named[name].emplace_back(setting, key);
    }
  }
  for (const auto& [name, settings] : named) {
    FieldConfig f = c.default_field;
    for (const auto& [setting, key] : settings) SL_RETURN_IF_ERROR(ParseFieldKey(key, setting, keys.at(key), &f));
    c.fields.emplace(name, f);
  }
  for (const auto& [key, value] : keys) {
    const std::string_view k = key;
    if (k.starts_with("fields.")) continue;
    if (k == "entity_aggregates") {
      SL_RETURN_IF_ERROR(ReadBool(k, value, &c.entity_aggregates));
    } else if (k == "ewma_half_life_s") {
      SL_RETURN_IF_ERROR(ReadNumber(k, value, &c.ewma_half_life_s));
    } else if (k == "hash_bits") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.hash_bits));
    } else if (k == "max_dense_features") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.max_dense_features));
    } else if (k == "aggregates") {
      SL_RETURN_IF_ERROR(ParseAggregates(k, value, &c.aggregates));
    } else if (k == "windows") {
      SL_RETURN_IF_ERROR(ParseWindows(k, value, &c.windows));
    } else if (k == "window_buckets") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.window_buckets));
    } else if (k == "window_fields") {
      c.window_fields = SplitList(value);
    } else if (k == "target_agg") {
      SL_RETURN_IF_ERROR(ReadBool(k, value, &c.target_agg));
    } else if (k == "target_prior") {
      if (Trim(value) == "global") {
        c.target_prior.reset();
      } else {
        double p = 0;
        SL_RETURN_IF_ERROR(ReadNumber(k, value, &p));
        c.target_prior = p;
      }
    } else if (k == "target_prior_weight") {
      SL_RETURN_IF_ERROR(ReadNumber(k, value, &c.target_prior_weight));
    } else if (k == "nominals") {
      SL_RETURN_IF_ERROR(ReadBool(k, value, &c.nominals));
    } else if (k == "nominal_max_values") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.nominal_max_values));
    } else if (k == "crosses") {
      SL_RETURN_IF_ERROR(ParseCrosses(k, value, &c.crosses));
    } else if (k == "pca.components") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.pca.components));
    } else if (k == "pca.fields") {
      c.pca.fields = SplitList(value);
    } else if (k == "pca.refresh_every") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.pca.refresh_every));
    } else if (k == "pca.keep_inputs") {
      SL_RETURN_IF_ERROR(ReadBool(k, value, &c.pca.keep_inputs));
    } else if (k == "lags.labels") {
      SL_RETURN_IF_ERROR(ReadUint(k, value, &c.lags.labels));
      if (c.lags.labels > kMaxLags) return Bad(k, "must be at most " + std::to_string(kMaxLags), value);
    } else if (k.starts_with("lags.fields.") && k.size() > 12) {
      uint32_t n = 0;
      SL_RETURN_IF_ERROR(ReadUint(k, value, &n));
      if (n < 1 || n > kMaxLags) return Bad(k, "must be between 1 and " + std::to_string(kMaxLags), value);
      c.lags.fields[std::string(k.substr(12))] = n;
    } else {
      return Status::Invalid("features." + key +
                             ": unknown key (entity_aggregates, ewma_half_life_s, hash_bits, max_dense_features, "
                             "aggregates, windows, window_buckets, window_fields, target_agg, target_prior, "
                             "target_prior_weight, nominals, nominal_max_values, crosses, pca.components, pca.fields, pca.refresh_every, "
                             "pca.keep_inputs, fields.<name>.<setting>, lags.labels, lags.fields.<name>)");
    }
  }
  SL_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace streamlearn::features
