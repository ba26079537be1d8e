#include "streamlearn/eval/streams.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>

#include "streamlearn/core/json_text.hpp"
#include "streamlearn/eval/sea_generator.hpp"

namespace streamlearn::eval {

namespace {

// Seeds of the engines beside the feature engine (which takes the seed itself): fixed
// odd constants, so each engine's sequence is a pure function of the seed.
constexpr uint64_t kConceptSeed = 0xc0c0'0c0c'a5a5'5a5bULL;
constexpr uint64_t kEntityKeySeed = 0x5ea5'ea5e'0e1d'e1d1ULL;
constexpr uint64_t kProfileSeed = 0x9e37'79b9'7f4a'7c15ULL;

// Deterministic draws (see the header): never std::*_distribution.
class Draws {
 public:
  explicit Draws(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  // 0..n-1 as floor(n * uniform): River's randint(n), without numpy.
  uint64_t below(uint64_t n) {
    return std::min(n - 1, static_cast<uint64_t>(uniform() * static_cast<double>(n)));
  }
  // Box-Muller, one of the pair (the sine half is dropped to keep no state): exactly two
  // uniforms per Gaussian, 1 - u keeps the logarithm finite.
  double gaussian() {
    const double u1 = 1 - uniform(), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 engine_;
};

void AppendUnsigned(std::string& out, uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

void AssignPrefixed(std::string& out, std::string_view prefix, uint64_t v) {
  out.assign(prefix);
  AppendUnsigned(out, v);
}

// Sets the feature names once; later calls with the same layout only compare them.
void Layout(GeneratedEvent* e, const std::vector<std::string>& numeric, const std::vector<std::string>& categorical) {
  bool same = e->numeric.size() == numeric.size() && e->categorical.size() == categorical.size();
  for (size_t i = 0; same && i < numeric.size(); ++i) same = e->numeric[i].name == numeric[i];
  for (size_t i = 0; same && i < categorical.size(); ++i) same = e->categorical[i].name == categorical[i];
  if (same) return;
  e->numeric.resize(numeric.size());
  for (size_t i = 0; i < numeric.size(); ++i) e->numeric[i].name = numeric[i];
  e->categorical.resize(categorical.size());
  for (size_t i = 0; i < categorical.size(); ++i) e->categorical[i].name = categorical[i];
}

void SetNumber(GeneratedEvent* e, size_t i, double v) {
  e->numeric[i].value = v;
  e->numeric[i].missing = false;
}

void SetBinaryLabel(GeneratedEvent* e, int label) {
  e->label.kind = Label::Kind::kBinary;
  e->label.value = label;
  e->label.class_name.clear();
}

void SetClassLabel(GeneratedEvent* e, std::string_view prefix, uint64_t k) {
  e->label.kind = Label::Kind::kClass;
  e->label.value = 0;
  AssignPrefixed(e->label.class_name, prefix, k);
}

std::vector<std::string> IndexedNames(std::string_view prefix, size_t n) {
  std::vector<std::string> names(n);
  for (size_t i = 0; i < n; ++i) AssignPrefixed(names[i], prefix, i);
  return names;
}

// ---------------------------------------------------------------------------------------
// sea: the existing SeaGenerator (MOA's SEA concepts), thetas 8, 9, 7, 9.5.

class SeaStream final : public StreamGenerator {
 public:
  explicit SeaStream(const StreamOptions& o) : StreamGenerator(o, false), sea_(Config(o, change_at())) {}
  std::string_view name() const override { return "sea"; }

 private:
  SeaConfig Config(const StreamOptions& o, const std::vector<uint64_t>& changes) const {
    SeaConfig c;
    c.seed = o.seed;
    c.noise = noise_or(0.1);
    c.change_at = changes;
    return c;
  }
  void begin_segment(size_t) override {}  // SeaGenerator follows the same change positions
  void generate(GeneratedEvent* e) override {
    static const std::vector<std::string> kNumeric = {"x1", "x2", "x3"};
    Layout(e, kNumeric, {});
    const SeaSample s = sea_.next();
    SetNumber(e, 0, s.x1);
    SetNumber(e, 1, s.x2);
    SetNumber(e, 2, s.x3);
    SetBinaryLabel(e, s.label);
    e->concept_index = s.concept_index;
  }

  SeaGenerator sea_;
};

// ---------------------------------------------------------------------------------------
// hyperplane: River's Hyperplane (n_features 10, n_drift_features 2, sigma 0.1): label 1
// when Σ w_i x_i >= Σ w_i / 2. Each concept draws new weights uniform in [0, 1).
// (River's noise test is "0.01 + rand <= noise", a port of MOA's nextInt(100) < percent;
// here it is plainly rand < noise.)

class HyperplaneStream final : public StreamGenerator {
 public:
  static constexpr size_t kFeatures = 10;
  static constexpr size_t kDriftFeatures = 2;
  static constexpr double kSigma = 0.1;

  explicit HyperplaneStream(const StreamOptions& o)
      : StreamGenerator(o, false), features_(o.seed), concepts_(o.seed ^ kConceptSeed), noise_(noise_or(0.05)),
        names_(IndexedNames("x", kFeatures)) {}
  std::string_view name() const override { return "hyperplane"; }

 private:
  void begin_segment(size_t segment) override {
    segment_ = segment;
    for (double& w : weights_) w = concepts_.uniform();
    direction_.fill(0);
    for (size_t i = 0; i < kDriftFeatures; ++i) direction_[i] = 1;
  }
  void generate(GeneratedEvent* e) override {
    Layout(e, names_, {});
    double weight_sum = 0, dot = 0;
    for (size_t i = 0; i < kFeatures; ++i) {
      const double x = features_.uniform();
      SetNumber(e, i, x);
      weight_sum += weights_[i];
      dot += weights_[i] * x;
    }
    int label = dot >= 0.5 * weight_sum ? 1 : 0;
    if (features_.uniform() < noise_) label = 1 - label;
    SetBinaryLabel(e, label);
    e->concept_index = static_cast<int>(segment_);
    const double mag_change = options().mag_change;
    if (mag_change > 0) {  // River's _generate_drift, after every event
      for (size_t i = 0; i < kDriftFeatures; ++i) {
        weights_[i] += direction_[i] * mag_change;
        if (concepts_.uniform() < kSigma) direction_[i] = -direction_[i];
      }
    }
  }

  Draws features_, concepts_;
  double noise_;
  std::vector<std::string> names_;
  std::array<double, kFeatures> weights_{};
  std::array<double, kFeatures> direction_{};
  size_t segment_ = 0;
};

// ---------------------------------------------------------------------------------------
// agrawal: River's Agrawal, the ten loan functions of Agrawal et al. (1993); concept f
// uses function f = segment % 10. car and zipcode are nominal (MOA's "car1".."car20",
// "zipcode1".."zipcode9"); elevel stays a number (functions 7-9 use it arithmetically).
// noise = River's perturbation: each numeric feature moved by up to ±noise of its range
// after labelling, then clipped (hvalue by ±noise·(9 − zipcode)·100000, clipped at 0:
// River's and MOA's bounds for it look unintended).

int AgrawalLabel(int function, double salary, double commission, double age, double elevel, double hvalue,
                 double hyears, double loan) {
  const auto in = [](double lo, double v, double hi) { return lo <= v && v <= hi; };
  switch (function) {
    case 0:
      return (age < 40 || 60 <= age) ? 1 : 0;
    case 1:
      if (age < 40) return in(50000, salary, 100000);
      if (age < 60) return in(75000, salary, 125000);
      return in(25000, salary, 75000);
    case 2:
      if (age < 40) return elevel == 0 || elevel == 1;
      if (age < 60) return elevel == 1 || elevel == 2 || elevel == 3;
      return elevel == 2 || elevel == 3 || elevel == 4;
    case 3:
      if (age < 40) return (elevel == 0 || elevel == 1) ? in(25000, salary, 75000) : in(50000, salary, 100000);
      if (age < 60) {
        return (elevel == 1 || elevel == 2 || elevel == 3) ? in(50000, salary, 100000) : in(75000, salary, 125000);
      }
      return (elevel == 2 || elevel == 3 || elevel == 4) ? in(50000, salary, 100000) : in(25000, salary, 75000);
    case 4:  // as River has it (its salary bounds in the else branches never hold)
      if (age < 40) return in(50000, salary, 100000) ? in(100000, loan, 300000) : in(200000, salary, 400000);
      if (age < 60) return in(75000, salary, 125000) ? (200000 <= salary && loan <= 400000) : in(300000, salary, 500000);
      return in(25000, salary, 75000) ? in(300000, loan, 500000) : in(75000, loan, 300000);
    case 5: {
      const double total = salary + commission;
      if (age < 40) return in(50000, total, 100000);
      if (age < 60) return in(75000, total, 125000);
      return in(25000, total, 75000);
    }
    case 6:
      return 2 * (salary + commission) / 3 - loan / 5 - 20000 > 1 ? 0 : 1;
    case 7:
      return 2 * (salary + commission) / 3 - 5000 * elevel - 20000 > 1 ? 0 : 1;
    case 8:
      return 2 * (salary + commission) / 3 - 5000 * elevel - loan / 5 - 10000 > 1 ? 0 : 1;
    default: {
      const double equity = hyears >= 20 ? hvalue * (hyears - 20) / 10 : 0;
      return 2 * (salary + commission) / 3 - 5000 * elevel + equity / 5 - 10000 > 1 ? 0 : 1;
    }
  }
}

class AgrawalStream final : public StreamGenerator {
 public:
  explicit AgrawalStream(const StreamOptions& o)
      : StreamGenerator(o, false), features_(o.seed), perturbation_(noise_or(0.0)) {}
  std::string_view name() const override { return "agrawal"; }

 private:
  void begin_segment(size_t segment) override { function_ = static_cast<int>(segment % 10); }
  void generate(GeneratedEvent* e) override {
    static const std::vector<std::string> kNumeric = {"salary", "commission", "age", "elevel",
                                                      "hvalue", "hyears",     "loan"};
    static const std::vector<std::string> kCategorical = {"car", "zipcode"};
    Layout(e, kNumeric, kCategorical);
    // River's order of draws; commission only below a salary of 75k.
    double salary = 20000 + 130000 * features_.uniform();
    double commission = salary >= 75000 ? 0 : 10000 + 75000 * features_.uniform();
    double age = 20 + static_cast<double>(features_.below(61));
    const double elevel = static_cast<double>(features_.below(5));
    const uint64_t car = features_.below(20);
    const uint64_t zipcode = features_.below(9);
    double hvalue = (9 - static_cast<double>(zipcode)) * 100000 * (0.5 + features_.uniform());
    double hyears = 1 + static_cast<double>(features_.below(30));
    double loan = features_.uniform() * 500000;
    const int label = AgrawalLabel(function_, salary, commission, age, elevel, hvalue, hyears, loan);

    // Six draws whether or not they are used, so the perturbation does not shift the stream.
    const auto perturb = [&](double v, double lo, double hi, double range) {
      const double moved = v + range * (2 * (features_.uniform() - 0.5)) * perturbation_;
      return perturbation_ > 0 ? std::clamp(moved, lo, hi) : v;
    };
    salary = perturb(salary, 20000, 150000, 130000);
    const double moved_commission = perturb(commission, 10000, 75000, 65000);
    if (commission > 0) commission = moved_commission;
    age = std::round(perturb(age, 20, 80, 60));
    hvalue = perturb(hvalue, 0, std::numeric_limits<double>::infinity(), (9 - static_cast<double>(zipcode)) * 100000);
    hyears = std::round(perturb(hyears, 1, 30, 29));
    loan = perturb(loan, 0, 500000, 500000);

    const double values[] = {salary, commission, age, elevel, hvalue, hyears, loan};
    for (size_t i = 0; i < std::size(values); ++i) SetNumber(e, i, values[i]);
    AssignPrefixed(e->categorical[0].value, "car", car + 1);
    AssignPrefixed(e->categorical[1].value, "zipcode", zipcode + 1);
    SetBinaryLabel(e, label);
    e->concept_index = function_;
  }

  Draws features_;
  double perturbation_;
  int function_ = 0;
};

// ---------------------------------------------------------------------------------------
// stagger: Schlimmer & Granger's STAGGER concepts as River has them; concept f = segment % 3:
//   0: size small and color red; 1: color green or shape circle; 2: size medium or large.

class StaggerStream final : public StreamGenerator {
 public:
  explicit StaggerStream(const StreamOptions& o) : StreamGenerator(o, false), features_(o.seed), noise_(noise_or(0)) {}
  std::string_view name() const override { return "stagger"; }

  static int Classify(int function, uint64_t size, uint64_t color, uint64_t shape) {
    switch (function) {
      case 0: return size == 0 && color == 0 ? 1 : 0;
      case 1: return color == 2 || shape == 0 ? 1 : 0;
      default: return size == 1 || size == 2 ? 1 : 0;
    }
  }

 private:
  void begin_segment(size_t segment) override { function_ = static_cast<int>(segment % 3); }
  void generate(GeneratedEvent* e) override {
    static const std::vector<std::string> kCategorical = {"size", "color", "shape"};
    static constexpr const char* kSizes[] = {"small", "medium", "large"};
    static constexpr const char* kColors[] = {"red", "blue", "green"};
    static constexpr const char* kShapes[] = {"circle", "square", "triangle"};
    Layout(e, {}, kCategorical);
    const uint64_t size = features_.below(3), color = features_.below(3), shape = features_.below(3);
    e->categorical[0].value.assign(kSizes[size]);
    e->categorical[1].value.assign(kColors[color]);
    e->categorical[2].value.assign(kShapes[shape]);
    int label = Classify(function_, size, color, shape);
    if (features_.uniform() < noise_) label = 1 - label;
    SetBinaryLabel(e, label);
    e->concept_index = function_;
  }

  Draws features_;
  double noise_;
  int function_ = 0;
};

// ---------------------------------------------------------------------------------------
// led: River's LEDDrift with irrelevant features: the digit's seven segments (each
// inverted with probability noise), then 17 random bits. Concept 0 keeps the original
// positions; every later concept swaps 4 segments with 4 irrelevant positions, drawn as
// LEDDrift does (segment (i + r) % 7 with position 7 + (i + o) % 17, i < 4), redrawn if
// equal to the previous concept's swap.

constexpr int kLedDigits[10][7] = {
    {1, 1, 1, 0, 1, 1, 1}, {0, 0, 1, 0, 0, 1, 0}, {1, 0, 1, 1, 1, 0, 1}, {1, 0, 1, 1, 0, 1, 1},
    {0, 1, 1, 1, 0, 1, 0}, {1, 1, 0, 1, 0, 1, 1}, {1, 1, 0, 1, 1, 1, 1}, {1, 0, 1, 0, 0, 1, 0},
    {1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 1, 1}};

class LedStream final : public StreamGenerator {
 public:
  static constexpr size_t kRelevant = 7;
  static constexpr size_t kIrrelevant = 17;
  static constexpr size_t kDriftFeatures = 4;

  explicit LedStream(const StreamOptions& o)
      : StreamGenerator(o, false), features_(o.seed), concepts_(o.seed ^ kConceptSeed), noise_(noise_or(0.1)),
        names_(IndexedNames("a", kRelevant + kIrrelevant)) {}
  std::string_view name() const override { return "led"; }

 private:
  void begin_segment(size_t segment) override {
    segment_ = segment;
    for (size_t i = 0; i < position_.size(); ++i) position_[i] = i;
    if (segment == 0) return;
    uint64_t r = 0, o = 0;
    do {
      r = concepts_.below(kRelevant);
      o = concepts_.below(kIrrelevant);
    } while (r == last_r_ && o == last_o_);
    last_r_ = r;
    last_o_ = o;
    for (size_t i = 0; i < kDriftFeatures; ++i) {
      const size_t a = (i + r) % kRelevant, b = kRelevant + (i + o) % kIrrelevant;
      position_[a] = b;
      position_[b] = a;
    }
  }
  void generate(GeneratedEvent* e) override {
    Layout(e, names_, {});
    const uint64_t digit = features_.below(10);
    for (size_t i = 0; i < kRelevant; ++i) {
      const bool invert = features_.uniform() < noise_;
      SetNumber(e, position_[i], kLedDigits[digit][i] ^ (invert ? 1 : 0));
    }
    for (size_t i = kRelevant; i < kRelevant + kIrrelevant; ++i) {
      SetNumber(e, position_[i], static_cast<double>(features_.below(2)));
    }
    SetClassLabel(e, "", digit);
    e->concept_index = static_cast<int>(segment_);
  }

  Draws features_, concepts_;
  double noise_;
  std::vector<std::string> names_;
  std::array<size_t, kRelevant + kIrrelevant> position_{};
  uint64_t last_r_ = kRelevant, last_o_ = kIrrelevant;  // none yet
  size_t segment_ = 0;
};

// ---------------------------------------------------------------------------------------
// randomrbf: River's RandomRBF (n_features 10, n_centroids 50): each centroid has a
// centre uniform in [0,1)^10, a class, a standard deviation and a weight, all uniform;
// an event picks a centroid by weight and moves from its centre in a uniform random
// direction by a Gaussian length times the deviation. Every concept draws new centroids.
// noise: with this probability the label is replaced by a uniformly drawn class (for two
// classes, flipped).

class RandomRbfStream final : public StreamGenerator {
 public:
  static constexpr size_t kFeatures = 10;
  static constexpr size_t kCentroids = 50;

  explicit RandomRbfStream(const StreamOptions& o)
      : StreamGenerator(o, false), features_(o.seed), concepts_(o.seed ^ kConceptSeed), noise_(noise_or(0)),
        classes_(o.classes), names_(IndexedNames("x", kFeatures)) {}
  std::string_view name() const override { return "randomrbf"; }

 private:
  struct Centroid {
    std::array<double, kFeatures> centre;
    uint64_t label;
    double std_dev;
  };

  void begin_segment(size_t segment) override {
    segment_ = segment;
    weight_sum_ = 0;
    for (size_t i = 0; i < kCentroids; ++i) {  // River's order of draws
      for (double& c : centroids_[i].centre) c = concepts_.uniform();
      centroids_[i].label = concepts_.below(classes_);
      centroids_[i].std_dev = concepts_.uniform();
      weights_[i] = concepts_.uniform();
      weight_sum_ += weights_[i];
    }
  }
  void generate(GeneratedEvent* e) override {
    Layout(e, names_, {});
    // River's random_index_based_on_weights.
    const double target = features_.uniform() * weight_sum_;
    size_t index = 0;
    for (double sum = 0; sum <= target && index < kCentroids; ++index) sum += weights_[index];
    const Centroid& c = centroids_[index - 1];
    std::array<double, kFeatures> direction;
    double magnitude = 0;
    for (double& d : direction) {
      d = features_.uniform() * 2 - 1;
      magnitude += d * d;
    }
    magnitude = std::sqrt(magnitude);
    const double scale = magnitude > 0 ? features_.gaussian() * c.std_dev / magnitude : 0;
    for (size_t i = 0; i < kFeatures; ++i) SetNumber(e, i, c.centre[i] + direction[i] * scale);
    uint64_t label = c.label;
    const bool noisy = features_.uniform() < noise_;
    const uint64_t replacement = features_.below(classes_);
    if (noisy) label = classes_ == 2 ? 1 - label : replacement;
    if (classes_ == 2) {
      SetBinaryLabel(e, static_cast<int>(label));
    } else {
      SetClassLabel(e, "c", label);
    }
    e->concept_index = static_cast<int>(segment_);
  }

  Draws features_, concepts_;
  double noise_;
  uint64_t classes_;
  std::vector<std::string> names_;
  std::array<Centroid, kCentroids> centroids_{};
  std::array<double, kCentroids> weights_{};
  double weight_sum_ = 0;
  size_t segment_ = 0;
};

// ---------------------------------------------------------------------------------------
// entities: documented in the header ("The entities stream").

constexpr const char* kCountries[] = {"US", "GB", "DE", "FR", "IN", "BR", "CA", "ES", "IT", "NL",
                                      "MX", "JP", "AU", "PL", "SE", "BE", "CH", "AT", "PT", "IE",
                                      "DK", "NO", "FI", "CZ", "RO", "GR", "HU", "TR", "ZA", "NG"};
constexpr const char* kCategories[] = {"grocery",     "restaurants", "fuel",         "travel",
                                       "electronics", "clothing",    "pharmacy",     "entertainment",
                                       "utilities",   "digital_goods", "gambling",   "jewelry",
                                       "home_improvement", "books",  "sports",       "automotive",
                                       "health",      "education",   "gifts",        "money_transfer"};
constexpr size_t kCountryCount = std::size(kCountries);
constexpr size_t kCategoryCount = std::size(kCategories);

class EntitiesStream final : public StreamGenerator {
 public:
  static constexpr uint64_t kMerchants = 5000;
  static constexpr uint64_t kRiskyModulus = 97;
  static constexpr double kIntercept = -3.2;
  static constexpr double kMissingShare = 0.05;
  static constexpr double kOutlierShare = 0.01;

  explicit EntitiesStream(const StreamOptions& o)
      : StreamGenerator(o, true), features_(o.seed), concepts_(o.seed ^ kConceptSeed), noise_(noise_or(0)) {
    Draws profile(o.seed ^ kProfileSeed);
    double weight_total = 0;
    for (size_t i = 0; i < kCountryCount; ++i) weight_total += 1.0 / static_cast<double>(i + 1);
    profiles_.resize(o.entity_count());
    for (Profile& p : profiles_) {
      p.risk = profile.gaussian();
      p.log_amount = 3.2 + 0.5 * p.risk + 0.7 * profile.gaussian();
      double pick = profile.uniform() * weight_total;
      p.home = kCountryCount - 1;
      for (size_t i = 0; i < kCountryCount; ++i) {
        pick -= 1.0 / static_cast<double>(i + 1);
        if (pick < 0) {
          p.home = i;
          break;
        }
      }
      p.favourite = profile.below(kCategoryCount);
      p.account_age_days = std::round(std::exp(6 - 0.4 * p.risk + 0.8 * profile.gaussian()));
    }
  }
  std::string_view name() const override { return "entities"; }

 private:
  struct Profile {
    double risk, log_amount, account_age_days;
    size_t home, favourite;
  };

  void begin_segment(size_t segment) override {
    segment_ = segment;
    for (double& effect : category_effect_) effect = 0.6 * concepts_.gaussian();
    risky_residue_ = concepts_.below(kRiskyModulus);
  }
  void generate(GeneratedEvent* e) override {
    static const std::vector<std::string> kNumeric = {"amount", "hour", "account_age_days"};
    static const std::vector<std::string> kCategorical = {"merchant_category", "country", "merchant"};
    Layout(e, kNumeric, kCategorical);
    // A fixed number of draws per event, whatever the branches.
    const uint64_t entity = features_.below(profiles_.size());
    const Profile& p = profiles_[entity];
    const bool favourite = features_.uniform() < 0.6;
    const uint64_t other_category = features_.below(kCategoryCount);
    const bool at_home = features_.uniform() < 0.9;
    const uint64_t other_country = features_.below(kCountryCount);
    const uint64_t merchant = features_.below(kMerchants);
    const uint64_t hour = features_.below(24);
    const double g = features_.gaussian();
    const double label_draw = features_.uniform();
    const double noise_draw = features_.uniform();
    const double corruption_draw = features_.uniform();
    const double outlier_exponent = features_.uniform();

    const size_t category = favourite ? p.favourite : other_category;
    const size_t country = at_home ? p.home : other_country;
    const bool risky_merchant = merchant % kRiskyModulus == risky_residue_;
    const double amount =
        std::round(std::clamp(std::exp(p.log_amount + 0.8 * g), 0.01, 50000.0) * 100) / 100;
    const double logit = kIntercept + 1.3 * p.risk + 0.9 * std::max(g, 0.0) + (country != p.home ? 0.8 : 0.0) +
                         category_effect_[category] + (risky_merchant ? 1.5 : 0.0) + (hour < 6 ? 0.5 : 0.0);
    int label = label_draw < 1 / (1 + std::exp(-logit)) ? 1 : 0;
    if (noise_draw < noise_) label = 1 - label;

    AssignPrefixed(e->entity, "u", entity);
    if (corruption_draw < kMissingShare) {
      e->numeric[0].value = 0;
      e->numeric[0].missing = true;
    } else if (corruption_draw < kMissingShare + kOutlierShare) {
      SetNumber(e, 0, std::pow(10.0, 6 + 3 * outlier_exponent));
    } else {
      SetNumber(e, 0, amount);
    }
    SetNumber(e, 1, static_cast<double>(hour));
    SetNumber(e, 2, p.account_age_days);
    e->categorical[0].value.assign(kCategories[category]);
    e->categorical[1].value.assign(kCountries[country]);
    AssignPrefixed(e->categorical[2].value, "m", merchant);
    SetBinaryLabel(e, label);
    e->concept_index = static_cast<int>(segment_);
  }

  Draws features_, concepts_;
  double noise_;
  std::vector<Profile> profiles_;
  std::array<double, kCategoryCount> category_effect_{};
  uint64_t risky_residue_ = 0;
  size_t segment_ = 0;
};

// wide: documented in the header ("The wide stream").

constexpr size_t kWideNumeric = 16;
constexpr const char* kDevices[] = {"ios", "android", "web", "desktop", "tv", "watch", "car", "kiosk"};
constexpr size_t kDeviceCount = std::size(kDevices);
constexpr uint64_t kRegions = 50;
constexpr double kWideMissingShare = 0.15;
constexpr double kWideOutlierShare = 0.001;

struct WideNumber {
  double x;
  bool seen;  // the event shows x itself (not null, not a corrupt value)
};

// x_j ~ N(0, 1) into the event's numeric j as the model sees it (null, corrupt or x_j);
// three draws whatever the outcome.
WideNumber DrawWideNumber(Draws& draws, GeneratedEvent* e, size_t j) {
  const double x = draws.gaussian();
  const double corruption_draw = draws.uniform();
  const double outlier_exponent = draws.uniform();
  if (corruption_draw < kWideMissingShare) {
    e->numeric[j].value = 0;
    e->numeric[j].missing = true;
    return {x, false};
  }
  if (corruption_draw < kWideMissingShare + kWideOutlierShare) {
    SetNumber(e, j, std::pow(10.0, 6 + 3 * outlier_exponent));
    return {x, false};
  }
  SetNumber(e, j, x);
  return {x, true};
}

class WideStream final : public StreamGenerator {
 public:
  explicit WideStream(const StreamOptions& o)
      : StreamGenerator(o, true), features_(o.seed), concepts_(o.seed ^ kConceptSeed), noise_(noise_or(0)) {
    Draws profile(o.seed ^ kProfileSeed);
    entity_bias_.resize(o.entity_count());
    for (double& bias : entity_bias_) bias = 0.8 * profile.gaussian();
  }
  std::string_view name() const override { return "wide"; }

 private:
  void begin_segment(size_t segment) override {
    segment_ = segment;
    for (double& w : weights_) w = concepts_.gaussian();
    for (double& effect : device_effect_) effect = 0.5 * concepts_.gaussian();
    for (double& effect : region_effect_) effect = 0.5 * concepts_.gaussian();
  }
  void generate(GeneratedEvent* e) override {
    static const std::vector<std::string> kNumeric = IndexedNames("x", kWideNumeric);
    static const std::vector<std::string> kCategorical = {"device", "region"};
    Layout(e, kNumeric, kCategorical);
    // A fixed number of draws per event, whatever the branches.
    const uint64_t entity = features_.below(entity_bias_.size());
    const uint64_t device = features_.below(kDeviceCount);
    const uint64_t region = features_.below(kRegions);
    double logit = entity_bias_[entity] + device_effect_[device] + region_effect_[region];
    for (size_t j = 0; j < kWideNumeric; ++j) logit += 0.5 * weights_[j] * DrawWideNumber(features_, e, j).x;
    const double label_draw = features_.uniform();
    const double noise_draw = features_.uniform();
    int label = label_draw < 1 / (1 + std::exp(-logit)) ? 1 : 0;
    if (noise_draw < noise_) label = 1 - label;

    AssignPrefixed(e->entity, "u", entity);
    e->categorical[0].value.assign(kDevices[device]);
    AssignPrefixed(e->categorical[1].value, "r", region);
    SetBinaryLabel(e, label);
    e->concept_index = static_cast<int>(segment_);
  }

  Draws features_, concepts_;
  double noise_;
  std::vector<double> entity_bias_;
  std::array<double, kWideNumeric> weights_{};
  std::array<double, kDeviceCount> device_effect_{};
  std::array<double, kRegions> region_effect_{};
  size_t segment_ = 0;
};

// regression: documented in the header ("The regression stream").

class RegressionStream final : public StreamGenerator {
 public:
  static constexpr size_t kLinear = 6;  // x0..x5; x6 the curved one; the rest carry nothing
  static constexpr size_t kCurved = 6;
  static constexpr double kLevel = 100;

  explicit RegressionStream(const StreamOptions& o)
      : StreamGenerator(o, true), features_(o.seed), concepts_(o.seed ^ kConceptSeed),
        entity_keys_(o.seed ^ kEntityKeySeed), noise_sd_(100 * noise_or(0.05)) {
    if (!o.entities) return;  // no entity field, no levels
    Draws profile(o.seed ^ kProfileSeed);
    entity_level_.resize(o.entity_count());
    for (double& level : entity_level_) level = 10 * profile.gaussian();
  }
  std::string_view name() const override { return "regression"; }

 private:
  void begin_segment(size_t segment) override {
    segment_ = segment;
    for (double& w : weights_) w = 15 * concepts_.gaussian();
    curvature_ = 10 * concepts_.gaussian();
    for (double& effect : device_effect_) effect = 10 * concepts_.gaussian();
    for (double& effect : region_effect_) effect = 5 * concepts_.gaussian();
  }
  void generate(GeneratedEvent* e) override {
    static const std::vector<std::string> kNumeric = IndexedNames("x", kWideNumeric);
    static const std::vector<std::string> kCategorical = {"device", "region"};
    Layout(e, kNumeric, kCategorical);
    // A fixed number of draws per event, whatever the branches.
    const uint64_t device = features_.below(kDeviceCount);
    const uint64_t region = features_.below(kRegions);
    double y = kLevel + device_effect_[device] + region_effect_[region];
    for (size_t j = 0; j < kWideNumeric; ++j) {
      // The value as the model sees it, 0 for a null or corrupt one: the target depends on
      // nothing the model cannot see, so the noise is the floor.
      const WideNumber number = DrawWideNumber(features_, e, j);
      const double g = number.seen ? number.x : 0;
      if (j < kLinear) y += weights_[j] * g;
      if (j == kCurved) y += curvature_ * (g * g - 1);
    }
    y += noise_sd_ * features_.gaussian();
    if (entity_level_.empty()) {
      e->entity.clear();
    } else {
      const uint64_t entity = entity_keys_.below(entity_level_.size());
      y += entity_level_[entity];
      AssignPrefixed(e->entity, "u", entity);
    }
    e->categorical[0].value.assign(kDevices[device]);
    AssignPrefixed(e->categorical[1].value, "r", region);
    e->label.kind = Label::Kind::kReal;
    e->label.value = std::round(y * 1000) / 1000;
    e->label.class_name.clear();
    e->concept_index = static_cast<int>(segment_);
  }

  Draws features_, concepts_, entity_keys_;
  double noise_sd_;
  std::vector<double> entity_level_;  // empty: events without entity
  std::array<double, kLinear> weights_{};
  double curvature_ = 0;
  std::array<double, kDeviceCount> device_effect_{};
  std::array<double, kRegions> region_effect_{};
  size_t segment_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------

Status StreamOptions::validate() const {
  if (concepts == 0) return Status::Invalid("concepts: must be at least 1");
  if (noise && !(*noise >= 0 && *noise <= 1)) return Status::Invalid("noise: must be a probability in [0, 1]");
  if (entities && *entities == 0) return Status::Invalid("entities: must be at least 1");
  if (!(mag_change >= 0 && mag_change <= 1)) return Status::Invalid("mag_change: must be in [0, 1]");
  if (classes < 2 || classes > 1000) return Status::Invalid("classes: must be between 2 and 1000");
  for (size_t i = 0; i < change_at.size(); ++i) {
    if (change_at[i] == 0) return Status::Invalid("change_at: positions must be above 0 (event 0 starts concept 0)");
    if (i > 0 && change_at[i] <= change_at[i - 1]) return Status::Invalid("change_at: must be strictly ascending");
    if (change_at[i] >= events) {
      return Status::Invalid("change_at: position " + std::to_string(change_at[i]) + " is not below events " +
                             std::to_string(events));
    }
  }
  if (change_at.empty() && concepts > events) {
    return Status::Invalid("concepts: " + std::to_string(concepts) + " concepts need at least as many events (" +
                           std::to_string(events) + ")");
  }
  return Status::Ok();
}

uint64_t StreamOptions::entity_count() const { return entities ? std::max<uint64_t>(*entities, 1) : 1000; }

std::vector<uint64_t> StreamOptions::resolved_changes() const {
  return change_at.empty() ? EvenChanges(events, concepts) : change_at;
}

StreamGenerator::StreamGenerator(StreamOptions options, bool own_entities)
    : options_(std::move(options)), change_at_(options_.resolved_changes()), own_entities_(own_entities),
      entity_engine_(options_.seed ^ kEntityKeySeed) {}

bool StreamGenerator::next(GeneratedEvent* event) {
  if (position_ >= options_.events) return false;
  if (position_ == 0) begin_segment(0);
  while (segment_ < change_at_.size() && change_at_[segment_] <= position_) {
    ++segment_;
    begin_segment(segment_);
  }
  if (!own_entities_) {
    const double u = static_cast<double>(entity_engine_() >> 11) * 0x1.0p-53;
    const uint64_t n = options_.entity_count();
    AssignPrefixed(event->entity, "u", std::min(n - 1, static_cast<uint64_t>(u * static_cast<double>(n))));
  }
  generate(event);
  ++position_;
  return true;
}

const std::vector<std::string>& StreamNames() {
  static const std::vector<std::string> kNames = {"sea", "hyperplane", "agrawal", "stagger",
                                                  "led", "randomrbf",  "entities", "wide",
                                                  "regression"};
  return kNames;
}

Result<std::unique_ptr<StreamGenerator>> MakeStream(std::string_view name, const StreamOptions& options) {
  std::unique_ptr<StreamGenerator> stream;
  if (name == "sea") {
    stream = std::make_unique<SeaStream>(options);
  } else if (name == "hyperplane") {
    stream = std::make_unique<HyperplaneStream>(options);
  } else if (name == "agrawal") {
    stream = std::make_unique<AgrawalStream>(options);
  } else if (name == "stagger") {
    stream = std::make_unique<StaggerStream>(options);
  } else if (name == "led") {
    stream = std::make_unique<LedStream>(options);
  } else if (name == "randomrbf") {
    stream = std::make_unique<RandomRbfStream>(options);
  } else if (name == "entities") {
    stream = std::make_unique<EntitiesStream>(options);
  } else if (name == "wide") {
    stream = std::make_unique<WideStream>(options);
  } else if (name == "regression") {
    stream = std::make_unique<RegressionStream>(options);
  } else {
    std::string valid;
    for (const std::string& n : StreamNames()) valid += (valid.empty() ? "" : ", ") + n;
    return Status::Invalid("unknown stream '" + std::string(name) + "': valid streams are " + valid);
  }
  // Validated after the name, so a typo in the name is reported first.
  SL_RETURN_IF_ERROR(options.validate());
  return stream;
}

void AppendEventJson(std::string& out, const GeneratedEvent& e, uint64_t position, const EventJsonOptions& o) {
  out.append("{\"id\":\"e-");
  AppendUnsigned(out, position);
  out.push_back('"');
  if (!e.entity.empty()) {
    out.append(",\"entity\":");
    AppendJsonString(out, e.entity);
  }
  out.append(",\"ts\":");
  AppendJsonInteger(out, o.start_ts_ms + static_cast<int64_t>(position) * o.step_ms);
  out.append(",\"features\":{");
  bool first = true;
  for (const GeneratedNumeric& f : e.numeric) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, f.name);
    out.push_back(':');
    if (f.missing) {
      out.append("null");
    } else {
      AppendJsonNumber(out, f.value);
    }
  }
  for (const CategoricalFeature& f : e.categorical) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, f.name);
    out.push_back(':');
    AppendJsonString(out, f.value);
  }
  out.append("},\"label\":");
  switch (e.label.kind) {
    case Label::Kind::kBinary: out.push_back(e.label.value != 0 ? '1' : '0'); break;
    case Label::Kind::kClass: AppendJsonString(out, e.label.class_name); break;
    case Label::Kind::kReal: AppendJsonNumber(out, e.label.value); break;
  }
  if (o.concept_marker) {
    out.append(",\"meta\":{\"concept\":");
    AppendJsonInteger(out, e.concept_index);
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace streamlearn::eval
