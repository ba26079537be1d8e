#include "streamlearn/drift/factory.hpp"

#include <cmath>
#include <functional>

#include "streamlearn/core/config_values.hpp"
#include "streamlearn/drift/adwin.hpp"
#include "streamlearn/drift/ddm.hpp"
#include "streamlearn/drift/eddm.hpp"
#include "streamlearn/drift/hddm_a.hpp"
#include "streamlearn/drift/hddm_w.hpp"
#include "streamlearn/drift/kswin.hpp"
#include "streamlearn/drift/page_hinkley.hpp"

namespace streamlearn::drift {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// One parameter: its River name and how to store its text into the params struct P.
template <typename P>
struct Field {
  std::string name;
  std::function<Status(const std::string& text, P& params)> set;
};

Status BadValue(std::string_view detector, const std::string& param, const std::string& text,
                const std::string& expected) {
  return Status::Invalid(std::string(detector) + ": parameter " + param + ": '" + text +
                         "' is not " + expected);
}

// Values follow core's config grammar; a number must be finite.
bool ReadInt64(const std::string& text, int64_t* out) {
  auto v = ParseInteger(text);
  if (v.ok()) *out = *v;
  return v.ok();
}

bool ReadFiniteNumber(const std::string& text, double* out) {
  auto v = ParseNumber(text);
  if (!v.ok() || !std::isfinite(*v)) return false;
  *out = *v;
  return true;
}

template <typename P>
Field<P> IntField(std::string_view detector, const std::string& name, int P::*member) {
  return {name, [detector, name, member](const std::string& text, P& p) {
            int64_t v = 0;
            if (!ReadInt64(text, &v) || v < INT32_MIN || v > INT32_MAX) {
              return BadValue(detector, name, text, "an integer");
            }
            p.*member = static_cast<int>(v);
            return Status::Ok();
          }};
}

template <typename P>
Field<P> DoubleField(std::string_view detector, const std::string& name, double P::*member) {
  return {name, [detector, name, member](const std::string& text, P& p) {
            double v = 0;
            if (!ReadFiniteNumber(text, &v)) return BadValue(detector, name, text, "a finite number");
            p.*member = v;
            return Status::Ok();
          }};
}

template <typename P>
Field<P> BoolField(std::string_view detector, const std::string& name, bool P::*member) {
  return {name, [detector, name, member](const std::string& text, P& p) {
            // River's parameters are Python's: True/False, not YAML's yes/no/on/off.
            auto v = ParseBool(text, BoolWords::kTrueFalse);
            if (!v.ok()) return BadValue(detector, name, text, "a boolean (true or false)");
            p.*member = *v;
            return Status::Ok();
          }};
}

template <typename P>
std::vector<std::string> Names(const std::vector<Field<P>>& fields) {
  std::vector<std::string> names;
  for (const Field<P>& f : fields) names.push_back(f.name);
  return names;
}

// Applies `given` onto River's defaults, then builds the detector with `make`.
template <typename P>
Result<std::unique_ptr<DriftDetector>> Build(
    std::string_view detector, const std::vector<Field<P>>& fields,
    const std::map<std::string, std::string>& given,
    const std::function<Result<std::unique_ptr<DriftDetector>>(const P&)>& make) {
  P params;
  for (const auto& [key, text] : given) {
    const Field<P>* field = nullptr;
    for (const Field<P>& f : fields) {
      if (f.name == key) field = &f;
    }
    if (field == nullptr) {
      return Status::Invalid("unknown parameter '" + key + "' for detector " +
                             std::string(detector) + "; valid parameters: " + Join(Names(fields)));
    }
    SL_RETURN_IF_ERROR(field->set(text, params));
  }
  return make(params);
}

std::vector<Field<AdwinParams>> AdwinFields() {
  constexpr std::string_view d = "adwin";
  return {DoubleField<AdwinParams>(d, "delta", &AdwinParams::delta),
          IntField<AdwinParams>(d, "clock", &AdwinParams::clock),
          IntField<AdwinParams>(d, "max_buckets", &AdwinParams::max_buckets),
          IntField<AdwinParams>(d, "min_window_length", &AdwinParams::min_window_length),
          IntField<AdwinParams>(d, "grace_period", &AdwinParams::grace_period)};
}

std::vector<Field<DdmParams>> DdmFields() {
  constexpr std::string_view d = "ddm";
  return {IntField<DdmParams>(d, "warm_start", &DdmParams::warm_start),
          DoubleField<DdmParams>(d, "warning_threshold", &DdmParams::warning_threshold),
          DoubleField<DdmParams>(d, "drift_threshold", &DdmParams::drift_threshold)};
}

std::vector<Field<EddmParams>> EddmFields() {
  constexpr std::string_view d = "eddm";
  return {IntField<EddmParams>(d, "warm_start", &EddmParams::warm_start),
          DoubleField<EddmParams>(d, "alpha", &EddmParams::alpha),
          DoubleField<EddmParams>(d, "beta", &EddmParams::beta)};
}

std::vector<Field<HddmAParams>> HddmAFields() {
  constexpr std::string_view d = "hddm_a";
  return {DoubleField<HddmAParams>(d, "drift_confidence", &HddmAParams::drift_confidence),
          DoubleField<HddmAParams>(d, "warning_confidence", &HddmAParams::warning_confidence),
          BoolField<HddmAParams>(d, "two_sided_test", &HddmAParams::two_sided_test)};
}

std::vector<Field<HddmWParams>> HddmWFields() {
  constexpr std::string_view d = "hddm_w";
  return {DoubleField<HddmWParams>(d, "drift_confidence", &HddmWParams::drift_confidence),
          DoubleField<HddmWParams>(d, "warning_confidence", &HddmWParams::warning_confidence),
          DoubleField<HddmWParams>(d, "lambda_val", &HddmWParams::lambda_val),
          BoolField<HddmWParams>(d, "two_sided_test", &HddmWParams::two_sided_test)};
}

std::vector<Field<PageHinkleyParams>> PageHinkleyFields() {
  constexpr std::string_view d = "page_hinkley";
  using P = PageHinkleyParams;
  return {IntField<P>(d, "min_instances", &P::min_instances),
          DoubleField<P>(d, "delta", &P::delta),
          DoubleField<P>(d, "threshold", &P::threshold),
          DoubleField<P>(d, "alpha", &P::alpha),
          {"mode", [](const std::string& text, P& p) {
             Result<PageHinkleyMode> mode = ParsePageHinkleyMode(text);
             if (!mode.ok()) return mode.status();
             p.mode = *mode;
             return Status::Ok();
           }}};
}

std::vector<Field<KswinParams>> KswinFields() {
  constexpr std::string_view d = "kswin";
  using P = KswinParams;
  return {DoubleField<P>(d, "alpha", &P::alpha),
          IntField<P>(d, "window_size", &P::window_size),
          IntField<P>(d, "stat_size", &P::stat_size),
          {"seed",
           [d](const std::string& text, P& p) {
             int64_t v = 0;
             if (!ReadInt64(text, &v)) return BadValue(d, "seed", text, "an integer");
             p.seed = v;
             return Status::Ok();
           }},
          {"window", [d](const std::string& text, P& p) {
             p.window.clear();
             size_t start = 0;
             while (start <= text.size() && !text.empty()) {
               size_t comma = text.find(',', start);
               if (comma == std::string::npos) comma = text.size();
               const std::string item = text.substr(start, comma - start);
               double v = 0;
               if (!ReadFiniteNumber(item, &v)) {
                 return BadValue(d, "window", text, "a comma-separated list of finite numbers");
               }
               p.window.push_back(v);
               start = comma + 1;
             }
             return Status::Ok();
           }}};
}

}  // namespace

const std::vector<std::string>& DetectorNames() {
  static const std::vector<std::string> names = {"adwin",  "ddm",          "eddm", "hddm_a",
                                                 "hddm_w", "page_hinkley", "kswin"};
  return names;
}

std::vector<std::string> DetectorParamNames(std::string_view name) {
  if (name == "adwin") return Names(AdwinFields());
  if (name == "ddm") return Names(DdmFields());
  if (name == "eddm") return Names(EddmFields());
  if (name == "hddm_a") return Names(HddmAFields());
  if (name == "hddm_w") return Names(HddmWFields());
  if (name == "page_hinkley") return Names(PageHinkleyFields());
  if (name == "kswin") return Names(KswinFields());
  return {};
}

Result<std::unique_ptr<DriftDetector>> MakeDetector(
    std::string_view name, const std::map<std::string, std::string>& params) {
  if (name == "adwin") {
    return Build<AdwinParams>(name, AdwinFields(), params, MakeAdwin);
  }
  if (name == "ddm") return Build<DdmParams>(name, DdmFields(), params, MakeDdm);
  if (name == "eddm") return Build<EddmParams>(name, EddmFields(), params, MakeEddm);
  if (name == "hddm_a") return Build<HddmAParams>(name, HddmAFields(), params, MakeHddmA);
  if (name == "hddm_w") return Build<HddmWParams>(name, HddmWFields(), params, MakeHddmW);
  if (name == "page_hinkley") {
    return Build<PageHinkleyParams>(name, PageHinkleyFields(), params, MakePageHinkley);
  }
  if (name == "kswin") return Build<KswinParams>(name, KswinFields(), params, MakeKswin);
  return Status::Invalid("unknown detector '" + std::string(name) +
                         "'; valid detectors: " + Join(DetectorNames()));
}

}  // namespace streamlearn::drift
