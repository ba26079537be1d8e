// LinearModelConfig: names, validation, parsing from key -> value strings, and the SGD
// learning-rate schedules.

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

#include "linear_model_internal.hpp"
#include "streamlearn/core/config_values.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn {

namespace {

using linear_detail::kMaxHashBits;
using linear_detail::kMinHashBits;

constexpr std::array<Loss, 5> kLosses = {Loss::kLog, Loss::kSoftmax, Loss::kSquared, Loss::kHuber,
                                         Loss::kHinge};
constexpr std::array<Optimizer, 4> kOptimizers = {Optimizer::kSgd, Optimizer::kAdagrad, Optimizer::kAdam,
                                                  Optimizer::kFtrl};
constexpr std::array<Schedule, 4> kSchedules = {Schedule::kConstant, Schedule::kInvscaling, Schedule::kOptimal,
                                                Schedule::kNormalized};

// Shortest text that reads back as the same double.
std::string FormatNumber(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc()) return "?";
  std::string text(buf.data(), end);
  // "1e-06" -> "1e-6": the exponent without padding, as people write it.
  const size_t e = text.find('e');
  if (e != std::string::npos) {
    size_t digits = e + 1;
    if (digits < text.size() && (text[digits] == '-' || text[digits] == '+')) ++digits;
    while (digits + 1 < text.size() && text[digits] == '0') text.erase(digits, 1);
  }
  return text;
}

template <typename Enum, size_t N>
std::string Choices(const std::array<Enum, N>& all) {
  std::string out;
  for (Enum e : all) {
    if (!out.empty()) out += ", ";
    out += ToString(e);
  }
  return out;
}

template <typename Enum, size_t N>
bool Known(Enum e, const std::array<Enum, N>& all) {
  for (Enum k : all) {
    if (k == e) return true;
  }
  return false;
}

// Values follow core's config grammar (a number may be nan or inf here: validate() names
// the key's range then); the caller adds "<prefix><key>: ".
bool ReadNumber(const std::string& text, double& out) {
  auto v = ParseNumber(text);
  if (v.ok()) out = *v;
  return v.ok();
}

bool ReadUint32(const std::string& text, uint32_t& out) {
  auto v = ParseInteger(text);
  if (!v.ok() || *v < 0 || *v > std::numeric_limits<uint32_t>::max()) return false;
  out = static_cast<uint32_t>(*v);
  return true;
}

bool ReadBool(const std::string& text, bool& out) {
  auto v = ParseBool(text);
  if (v.ok()) out = *v;
  return v.ok();
}

template <typename Enum, size_t N>
bool ParseEnum(const std::string& text, const std::array<Enum, N>& all, Enum& out) {
  for (Enum e : all) {
    if (text == ToString(e)) {
      out = e;
      return true;
    }
  }
  return false;
}

class Checker {
 public:
  explicit Checker(std::string_view prefix) : prefix_(prefix) {}

  void positive(const char* key, double v) {
    if (!(v > 0) || !std::isfinite(v)) fail(key, "must be a positive finite number", v);
  }
  void non_negative(const char* key, double v) {
    if (!(v >= 0) || !std::isfinite(v)) fail(key, "must be a finite number >= 0", v);
  }
  void unit_interval(const char* key, double v) {
    if (!(v >= 0 && v < 1)) fail(key, "must be in [0, 1)", v);
  }
  void fail(const char* key, const std::string& problem, double v) {
    fail(key, problem + ", got " + FormatNumber(v));
  }
  void fail(const char* key, const std::string& problem) {
    if (status_.ok()) status_ = Status::Invalid(std::string(prefix_) + key + ": " + problem);
  }
  Status status() const { return status_; }

 private:
  std::string_view prefix_;
  Status status_;
};

}  // namespace

std::string_view ToString(Loss loss) {
  switch (loss) {
    case Loss::kLog: return "log";
    case Loss::kSoftmax: return "softmax";
    case Loss::kSquared: return "squared";
    case Loss::kHuber: return "huber";
    case Loss::kHinge: return "hinge";
  }
  return "unknown";
}

std::string_view ToString(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::kSgd: return "sgd";
    case Optimizer::kAdagrad: return "adagrad";
    case Optimizer::kAdam: return "adam";
    case Optimizer::kFtrl: return "ftrl";
  }
  return "unknown";
}

std::string_view ToString(Schedule schedule) {
  switch (schedule) {
    case Schedule::kConstant: return "constant";
    case Schedule::kInvscaling: return "invscaling";
    case Schedule::kOptimal: return "optimal";
    case Schedule::kNormalized: return "normalized";
  }
  return "unknown";
}

// Checks in key order, so the first problem reported is stable.
Status LinearModelConfig::validate(std::string_view key_prefix) const {
  Checker check(key_prefix);
  if (!Known(loss, kLosses)) {
    check.fail("loss", "must be one of " + Choices(kLosses) + ", got code " +
                           std::to_string(static_cast<int>(loss)));
  }
  check.positive("huber_epsilon", huber_epsilon);
  if (loss == Loss::kSoftmax) {
    if (classes == 1 || classes > kMaxSoftmaxClasses) {
      check.fail("classes", "must be 0 (grow as labels appear) or 2.." + std::to_string(kMaxSoftmaxClasses) +
                                ", got " + std::to_string(classes));
    }
  } else if (classes != 0) {
    check.fail("classes", "only loss softmax takes a class count (loss is " + std::string(ToString(loss)) +
                              "), got " + std::to_string(classes));
  }
  if (!Known(optimizer, kOptimizers)) {
    check.fail("optimizer", "must be one of " + Choices(kOptimizers) + ", got code " +
                                std::to_string(static_cast<int>(optimizer)));
  }
  if (!Known(schedule, kSchedules)) {
    check.fail("schedule", "must be one of " + Choices(kSchedules) + ", got code " +
                               std::to_string(static_cast<int>(schedule)));
  } else if (schedule != Schedule::kConstant && optimizer != Optimizer::kSgd) {
    check.fail("schedule", "only optimizer sgd has a schedule (optimizer is " + std::string(ToString(optimizer)) +
                               "), got " + std::string(ToString(schedule)));
  }
  check.positive("learning_rate", learning_rate);
  check.non_negative("power_t", power_t);
  check.positive("alpha", alpha);
  check.unit_interval("beta1", beta1);
  check.unit_interval("beta2", beta2);
  check.positive("epsilon", epsilon);
  check.positive("ftrl_alpha", ftrl_alpha);
  check.non_negative("ftrl_beta", ftrl_beta);
  check.non_negative("l1", l1);
  check.non_negative("l2", l2);
  if (check.status().ok() && optimizer == Optimizer::kSgd && l2 > 0) {
    // The largest step is the first: the decay 1 - eta * l2 must stay positive, or the
    // weights would flip sign (or be wiped) every step.
    const double eta = SgdLearningRate(*this, 1);
    if (!(eta * l2 < 1)) {
      check.fail("l2", "the SGD step size times l2 must be below 1 (first step " + FormatNumber(eta) + ")", l2);
    }
  }
  if (hash_bits < kMinHashBits || hash_bits > kMaxHashBits) {
    check.fail("hash_bits", "must be between 4 and 24, got " + std::to_string(hash_bits));
  }
  return check.status();
}

Result<LinearModelConfig> ParseLinearModelConfig(const std::map<std::string, std::string>& values,
                                                 std::string_view key_prefix) {
  LinearModelConfig c;
  const std::string prefix(key_prefix);
  for (const auto& entry : values) {
    // Named references, not a structured binding: clang 14 (make fuzz) cannot capture those.
    const std::string& key = entry.first;
    const std::string& text = entry.second;
    const auto bad = [&](const std::string& expected) {
      return Status::Invalid(prefix + key + ": expected " + expected + ", got '" + text + "'");
    };
    const auto number = [&](double& field) -> Status {
      return ReadNumber(text, field) ? Status::Ok() : bad("a number");
    };
    const auto count = [&](uint32_t& field) -> Status {
      return ReadUint32(text, field) ? Status::Ok() : bad("a whole number >= 0");
    };

    if (key == "loss") {
      // scikit-learn's and the pipeline's names for the logistic loss are taken too.
      if (text == "logistic" || text == "log_loss") {
        c.loss = Loss::kLog;
      } else if (!ParseEnum(text, kLosses, c.loss)) {
        return bad("one of " + Choices(kLosses));
      }
    } else if (key == "optimizer") {
      if (!ParseEnum(text, kOptimizers, c.optimizer)) return bad("one of " + Choices(kOptimizers));
    } else if (key == "schedule") {
      if (!ParseEnum(text, kSchedules, c.schedule)) return bad("one of " + Choices(kSchedules));
    } else if (key == "standardize") {
      if (!ReadBool(text, c.standardize)) return bad("true or false");
    } else if (key == "classes") {
      SL_RETURN_IF_ERROR(count(c.classes));
    } else if (key == "hash_bits") {
      SL_RETURN_IF_ERROR(count(c.hash_bits));
    } else if (key == "huber_epsilon") {
      SL_RETURN_IF_ERROR(number(c.huber_epsilon));
    } else if (key == "learning_rate") {
      SL_RETURN_IF_ERROR(number(c.learning_rate));
    } else if (key == "power_t") {
      SL_RETURN_IF_ERROR(number(c.power_t));
    } else if (key == "alpha") {
      SL_RETURN_IF_ERROR(number(c.alpha));
    } else if (key == "beta1") {
      SL_RETURN_IF_ERROR(number(c.beta1));
    } else if (key == "beta2") {
      SL_RETURN_IF_ERROR(number(c.beta2));
    } else if (key == "epsilon") {
      SL_RETURN_IF_ERROR(number(c.epsilon));
    } else if (key == "ftrl_alpha") {
      SL_RETURN_IF_ERROR(number(c.ftrl_alpha));
    } else if (key == "ftrl_beta") {
      SL_RETURN_IF_ERROR(number(c.ftrl_beta));
    } else if (key == "l1") {
      SL_RETURN_IF_ERROR(number(c.l1));
    } else if (key == "l2") {
      SL_RETURN_IF_ERROR(number(c.l2));
    } else {
      std::string known;
      for (const auto& [k, v] : ToStringMap(LinearModelConfig{})) known += (known.empty() ? "" : ", ") + k;
      return Status::Invalid(prefix + key + ": unknown key (known: " + known + ")");
    }
  }
  SL_RETURN_IF_ERROR(c.validate(key_prefix));
  return c;
}

std::map<std::string, std::string> ToStringMap(const LinearModelConfig& c) {
  return {
      {"loss", std::string(ToString(c.loss))},
      {"huber_epsilon", FormatNumber(c.huber_epsilon)},
      {"classes", std::to_string(c.classes)},
      {"optimizer", std::string(ToString(c.optimizer))},
      {"schedule", std::string(ToString(c.schedule))},
      {"learning_rate", FormatNumber(c.learning_rate)},
      {"power_t", FormatNumber(c.power_t)},
      {"alpha", FormatNumber(c.alpha)},
      {"beta1", FormatNumber(c.beta1)},
      {"beta2", FormatNumber(c.beta2)},
      {"epsilon", FormatNumber(c.epsilon)},
      {"ftrl_alpha", FormatNumber(c.ftrl_alpha)},
      {"ftrl_beta", FormatNumber(c.ftrl_beta)},
      {"l1", FormatNumber(c.l1)},
      {"l2", FormatNumber(c.l2)},
      {"hash_bits", std::to_string(c.hash_bits)},
      {"standardize", c.standardize ? "true" : "false"},
  };
}

double SgdLearningRate(const LinearModelConfig& config, uint64_t t) {
  return linear_detail::ScheduleRate(config, linear_detail::OptimalT0(config), t);
}

}  // namespace streamlearn::learn
