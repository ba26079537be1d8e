// MlpLearner's snapshot: its settings, the inputs' statistics, every layer's weights and
// optimizer state, the generator's state and the counters, sealed with the family's kind
// tag. A restored learner continues bit for bit, its future draws included.

#include <cmath>
#include <string>

#include "mlp.hpp"
#include "streamlearn/learn/family_support.hpp"
#include "streamlearn/neural/mlp_learners.hpp"

namespace streamlearn::neural {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr std::string_view kWhat = "mlp";
constexpr double kMaxAbsValue = 1e100;
// Bounds a corrupt header's promise before anything is allocated.
constexpr uint64_t kMaxInputs = uint64_t{1} << 24;

void WriteConfig(ByteWriter& w, const MlpConfig& c) {
  w.u8(static_cast<uint8_t>(c.task));
  w.u8(static_cast<uint8_t>(c.hidden_dims.size()));
  for (uint32_t h : c.hidden_dims) w.u32(h);
  w.u8(static_cast<uint8_t>(c.activation));
  w.u8(static_cast<uint8_t>(c.output_activation));
  w.u8(static_cast<uint8_t>(c.optimizer));
  w.f64(c.learning_rate);
  w.f64(c.beta1);
  w.f64(c.beta2);
  w.f64(c.eps);
  w.u32(c.seed);
  w.u8(c.standardize ? 1 : 0);
  w.u8(c.scale_target ? 1 : 0);
  w.f64(c.clip_gradient);
}

bool ReadConfig(ByteReader& r, MlpConfig* c) {
  const uint8_t task = r.u8();
  const uint8_t layers = r.u8();
  if (!r.ok() || layers == 0 || layers > kMaxHiddenLayers) return false;
  c->hidden_dims.assign(layers, 0);
  for (uint32_t& h : c->hidden_dims) h = r.u32();
  const uint8_t activation = r.u8(), output = r.u8(), optimizer = r.u8();
  c->learning_rate = r.f64();
  c->beta1 = r.f64();
  c->beta2 = r.f64();
  c->eps = r.f64();
  c->seed = r.u32();
  const uint8_t standardize = r.u8();
  const uint8_t scale_target = r.u8();
  c->clip_gradient = r.f64();
  if (!r.ok() || task > 2 || activation > 3 || output > 3 || optimizer > 1 || standardize > 1 || scale_target > 1) {
    return false;
  }
  c->scale_target = scale_target == 1;
  c->task = static_cast<learn::LearnerTask>(task);
  c->activation = static_cast<Activation>(activation);
  c->output_activation = static_cast<Activation>(output);
  c->optimizer = static_cast<MlpOptimizer>(optimizer);
  c->standardize = standardize == 1;
  return c->validate().ok();
}

void WriteDoubles(ByteWriter& w, const double* v, size_t n) {
  for (size_t i = 0; i < n; ++i) w.f64(v[i]);
}

// n doubles, each finite and within the bound (and >= 0 when `nonnegative`).
bool ReadDoubles(ByteReader& r, double* v, size_t n, bool nonnegative = false) {
  if (r.remaining() / 8 < n) return false;
  for (size_t i = 0; i < n; ++i) {
    v[i] = r.f64();
    if (!(std::abs(v[i]) <= kMaxAbsValue) || (nonnegative && v[i] < 0)) return false;
  }
  return r.ok();
}

template <typename M>
void WriteMatrix(ByteWriter& w, const M& m) {
  WriteDoubles(w, m.data(), static_cast<size_t>(m.size()));
}

bool ReadMatrix(ByteReader& r, Matrix* m, size_t rows, size_t cols, bool nonnegative = false) {
  if (cols != 0 && r.remaining() / 8 / cols < rows) return false;
  m->resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  return ReadDoubles(r, m->data(), rows * cols, nonnegative);
}

bool ReadVector(ByteReader& r, Vector* v, size_t n, bool nonnegative = false) {
  if (r.remaining() / 8 < n) return false;
  v->resize(static_cast<Eigen::Index>(n));
  return ReadDoubles(r, v->data(), n, nonnegative);
}

}  // namespace

void MlpLearner::save(ByteWriter& out) const {
  std::string payload;
  ByteWriter w(&payload);
  WriteConfig(w, config_);
  w.u64(n_in_);
  w.u64(n_out_);
  WriteDoubles(w, count_.data(), n_in_);
  WriteDoubles(w, mean_.data(), n_in_);
  WriteDoubles(w, var_.data(), n_in_);
  w.f64(y_count_);
  w.f64(y_mean_);
  w.f64(y_var_);
  w.u8(initialized_ ? 1 : 0);
  if (initialized_) {
    for (const Layer& l : layers_) {
      WriteMatrix(w, l.w);
      WriteMatrix(w, l.b);
      if (config_.optimizer == MlpOptimizer::kAdam) {
        WriteMatrix(w, l.w_m);
        WriteMatrix(w, l.w_v);
        WriteMatrix(w, l.b_m);
        WriteMatrix(w, l.b_v);
      }
    }
  }
  w.u64(adam_steps_);
  rng_.save(w);
  w.u64(trained_);
  w.u64(guarded_);
  learn::WriteSealed(out, kMlpKindTag, kFormatVersion, payload);
}

// The learner a snapshot holds, settings included, into *out (untouched on failure).
Status ReadLearner(ByteReader& in, MlpLearner* out) {
  auto payload = learn::ReadSealed(in, kMlpKindTag, kFormatVersion, kWhat);
  if (!payload.ok()) return payload.status();
  const auto corrupt = [](const std::string& what) {
    return Status::Corruption(std::string(kWhat) + " snapshot: " + what);
  };
  ByteReader r(*payload);
  MlpConfig config;
  if (!ReadConfig(r, &config)) return corrupt("bad settings");
  MlpLearner l(config);
  const uint64_t n_in = r.u64(), n_out = r.u64();
  if (!r.ok() || n_in > kMaxInputs || n_out > learn::kMaxLearnerClasses) return corrupt("bad widths");
  if (config.task != learn::LearnerTask::kMulticlass && n_out != 1) return corrupt("bad output width");
  l.n_in_ = n_in;
  l.n_out_ = n_out;
  l.count_.resize(n_in);
  l.mean_.resize(n_in);
  l.var_.resize(n_in);
  if (!ReadDoubles(r, l.count_.data(), n_in, true) || !ReadDoubles(r, l.mean_.data(), n_in) ||
      !ReadDoubles(r, l.var_.data(), n_in, true)) {
    return corrupt("bad input statistics");
  }
  double target[3];
  if (!ReadDoubles(r, target, 3) || target[0] < 0 || target[2] < 0) return corrupt("bad target statistics");
  l.y_count_ = target[0];
  l.y_mean_ = target[1];
  l.y_var_ = target[2];
  const uint8_t initialized = r.u8();
  if (!r.ok() || initialized > 1) return corrupt("bad flag");
  l.initialized_ = initialized == 1;
  if (l.initialized_) {
    std::vector<size_t> dims{n_in};
    for (uint32_t h : config.hidden_dims) dims.push_back(h);
    dims.push_back(n_out);
    const bool adam = config.optimizer == MlpOptimizer::kAdam;
    l.layers_.assign(dims.size() - 1, Layer{});
    for (size_t i = 0; i + 1 < dims.size(); ++i) {
      Layer& layer = l.layers_[i];
      const size_t rows = dims[i], cols = dims[i + 1];
      bool ok = ReadMatrix(r, &layer.w, rows, cols) && ReadVector(r, &layer.b, cols);
      if (ok && adam) {
        ok = ReadMatrix(r, &layer.w_m, rows, cols) && ReadMatrix(r, &layer.w_v, rows, cols, true) &&
             ReadVector(r, &layer.b_m, cols) && ReadVector(r, &layer.b_v, cols, true);
      }
      if (!ok) return corrupt("bad layer " + std::to_string(i + 1));
    }
  }
  l.adam_steps_ = r.u64();
  if (!l.rng_.load(r)) return corrupt("bad generator state");
  l.trained_ = r.u64();
  l.guarded_ = r.u64();
  if (!r.ok()) return corrupt("truncated");
  if (!r.at_end()) return corrupt("trailing bytes");
  *out = std::move(l);
  return Status::Ok();
}

Status MlpLearner::load(ByteReader& in) {
  ByteReader peek = in;
  MlpLearner loaded(config_);
  SL_RETURN_IF_ERROR(ReadLearner(peek, &loaded));
  if (!(loaded.config_ == config_)) {
    return Status::FailedPrecondition(std::string(kWhat) + " snapshot: saved with other settings (" +
                                      std::string(loaded.type()) + ", hidden_dims " +
                                      HiddenDimsText(loaded.config_.hidden_dims) + ")");
  }
  *this = std::move(loaded);
  in = peek;
  return Status::Ok();
}

}  // namespace streamlearn::neural
