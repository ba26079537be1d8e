#pragma once
// Synthetic event streams with known concept drift, for `streamlearn gen` and offline
// evaluation: the classic benchmarks with River's (and MOA's) semantics, plus a stream
// of per-entity behaviour where entity aggregates and preprocessing matter.
//
// Every stream is seeded and reproducible on every platform: std::mt19937_64 (fully
// specified by the standard), uniform numbers from its top 53 bits, Gaussians by
// Box-Muller on those, integers below n as floor(n * uniform). (std::*_distribution's
// outputs are implementation-defined, so they are never used.) The numbers differ from
// River's, which draw from numpy; the rules that make features and labels are River's.
//
// Each stream draws its features from one engine (the seed) and its concepts from
// another (derived from the seed), with a fixed number of draws per event, so the same
// seed gives the same features whatever the change positions and the label noise: only
// the labels change. (Except where the concept or the noise is in the features:
// randomrbf's concepts are its centroids; agrawal's and led's noise moves features.)
//
// Drift is abrupt: the concept changes at given event positions (`change_at`, 0-based:
// event change_at[i] is the first of concept segment i + 1). Every event carries the
// index of the concept that labelled it; consecutive segments always have different
// indices, so a change is exactly where the index differs from the previous event's.
//
//   stream      features                          label                 concept index          noise (default)
//   sea         x1 x2 x3 in [0, 10)               1 if x1 + x2 <= θ     θ index = segment % 4  label flip (0.1)
//   hyperplane  x0..x9 in [0, 1)                  1 if w·x >= Σw / 2    segment (new weights)  label flip (0.05)
//   agrawal     salary commission age elevel      River's function f    f = segment % 10       River's perturbation (0)
//               hvalue hyears loan (numbers),
//               car zipcode (strings)
//   stagger     size color shape (strings)        River's function f    f = segment % 3        label flip (0)
//   led         a0..a23 in {0, 1}: a0..a6 the     the digit "0".."9"    segment (new swap)     segment inversion (0.1)
//               digit's segments, then 17         (a class name)
//               random bits
//   randomrbf   x0..x9 around 50 centroids        the centroid's class  segment (new centroids) label flip (0)
//   entities    see "The entities stream" below   0/1, fraud-like       segment                label flip (0)
//   wide        see "The wide stream" below       0/1, logistic         segment (new weights)  label flip (0)
//   regression  wide's x0..x15, device, region    a number (see "The    segment (new weights)  Gaussian, sd 100 p
//               (no entity unless asked for)      regression stream")                          (p 0.05: sd 5)

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/event.hpp"
#include "streamlearn/core/status.hpp"

namespace streamlearn::eval {

struct GeneratedNumeric {
  std::string name;
  double value = 0;
  bool missing = false;  // written as null
};

// One generated event. Buffers are reused from call to call, so a loop over next()
// allocates nothing once the strings have grown.
struct GeneratedEvent {
  std::string entity;
  std::vector<GeneratedNumeric> numeric;
  std::vector<CategoricalFeature> categorical;
  // core's label: kBinary (value 0 or 1), kClass (class_name) or kReal (value).
  Label label;
  int concept_index = 0;
};

struct StreamOptions {
  uint64_t events = 100000;  // next() returns false after this many
  uint64_t seed = 42;
  // Positions where a new concept starts, strictly ascending and below `events`. When
  // empty, `concepts` - 1 changes split the stream evenly (EvenChanges(events, concepts)).
  std::vector<uint64_t> change_at;
  size_t concepts = 4;
  // The stream's own noise (see the table above); nullopt = that stream's default.
  std::optional<double> noise;
  // Distinct entity keys "u0".."u{entities-1}"; nullopt = the stream's default: 1000 keys,
  // except regression, whose events then carry no entity (as many users' feeds).
  std::optional<uint64_t> entities;
  // hyperplane: River's mag_change, an incremental drift of the first two weights after
  // every event (direction reversed with probability 0.1); 0 = abrupt changes only.
  double mag_change = 0;
  // randomrbf: number of classes; 2 gives 0/1 labels, more gives class names "c0", "c1", …
  size_t classes = 2;

  Status validate() const;
  // The number of keys drawn from: `entities` (at least 1), else the default 1000.
  uint64_t entity_count() const;
  // change_at, or the even split when it is empty.
  std::vector<uint64_t> resolved_changes() const;
};

class StreamGenerator {
 public:
  virtual ~StreamGenerator() = default;
  StreamGenerator(const StreamGenerator&) = delete;
  StreamGenerator& operator=(const StreamGenerator&) = delete;

  virtual std::string_view name() const = 0;
  // Fills *event with the next event; false (event untouched) after options().events.
  bool next(GeneratedEvent* event);

  uint64_t position() const { return position_; }  // events produced = the next one's position
  // Where each concept after the first starts (the documented true change positions).
  const std::vector<uint64_t>& change_at() const { return change_at_; }
  const StreamOptions& options() const { return options_; }

 protected:
  // `own_entities`: the stream picks each event's entity itself (entities, wide, regression);
  // otherwise the key is uniform over options.entity_count() from an engine of its own, so
  // the entity count does not change the features.
  StreamGenerator(StreamOptions options, bool own_entities);
  // Called before the first event of every segment (0 first, then at each change).
  virtual void begin_segment(size_t segment) = 0;
  // Fills the event's features, label and concept_index (and entity, if own_entities).
  virtual void generate(GeneratedEvent* event) = 0;
  double noise_or(double fallback) const { return options_.noise ? *options_.noise : fallback; }

 private:
  StreamOptions options_;
  std::vector<uint64_t> change_at_;
  bool own_entities_;
  uint64_t position_ = 0;
  size_t segment_ = 0;
  std::mt19937_64 entity_engine_;
};

// The entities stream, built so that per-entity history and preprocessing pay off:
//
//   Per entity e (fixed for the whole stream): a latent risk z_e ~ N(0, 1); a usual log
//   amount mu_e = 3.2 + 0.5 z_e + 0.7 N(0, 1) (riskier entities spend more, so the
//   entity's mean amount says something about it); a home country (30 ISO codes, the
//   i-th with weight 1/(i+1)); a favourite merchant category (of 20); an account age in
//   days, round(exp(6 - 0.4 z_e + 0.8 N(0, 1))).
//   Per concept: an effect per merchant category ~ N(0, 0.6) and the risky merchants,
//   those whose number m has m % 97 == r for a residue r drawn per concept (~1%).
//   Per event: the entity uniformly among `entities`; merchant_category the favourite with
//   probability 0.6, else uniform; country home with probability 0.9, else uniform (may
//   be home again); merchant "m<number>" uniform over 5000 (high cardinality); hour
//   uniform 0..23; a deviation g ~ N(0, 1) and the true amount exp(mu_e + 0.8 g), clamped
//   to [0.01, 50000] and rounded to cents.
//   Label 1 with probability sigmoid(-3.2 + 1.3 z_e + 0.9 max(g, 0) + 0.8 [country is not
//   home] + category effect + 1.5 [risky merchant] + 0.5 [hour < 6]), then flipped with
//   probability `noise` (default 0). About 14% of labels are 1.
//   What the model sees of the amount: null with probability 0.05 (missing); with
//   probability 0.01 a corrupt value 10^(6 + 3u), u uniform (in [1e6, 1e9), never a true
//   amount, and carrying no information); otherwise the true amount.
//   Features, in order: amount, hour, account_age_days (numeric); merchant_category,
//   country, merchant (strings).
//
// So the entity's past label rate (≈ its latent risk) and its mean amount (to measure
// the deviation g and as a proxy of z_e) predict the label; imputation handles the
// missing amounts and clipping (or log1p) the corrupt ones.

// The wide stream, the shape of a typical tabular feed, to measure how the per-event cost
// grows with the number of fields (about 480 bytes of JSON per event):
//
//   Per entity e (fixed): a bias b_e = 0.8 N(0, 1). Per concept: a weight w_j ~ N(0, 1) per
//   numeric feature, an effect per device (of 8) and per region (of 50), each 0.5 N(0, 1).
//   Per event: the entity uniformly among `entities`; device and region uniform; x0..x15
//   each N(0, 1). Label 1 with probability sigmoid(b_e + device effect + region effect +
//   0.5 Σ w_j x_j), then flipped with probability `noise` (default 0).
//   What the model sees of each x_j, independently: null with probability 0.15 (missing);
//   with probability 0.001 a corrupt value 10^(6 + 3u), u uniform (no information);
//   otherwise x_j. Features, in order: x0..x15 (numeric); device ("ios", "android", …),
//   region ("r0".."r49").
//
// The VW comparison in docs/performance.md uses 1,000,000 events, 100,000 entities and
// three concepts (two abrupt changes).

// The regression stream, the shape of a feed with a numeric target (demand, a price) and,
// by default, no entity: the wide stream's fields, a target with a known noise floor.
//
//   Features as the wide stream's (x0..x15 each N(0, 1), seen as null with probability 0.15
//   and as a corrupt 10^(6 + 3u) with probability 0.001; device of 8, region of 50), drawn
//   in the same way but without the entity draw. Let g_j be x_j when the event shows it,
//   else 0 (null or corrupt: no information about x_j, and 0 is its mean).
//   Per concept: w_0..w_5 each 15 N(0, 1), a curvature q = 10 N(0, 1), an effect per device
//   10 N(0, 1) and per region 5 N(0, 1).
//   Target y = 100 + Σ_{j<6} w_j g_j + q (g_6² - 1) + device effect + region effect
//              [+ the entity's level] + s N(0, 1), s = 100 × noise (default noise 0.05:
//   s = 5), rounded to 3 decimals. x7..x15 carry nothing.
//   Entities only when `entities` is given: the key uniform over them from an engine of its
//   own (so the features stay the same), and a level 10 N(0, 1) per entity, fixed for the
//   stream. Without it events have no entity (AppendEventJson leaves the field out).
//
// y is a function of what the model sees plus the Gaussian, so the best possible MAE is
// s √(2/π) ≈ 0.798 s (3.99 at the default noise; the rounding moves it by under 0.001).

// The stream names MakeStream knows, in the order of the table above.
const std::vector<std::string>& StreamNames();

// A stream by name; options are validated. Unknown names give InvalidArgument naming the
// stream and listing the valid ones.
Result<std::unique_ptr<StreamGenerator>> MakeStream(std::string_view name, const StreamOptions& options);

// One event as a JSON line (no newline) in the event format (schemas/event.schema.json), plus the concept
// marker:
//   {"id":"e-N","entity":"u7","ts":T,"features":{"x1":1.25,"amount":null,"country":"DE"},
//    "label":1,"meta":{"concept":K}}
// N is `position`, T = start_ts_ms + position * step_ms; numeric features first (shortest
// round-trip numbers, null when missing), then categorical ones; the label is 0/1 for
// binary, a string for a class name, a number for real targets. An empty entity is left
// out: the event has none (an empty "entity" would be refused).
struct EventJsonOptions {
  int64_t start_ts_ms = 1700000000000;
  int64_t step_ms = 10;
  bool concept_marker = true;  // the "meta" object
};
void AppendEventJson(std::string& out, const GeneratedEvent& event, uint64_t position,
                     const EventJsonOptions& options = {});

}  // namespace streamlearn::eval
