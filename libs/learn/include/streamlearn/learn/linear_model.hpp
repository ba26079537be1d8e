#pragma once
// A general online linear model: one class for binary logistic, multiclass softmax,
// squared / Huber regression and hinge, trained test-then-train (predict, then learn) by
// SGD (constant, inverse-scaling or scikit-learn's "optimal" schedule), AdaGrad, Adam or
// FTRL-Proximal, with L1 and L2 on the weights (never on the biases).
//
// Inputs (FeatureVector): a dense block, standardised online exactly like
// LogisticRegression (Welford mean/variance per feature, missing values imputed with the
// running mean, standardised values clipped to ±10), plus a hashed sparse block.
// With standardize = false the dense values are used as they are (a missing value is still
// imputed with the running mean, and nothing is clipped).
//
// Compatibility: loss = log, optimizer = sgd, schedule = constant, standardize = true,
// l1 = 0 reproduces LogisticRegression with the same learning_rate, l2 and hash_bits bit
// for bit (predictions and weights), so a pipeline can switch classes without a change.
//
// Losses (gradient with respect to the margin m = w·x + b):
//   log       label in [0, 1] (soft labels allowed), P(1) = sigmoid(m), margin clipped ±35
//   softmax   label k = 0, 1, ... (an integer-valued double). classes = 0: the class count
//             grows to k + 1 when label k first arrives (new classes start at weight 0);
//             classes = K >= 2: fixed, a label outside 0..K-1 is guarded. Indices are the
//             caller's: the pipeline maps class names to 0, 1, 2 ... in order of appearance.
//   squared   real label, 0.5 (m - y)^2
//   huber     real label, squared within huber_epsilon of the label, linear beyond
//   hinge     label 0 or 1 (mapped to -1 / +1), max(0, 1 - s m), as scikit-learn's "hinge"
//
// Optimizers (eta = the step size):
//   sgd      eta from `schedule`: constant eta = learning_rate; invscaling
//            eta = learning_rate / t^power_t; optimal eta = 1 / (alpha (t0 + t - 1)) with
//            scikit-learn's t0 heuristic (see SgdLearningRate); normalized
//            eta = learning_rate / (1 + learning_rate (1 + |z|^2)), z the event's inputs as
//            the model sees them (dense, standardised; sparse values) and 1 for the bias:
//            for the squared loss the implicit (proximal) step, which never overshoots the
//            label (the residual after the step is the one before times 1 / (1 + eta0 (1 +
//            |z|^2))), so no learning rate makes the weights run away; for the others a step
//            bounded by the input's size. t counts accepted steps since construction or
//            reset_weights(), starting at 1.
//            L2: weight decay w *= 1 - eta l2 every step, on every weight (the sparse
//            block lazily, through one shared scale factor, as LogisticRegression does).
//            L1: scikit-learn's cumulative penalty (Tsuruoka et al. 2009): every step adds
//            eta l1 to a running total u, and each weight the step touches (every dense
//            weight, the event's sparse buckets) is pulled towards 0 by what it has not yet
//            received of u, stopping at 0. A weight that rarely appears still gets its
//            whole penalty the next time it does.
//   adagrad  g = dL/dw + l2 w; G += g^2; w -= learning_rate g / (sqrt(G) + epsilon);
//            L1 as a proximal soft-threshold by learning_rate l1 / (sqrt(G) + epsilon).
//   adam     g as adagrad; m, v with beta1, beta2; bias correction by the model's step
//            count t; w -= learning_rate m^ / (sqrt(v^) + epsilon); L1 as a proximal
//            soft-threshold by learning_rate l1 / (sqrt(v^) + epsilon).
//   ftrl     FTRL-Proximal (McMahan et al. 2013, algorithm 1) per coordinate with
//            ftrl_alpha, ftrl_beta, l1, l2; the bias has no L1/L2. learning_rate and the
//            schedule are not used.
// Dense weights are all updated every step; sparse buckets only when the event lists them
// (lazy: AdaGrad/Adam/FTRL state of a bucket changes only when it appears; a bucket listed
// twice in one event is updated twice, in order).
//
// Memory: sparse weights and their optimizer state are kept for touched buckets only, in
// an open-addressing table, so memory is proportional to the buckets seen (not to
// 2^hash_bits): per bucket 20 to 36 bytes of index (8-byte slots, at most half full, and
// the bucket id) plus 8 x outputs x (1 + optimizer slots) of parameters
// (slots: sgd 0, or 1 with l1; adagrad 1; adam 2; ftrl 2). Hot path: predict() never
// allocates (reuse one Prediction for softmax); learn() allocates only when a new bucket
// arrives and the table or the store must double, when the dense block or the class count
// grows, and when an event has more sparse entries than any before it.
// Threads: predict() is const and touches no hidden state; learn() needs exclusive access.
//
// Robustness (NaN/Inf never enter the weights), as LogisticRegression:
//   - an input or regression label is usable when |v| <= 1e100; predict() reads an unusable
//     input as missing; learn() skips the event and counts it in guarded_updates(), as it
//     does a label the loss cannot take;
//   - a step after which any weight or optimizer state would not be finite is rolled back
//     entirely and counted.
//
// Determinism: no threads, no randomness, fixed summation order: the same events give
// bit-identical state, and a model restored by load() continues bit-identically.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "streamlearn/core/bytes.hpp"
#include "streamlearn/core/status.hpp"
#include "streamlearn/learn/feature_vector.hpp"
#include "streamlearn/learn/learner.hpp"

namespace streamlearn::learn {

namespace linear_detail {
struct StepView;  // src/linear_model_optimizers.cpp
}  // namespace linear_detail

// The numeric values are part of the snapshot format: never renumber.
enum class Loss : uint8_t { kLog = 1, kSoftmax = 2, kSquared = 3, kHuber = 4, kHinge = 5 };
enum class Optimizer : uint8_t { kSgd = 1, kAdagrad = 2, kAdam = 3, kFtrl = 4 };
enum class Schedule : uint8_t { kConstant = 1, kInvscaling = 2, kOptimal = 3, kNormalized = 4 };

// The config spellings ("log", "softmax", ...; "sgd", ...; "constant", ...).
std::string_view ToString(Loss loss);
std::string_view ToString(Optimizer optimizer);
std::string_view ToString(Schedule schedule);

// Every field name is its config key (ParseLinearModelConfig).
struct LinearModelConfig {
  Loss loss = Loss::kLog;
  double huber_epsilon = 1.0;   // huber: residual (in label units) where the loss turns linear
  uint32_t classes = 0;         // softmax: 0 = grow as labels appear, or K in 2..1024; others: 0
  Optimizer optimizer = Optimizer::kSgd;
  Schedule schedule = Schedule::kConstant;  // sgd only
  double learning_rate = 0.05;  // sgd eta0; adagrad and adam base step
  double power_t = 0.25;        // invscaling exponent
  double alpha = 1e-4;          // optimal schedule: scikit-learn's alpha (it ties it to its L2
                                // penalty: set l2 = alpha as well to reproduce SGDClassifier)
  double beta1 = 0.9;           // adam
  double beta2 = 0.999;         // adam
  double epsilon = 1e-8;        // adagrad, adam: added to the root in the denominator
  double ftrl_alpha = 0.1;      // ftrl per-coordinate rate alpha / (beta + sqrt(n))
  double ftrl_beta = 1.0;
  double l1 = 0.0;              // on weights, not biases
  double l2 = 0.0;              // on weights, not biases; sgd: eta * l2 must stay below 1
  uint32_t hash_bits = 18;      // sparse buckets are taken modulo 2^hash_bits, 4..24
  bool standardize = true;      // dense block: online standardisation (else raw values)

  // Ok, or InvalidArgument "<key_prefix><field>: <problem>, got <value>", e.g.
  // "model.beta1: must be in [0, 1), got 1.5" with key_prefix "model.".
  Status validate(std::string_view key_prefix = {}) const;
};

inline constexpr uint32_t kMaxSoftmaxClasses = 1024;

// Config from key -> value strings (e.g. a YAML section): starts from the defaults above,
// sets each given key, then validates. Unknown keys, unparsable values (numbers must be
// complete, booleans are true/false/yes/no/on/off/1/0) and invalid settings are
// InvalidArgument naming "<key_prefix><key>".
Result<LinearModelConfig> ParseLinearModelConfig(const std::map<std::string, std::string>& values,
                                                 std::string_view key_prefix = {});
// The inverse: every key with its value (numbers in shortest round-trip form).
std::map<std::string, std::string> ToStringMap(const LinearModelConfig& config);

// The SGD step size at step t (t >= 1) under config's schedule, as scikit-learn computes it:
//   constant    learning_rate
//   invscaling  learning_rate / pow(t, power_t)
//   optimal     1 / (alpha (t0 + t - 1)), t0 = 1 / (eta0 alpha),
//               eta0 = typw / max(1, dloss(y = 1, p = -typw)), typw = sqrt(1 / sqrt(alpha))
//               (so the first step is eta0; for every loss here dloss < 1 and eta0 = typw)
double SgdLearningRate(const LinearModelConfig& config, uint64_t t);

// Prediction (score, class_index, probabilities) is the learners' common one: learner.hpp.


struct SparseWeight {
  uint32_t bucket;
  double weight;
};

// Running statistics of one dense input (the standardisation uses them).
struct DenseInputStats {
  double mean = 0;
  double std_dev = 0;  // population standard deviation, 0 until two values were seen
  uint64_t seen = 0;   // present, usable values folded in
};

class LinearModel {
 public:
  // `config` should have passed validate() (Create() checks it). An unvalidated config
  // cannot crash the model: enums out of range fall back to the defaults, hash_bits is
  // clamped to 4..24, classes to 0..1024, and bad rates only lead to guarded updates.
  explicit LinearModel(LinearModelConfig config = {});
  static Result<LinearModel> Create(LinearModelConfig config);
  // A model with the snapshot's own config and state (for export/import/inspect).
  static Result<LinearModel> Restore(ByteReader& in);

  // Mutates nothing; standardises with the statistics as they are before this event.
  // Dense features beyond what the model has seen contribute 0; buckets never learned
  // have weight 0.
  void predict(const FeatureVector& x, Prediction& out) const;
  Prediction predict(const FeatureVector& x) const;
  // Prediction::score alone, without a Prediction (softmax: P of the most probable class).
  double predict_score(const FeatureVector& x) const;

  // Folds x into the standardisation statistics, then takes one optimizer step towards y.
  void learn(const FeatureVector& x, double y);

  // What predict_keeping() found that learn() of the same vector looks for again: whether
  // every value it gives is usable (learn()'s check before it changes anything) and each
  // sparse position's entry in the weight table. Checked against the model when used (an
  // entry must still hold its bucket), so a memo of another model or of a state since
  // reset or loaded only costs the lookups it would have saved.
  struct Memo {
    bool kept = false;           // made by predict_keeping(); not yet used
    bool inputs_usable = false;  // every present dense value and every sparse value
    size_t dense_size = 0, nnz = 0;  // of the vector it was made for
    std::vector<uint32_t> entries;   // per sparse position: its entry, or none yet
  };
  // predict() that also fills `memo`; learn_predicted(x, y, &memo) then gives exactly
  // learn(x, y)'s result. x must be the vector predict_keeping() last saw (null: learn()).
  void predict_keeping(const FeatureVector& x, Prediction& out, Memo& memo) const;
  void learn_predicted(const FeatureVector& x, double y, const Memo* memo);

  // Parameter mixing (McDonald et al. 2010): every parameter becomes the weighted mean of
  // this model's (weight `own_weight`) and the peers' (weights: events each learned since the
  // last mix), computed as own + sum_i p_i (peer_i - own) so that identical models mix to the
  // same bits. Mixed per coordinate: dense and sparse weights and biases (a bucket or
  // feature a model never touched counts as 0), the optimizer state beside them (AdaGrad's
  // G, Adam's moments, FTRL's z and n: the state that belongs to the averaged weights), the
  // step count and SGD's cumulative L1 (so the schedule continues from the mean position);
  // the input statistics as the weighted mixture of the models' distributions (mean of
  // means, mixture variance, mean count). trained() and guarded_updates() stay this model's.
  // A peer of another loss, optimizer, hash_bits or standardize is FailedPrecondition, this
  // model unchanged; peers of weight 0 (or a total weight of 0) change nothing.
  struct MixPeer {
    const LinearModel* model = nullptr;
    double weight = 0;
  };
  Status mix(double own_weight, std::span<const MixPeer> peers);
  // Adds what a peer learned between two of its states, `now` - `base`, to every parameter
  // mix() mixes except the input statistics (this model's stay): weights, biases, optimizer
  // state, step count, cumulative L1, as a parameter server sums its workers' updates.
  // Refused as mix() refuses, this model unchanged.
  Status add_update(const LinearModel& now, const LinearModel& base);

  // Drift reset: zero weights, biases and optimizer state (t restarts at 1), keep the
  // standardisation statistics, the known classes and the counters.
  void reset_weights();

  uint64_t trained() const { return trained_; }          // steps taken, across resets
  uint64_t guarded_updates() const { return guarded_; }  // events skipped to stay finite
  uint64_t optimizer_steps() const { return steps_; }    // steps since construction or reset
  size_t memory_bytes() const;                           // every buffer's capacity, and the object

  // Full state, written as
  //   magic "SLLM" u32 | format version u8 | loss u8 | optimizer u8 | body length u64 | body
  //   | checksum u64 (of everything before it)
  // where the body holds the whole config, the counters, the optimizer's scalars, the
  // dense statistics, weights and optimizer state, and the non-zero sparse buckets in
  // ascending order with their weights and state (never 2^hash_bits entries).
  void save(ByteWriter& out) const;
  // Replaces the state with a saved one. Hyperparameters (rates, l1, l2, ...) stay this
  // model's config's, so a changed config applies after a restart. A snapshot of another
  // loss or optimizer, or with other hash_bits, standardize, or (fixed) classes, is
  // FailedPrecondition naming both sides; bad bytes are Corruption. Either way the model
  // is left unchanged.
  Status load(ByteReader& in);

  // Inspection. `output` is the class for softmax, 0 otherwise. Dense weights apply to
  // standardised inputs when standardize is on (see weights_in_input_units()).
  uint32_t outputs() const { return outputs_; }  // weight vectors: softmax classes, else 1
  uint32_t classes() const;                      // softmax: known classes; log, hinge: 2; else 0
  size_t dense_size() const { return n_; }
  std::span<const double> dense_weights(uint32_t output = 0) const;
  double bias(uint32_t output = 0) const;
  double sparse_weight(uint32_t bucket, uint32_t output = 0) const;
  std::vector<SparseWeight> sparse_weights(uint32_t output = 0) const;  // non-zero, ascending
  size_t sparse_buckets() const { return entry_bucket_.size(); }        // touched buckets held
  DenseInputStats dense_input_stats(size_t feature) const;
  // The same linear function in the inputs' own units: w_j / std_j and
  // b - sum_j w_j mean_j / std_j (exact inside the ±10 sigma clip). Without
  // standardisation, the weights and bias themselves.
  std::vector<double> weights_in_input_units(uint32_t output = 0) const;
  double bias_in_input_units(uint32_t output = 0) const;
  const LinearModelConfig& config() const { return config_; }

 private:
  struct TableSlot {
    uint32_t bucket;
    uint32_t entry;
  };

  uint32_t slots() const { return slots_; }
  size_t plane_size() const { return static_cast<size_t>(outputs_) * (n_ + 1); }
  size_t entry_stride() const { return static_cast<size_t>(outputs_) * (1 + slots_); }
  double* dense_plane(uint32_t plane) { return dense_.data() + plane * plane_size(); }

  bool validate_and_prepare(const FeatureVector& x, double y, uint32_t& label_class, const Memo* memo);
  void grow_dense(size_t n);
  void grow_outputs(uint32_t k);
  void resize_scratch();
  uint32_t find_entry(uint32_t bucket) const;
  uint32_t find_or_insert_entry(uint32_t bucket);
  void grow_table_if_half_full();
  void rehash(size_t capacity);
  void fold_sparse_scale();
  // The predict path's margin; with `memo`, also what predict_keeping() keeps.
  double linear_margin(const FeatureVector& x, uint32_t output, Memo* memo = nullptr) const;
  void margins_for_prediction(const FeatureVector& x, double* margins) const;
  void fill_prediction(double* margins, Prediction& out) const;

  linear_detail::StepView step_view(const FeatureVector& x, size_t nnz);
  // One accepted or rolled-back step; each returns false if the step would be non-finite.
  bool step_sgd(const FeatureVector& x, size_t nnz);
  bool step_adagrad(const FeatureVector& x, size_t nnz);
  bool step_adam(const FeatureVector& x, size_t nnz);
  bool step_ftrl(const FeatureVector& x, size_t nnz);

  Status load_body(Loss loss, Optimizer optimizer, ByteReader& body);

  LinearModelConfig config_;
  uint32_t sparse_mask_ = 0;
  uint32_t slots_ = 0;       // optimizer state values per weight
  double optimal_t0_ = 0;    // sgd optimal schedule offset (scikit-learn's optimal_init)

  uint32_t outputs_ = 1;     // K for softmax (0 while no class is known), else 1
  size_t n_ = 0;             // dense features known

  // Dense input statistics, one entry per feature.
  std::vector<double> mean_;
  std::vector<double> m2_;
  std::vector<uint64_t> seen_;
  std::vector<double> inv_std_;  // derived: 1 / std-dev, 0 until defined

  // Dense parameters as (1 + slots_) planes of outputs_ rows of n_ + 1 values: plane 0
  // holds the weights with the bias last in each row, planes 1.. the optimizer state.
  std::vector<double> dense_;
  std::vector<double> dense_backup_;  // scratch: the planes before this step, for rollback

  // Sparse block: bucket -> entry through an open-addressing table (linear probing);
  // entry e holds entry_stride() values at sparse_[e * stride]: per output, the scaled
  // weight then its optimizer state. The true weight is sparse_scale_ * stored (SGD's L2
  // decay costs one multiply per step; 1 for the other optimizers).
  std::vector<TableSlot> table_;
  uint32_t table_shift_ = 32;  // 32 - log2(table_.size())
  std::vector<uint32_t> entry_bucket_;
  std::vector<double> sparse_;
  double sparse_scale_ = 1;
  bool sparse_active_ = false;  // a sparse feature was learned: the shared scale decays

  // Optimizer scalars.
  uint64_t steps_ = 0;
  double l1_total_ = 0;       // sgd cumulative L1 penalty u
  double beta1_power_ = 1;    // adam beta1^t
  double beta2_power_ = 1;

  // Per-event scratch (sizes only grow).
  std::vector<double> z_;                // this event's dense inputs as the model sees them
  std::vector<double> margins_;          // per output
  std::vector<double> dloss_;            // per output: dL/dmargin
  std::vector<uint32_t> event_entries_;  // entry of each sparse position
  std::vector<double> sparse_backup_;    // those entries' values before this step

  uint64_t trained_ = 0;
  uint64_t guarded_ = 0;
};

}  // namespace streamlearn::learn
