// LinearModel snapshots. Layout (little-endian, see ByteWriter):
//
//   magic u32 "SLLM" | format version u8 | loss u8 | optimizer u8 | body length u64
//   | body | checksum u64 (core Checksum of every byte before it)
//
//   body: config   huber_epsilon f64 | classes u32 | schedule u8 | learning_rate f64
//                  | power_t f64 | alpha f64 | beta1 f64 | beta2 f64 | epsilon f64
//                  | ftrl_alpha f64 | ftrl_beta f64 | l1 f64 | l2 f64 | hash_bits u32
//                  | standardize u8
//         state    outputs u32 | n u32 | slots u8 | trained u64 | guarded u64 | steps u64
//                  | sparse_scale f64 | l1_total f64 | beta1_power f64 | beta2_power f64
//                  | sparse_active u8
//                  | n x (mean f64, m2 f64, seen u64)
//                  | (1 + slots) planes x outputs rows x (n weights, bias) f64
//                  | entries u64 | entries x (bucket u32, outputs x (weight, slots) f64)
//
// Sparse entries are written in ascending bucket order and only if some value is non-zero
// (by bit pattern, so -0.0 survives): a snapshot costs ~(4 + 8 x stride) bytes per touched
// bucket. Integrity (checksum) is checked before anything else, so a flipped bit is
// Corruption; then the version, then the kind (FailedPrecondition).

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "linear_model_internal.hpp"
#include "streamlearn/learn/linear_model.hpp"

namespace streamlearn::learn {

using namespace linear_detail;

namespace {

constexpr uint32_t kMagic = 0x4d4c4c53;  // "SLLM", little-endian
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 1 + 8;
constexpr size_t kLengthOffset = 7;

Status Corrupt(const std::string& what) { return Status::Corruption("linear model snapshot: " + what); }

std::string Kind(Loss loss, Optimizer optimizer) {
  return "loss=" + std::string(ToString(loss)) + " optimizer=" + std::string(ToString(optimizer));
}

// The optimizer slot that must be >= 0 (a sum of squares), as 1-based plane number; 0: none.
uint32_t NonNegativeSlot(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::kAdagrad: return 1;  // sum of squared gradients
    case Optimizer::kAdam: return 2;     // second moment
    case Optimizer::kFtrl: return 2;     // n
    case Optimizer::kSgd: return 0;
  }
  return 0;
}

void WriteConfig(ByteWriter& w, const LinearModelConfig& c) {
  w.f64(c.huber_epsilon);
  w.u32(c.classes);
  w.u8(static_cast<uint8_t>(c.schedule));
  w.f64(c.learning_rate);
  w.f64(c.power_t);
  w.f64(c.alpha);
  w.f64(c.beta1);
  w.f64(c.beta2);
  w.f64(c.epsilon);
  w.f64(c.ftrl_alpha);
  w.f64(c.ftrl_beta);
  w.f64(c.l1);
  w.f64(c.l2);
  w.u32(c.hash_bits);
  w.u8(c.standardize ? 1 : 0);
}

Result<LinearModelConfig> ReadConfig(ByteReader& r, Loss loss, Optimizer optimizer) {
  LinearModelConfig c;
  c.loss = loss;
  c.optimizer = optimizer;
  c.huber_epsilon = r.f64();
  c.classes = r.u32();
  c.schedule = static_cast<Schedule>(r.u8());
  c.learning_rate = r.f64();
  c.power_t = r.f64();
  c.alpha = r.f64();
  c.beta1 = r.f64();
  c.beta2 = r.f64();
  c.epsilon = r.f64();
  c.ftrl_alpha = r.f64();
  c.ftrl_beta = r.f64();
  c.l1 = r.f64();
  c.l2 = r.f64();
  c.hash_bits = r.u32();
  const uint8_t standardize = r.u8();
  if (!r.ok()) return Corrupt("truncated config");
  if (standardize > 1) return Corrupt("bad standardize flag");
  c.standardize = standardize == 1;
  if (Status st = c.validate(); !st.ok()) return Corrupt("invalid config: " + st.message());
  return c;
}

struct Envelope {
  Loss loss;
  Optimizer optimizer;
  std::string body;
};

// Header, body and checksum; then the version. The kind is left to the caller.
Result<Envelope> ReadEnvelope(ByteReader& in) {
  const uint32_t magic = in.u32();
  const uint8_t version = in.u8();
  const uint8_t loss = in.u8();
  const uint8_t optimizer = in.u8();
  const uint64_t length = in.u64();
  if (!in.ok()) return Corrupt("truncated header");
  if (magic != kMagic) return Corrupt("not a linear model snapshot");
  if (in.remaining() < 8 || length > in.remaining() - 8) return Corrupt("truncated body");

  std::string bytes;
  bytes.reserve(kHeaderBytes + length);
  ByteWriter header(&bytes);
  header.u32(magic);
  header.u8(version);
  header.u8(loss);
  header.u8(optimizer);
  header.u64(length);
  bytes.resize(kHeaderBytes + length);
  in.raw(bytes.data() + kHeaderBytes, length);
  const uint64_t checksum = in.u64();
  if (!in.ok()) return Corrupt("truncated body");
  if (checksum != Checksum(bytes)) return Corrupt("checksum mismatch");
  if (version != kFormatVersion) {
    return Status::FailedPrecondition("linear model snapshot: format version " + std::to_string(version) +
                                      ", this build reads version " + std::to_string(kFormatVersion));
  }
  const auto loss_code = static_cast<Loss>(loss);
  const auto optimizer_code = static_cast<Optimizer>(optimizer);
  if (loss_code < Loss::kLog || loss_code > Loss::kHinge) return Corrupt("unknown loss code " + std::to_string(loss));
  if (optimizer_code < Optimizer::kSgd || optimizer_code > Optimizer::kFtrl) {
    return Corrupt("unknown optimizer code " + std::to_string(optimizer));
  }
  return Envelope{loss_code, optimizer_code, bytes.substr(kHeaderBytes)};
}

}  // namespace

void LinearModel::save(ByteWriter& out) const {
  std::string bytes;
  ByteWriter w(&bytes);
  w.u32(kMagic);
  w.u8(kFormatVersion);
  w.u8(static_cast<uint8_t>(config_.loss));
  w.u8(static_cast<uint8_t>(config_.optimizer));
  w.u64(0);  // body length, patched below

  WriteConfig(w, config_);
  w.u32(outputs_);
  w.u32(static_cast<uint32_t>(n_));
  w.u8(static_cast<uint8_t>(slots_));
  w.u64(trained_);
  w.u64(guarded_);
  w.u64(steps_);
  w.f64(sparse_scale_);
  w.f64(l1_total_);
  w.f64(beta1_power_);
  w.f64(beta2_power_);
  w.u8(sparse_active_ ? 1 : 0);
  for (size_t j = 0; j < n_; ++j) {
    w.f64(mean_[j]);
    w.f64(m2_[j]);
    w.u64(seen_[j]);
  }
  for (double v : dense_) w.f64(v);

  const size_t stride = entry_stride();
  const auto nonzero = [&](size_t e) {
    for (size_t i = 0; i < stride; ++i) {
      if (std::bit_cast<uint64_t>(sparse_[e * stride + i]) != 0) return true;
    }
    return false;
  };
  std::vector<std::pair<uint32_t, uint32_t>> order;  // (bucket, entry), ascending by bucket
  for (uint32_t e = 0; e < entry_bucket_.size(); ++e) {
    if (nonzero(e)) order.emplace_back(entry_bucket_[e], e);
  }
  std::sort(order.begin(), order.end());
  w.u64(order.size());
  for (const auto& [bucket, e] : order) {
    w.u32(bucket);
    for (size_t i = 0; i < stride; ++i) w.f64(sparse_[e * stride + i]);
  }

  const uint64_t length = bytes.size() - kHeaderBytes;
  std::memcpy(bytes.data() + kLengthOffset, &length, sizeof length);
  out.raw(bytes.data(), bytes.size());
  out.u64(Checksum(bytes));
}

Status LinearModel::load(ByteReader& in) {
  Result<Envelope> envelope = ReadEnvelope(in);
  if (!envelope.ok()) return envelope.status();
  ByteReader body(envelope->body);
  return load_body(envelope->loss, envelope->optimizer, body);
}

Result<LinearModel> LinearModel::Restore(ByteReader& in) {
  Result<Envelope> envelope = ReadEnvelope(in);
  if (!envelope.ok()) return envelope.status();
  ByteReader config_reader(envelope->body);
  Result<LinearModelConfig> config = ReadConfig(config_reader, envelope->loss, envelope->optimizer);
  if (!config.ok()) return config.status();
  LinearModel model(*config);
  ByteReader body(envelope->body);
  SL_RETURN_IF_ERROR(model.load_body(envelope->loss, envelope->optimizer, body));
  return model;
}

// Everything is decoded and checked into locals first; the model changes only at the end.
Status LinearModel::load_body(Loss loss, Optimizer optimizer, ByteReader& in) {
  Result<LinearModelConfig> saved_or = ReadConfig(in, loss, optimizer);
  if (!saved_or.ok()) return saved_or.status();
  const LinearModelConfig& saved = *saved_or;

  const auto mismatch = [](const std::string& what) {
    return Status::FailedPrecondition("linear model snapshot: " + what);
  };
  if (saved.loss != config_.loss || saved.optimizer != config_.optimizer) {
    return mismatch("the snapshot is of a " + Kind(saved.loss, saved.optimizer) + " model, this model is " +
                    Kind(config_.loss, config_.optimizer));
  }
  if (saved.hash_bits != config_.hash_bits) {
    return mismatch("written with hash_bits " + std::to_string(saved.hash_bits) + ", this model has hash_bits " +
                    std::to_string(config_.hash_bits) + " (the buckets would mean other things)");
  }
  if (saved.standardize != config_.standardize) {
    return mismatch(std::string("written with standardize ") + (saved.standardize ? "true" : "false") +
                    ", this model has standardize " + (config_.standardize ? "true" : "false"));
  }

  const uint32_t outputs = in.u32();
  const uint32_t n = in.u32();
  const uint8_t saved_slots = in.u8();
  const uint64_t trained = in.u64();
  const uint64_t guarded = in.u64();
  const uint64_t steps = in.u64();
  const double sparse_scale = in.f64();
  const double l1_total = in.f64();
  const double beta1_power = in.f64();
  const double beta2_power = in.f64();
  const uint8_t sparse_active = in.u8();
  if (!in.ok()) return Corrupt("truncated state");

  if (config_.loss == Loss::kSoftmax) {
    if (outputs > kMaxSoftmaxClasses || (saved.classes != 0 && outputs != saved.classes)) {
      return Corrupt("bad class count " + std::to_string(outputs));
    }
    if (config_.classes != 0 && outputs != config_.classes) {
      return mismatch("the snapshot has " + std::to_string(outputs) + " classes, this model has classes " +
                      std::to_string(config_.classes));
    }
  } else if (outputs != 1) {
    return Corrupt("bad output count " + std::to_string(outputs));
  }
  if (saved_slots != SlotsFor(saved)) return Corrupt("bad optimizer slot count");
  if (!(sparse_scale > 0) || !std::isfinite(sparse_scale) ||
      (saved.optimizer != Optimizer::kSgd && sparse_scale != 1)) {
    return Corrupt("bad sparse scale");
  }
  if (!(l1_total >= 0) || !std::isfinite(l1_total)) return Corrupt("bad L1 total");
  if (!(beta1_power >= 0 && beta1_power <= 1) || !(beta2_power >= 0 && beta2_power <= 1)) {
    return Corrupt("bad Adam state");
  }
  if (sparse_active > 1) return Corrupt("bad sparse flag");

  // Sizes are bounded by the bytes actually left before anything is allocated for them.
  if (n > in.remaining() / 24) return Corrupt("dense block larger than the snapshot");
  std::vector<double> mean(n), m2(n), inv_std(n);
  std::vector<uint64_t> seen(n);
  for (uint32_t j = 0; j < n; ++j) {
    mean[j] = in.f64();
    m2[j] = in.f64();
    seen[j] = in.u64();
    if (!std::isfinite(mean[j]) || !(m2[j] >= 0) || !std::isfinite(m2[j])) {
      return Corrupt("bad statistics at dense feature " + std::to_string(j));
    }
    inv_std[j] = InverseStd(m2[j], seen[j]);
  }

  const uint32_t non_negative = NonNegativeSlot(saved.optimizer);
  const size_t row = static_cast<size_t>(n) + 1;
  const size_t plane = static_cast<size_t>(outputs) * row;
  const size_t saved_planes = 1 + saved_slots;
  if (plane * saved_planes > in.remaining() / 8) return Corrupt("dense parameters larger than the snapshot");
  std::vector<double> saved_dense(plane * saved_planes);
  for (size_t i = 0; i < saved_dense.size(); ++i) {
    saved_dense[i] = in.f64();
    const bool must_be_non_negative = non_negative != 0 && i / plane == non_negative;
    if (!std::isfinite(saved_dense[i]) || (must_be_non_negative && !(saved_dense[i] >= 0))) {
      return Corrupt("bad dense parameter " + std::to_string(i));
    }
  }

  const size_t saved_stride = static_cast<size_t>(outputs) * saved_planes;
  const uint64_t entries = in.u64();
  if (!in.ok()) return Corrupt("truncated");
  if (entries > (uint64_t{1} << saved.hash_bits) || entries > in.remaining() / (4 + 8 * saved_stride)) {
    return Corrupt("bad sparse entry count");
  }
  if (entries > 0 && outputs == 0) return Corrupt("sparse weights without classes");
  std::vector<uint32_t> buckets(entries);
  std::vector<double> saved_sparse(entries * saved_stride);
  int64_t previous = -1;
  for (uint64_t e = 0; e < entries; ++e) {
    buckets[e] = in.u32();
    if (buckets[e] > sparse_mask_ || static_cast<int64_t>(buckets[e]) <= previous) {
      return Corrupt("bad sparse bucket");
    }
    previous = buckets[e];
    for (size_t i = 0; i < saved_stride; ++i) {
      const double v = in.f64();
      const bool must_be_non_negative = non_negative != 0 && i % saved_planes == non_negative;
      if (!std::isfinite(v) || (must_be_non_negative && !(v >= 0))) return Corrupt("bad sparse parameter");
      saved_sparse[e * saved_stride + i] = v;
    }
  }
  if (!in.ok()) return Corrupt("truncated");
  if (!in.at_end()) return Corrupt("trailing bytes in the body");

  // SGD's L1 slot follows this model's config: kept, dropped, or started at zero (with
  // the running total, so the cumulative penalty restarts consistently).
  const size_t planes = 1 + slots_;
  const size_t stride = static_cast<size_t>(outputs) * planes;
  std::vector<double> dense(plane * planes, 0.0);
  std::copy_n(saved_dense.begin(), plane * std::min(planes, saved_planes), dense.begin());
  std::vector<double> sparse(entries * stride, 0.0);
  for (uint64_t e = 0; e < entries; ++e) {
    for (size_t k = 0; k < outputs; ++k) {
      for (size_t s = 0; s < std::min(planes, saved_planes); ++s) {
        sparse[e * stride + k * planes + s] = saved_sparse[e * saved_stride + k * saved_planes + s];
      }
    }
  }

  outputs_ = outputs;
  n_ = n;
  mean_ = std::move(mean);
  m2_ = std::move(m2);
  seen_ = std::move(seen);
  inv_std_ = std::move(inv_std);
  dense_ = std::move(dense);
  entry_bucket_ = std::move(buckets);
  sparse_ = std::move(sparse);
  size_t capacity = 64;
  while (capacity < 2 * (entry_bucket_.size() + 1)) capacity *= 2;
  rehash(capacity);
  sparse_scale_ = sparse_scale;
  sparse_active_ = sparse_active == 1;
  steps_ = steps;
  l1_total_ = saved_slots == slots_ ? l1_total : 0.0;
  beta1_power_ = beta1_power;
  beta2_power_ = beta2_power;
  trained_ = trained;
  guarded_ = guarded;
  resize_scratch();
  return Status::Ok();
}

}  // namespace streamlearn::learn
