#include "streamlearn/state/store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>

#include "streamlearn/core/bytes.hpp"

namespace streamlearn::state {
namespace {

enum Cf { kDefault = 0, kEntities, kModels, kOffsets, kPending, kMeta, kCfCount };
const char* const kCfNames[kCfCount] = {"default", "entities", "models", "offsets", "pending", "meta"};
constexpr std::string_view kFormatKey = "format_version";

// RocksDB's informational log, sent to ours instead of the file `LOG` in the state directory.
// On a full disk RocksDB's own LOG writer fails once and its next line aborts the process
// (an assertion in WritableFileWriter, enabled in Debian's build): with no LOG file there is
// no such writer. Its warnings and errors are ours too; the rest is debug.
class RocksToSpdlog : public rocksdb::Logger {
 public:
  RocksToSpdlog() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const auto ours = level >= rocksdb::InfoLogLevel::ERROR_LEVEL  ? spdlog::level::err
                      : level >= rocksdb::InfoLogLevel::WARN_LEVEL ? spdlog::level::warn
                                                                   : spdlog::level::debug;
    if (!spdlog::should_log(ours)) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    spdlog::log(ours, "rocksdb: {}", line);
  }
};

// RocksDB's own recovery from a full disk waits until the free space exceeds a reserve of a
// write buffer (64 MB) and meanwhile refuses DB::Resume as busy: on a small volume it would
// never recover. The runner retries itself (StateStore::resume) with its own backoff.
class NoAutoRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return 0;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

// A write RocksDB could not make, in our words first (RocksDB's after the colon).
Status DiskError(const rocksdb::Status& s, const std::string& dir, const std::string& what) {
  std::string cause = "I/O error";
  if (s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos) {
    cause = "no space left on device (" + std::to_string(FreeBytes(dir) / 1024) + " KiB free)";
  } else if (s.ToString().find("Read-only file system") != std::string::npos) {
    cause = "read-only file system";
  }
  return Status::IoError(what + " " + dir + ": " + cause + ": " + s.ToString());
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsIOError()) return Status::IoError(what + ": " + s.ToString());
  return Status::Internal(what + ": " + s.ToString());
}

std::string OffsetKey(const TopicPartition& tp) {
  std::string key = tp.topic;
  key.push_back('\0');  // topic names cannot contain NUL, so the split is unambiguous
  ByteWriter(&key).u32(static_cast<uint32_t>(tp.partition));
  return key;
}

// Registry keys live in the meta column family (no new family: older directories open
// unchanged): prefix, model name, NUL, the version big-endian so that keys sort by version.
constexpr std::string_view kModelVersionPrefix = "model_version/";

std::string ModelVersionPrefix(std::string_view name) {
  std::string key(kModelVersionPrefix);
  key.append(name);
  key.push_back('\0');
  return key;
}

std::string ModelVersionKey(std::string_view name, uint64_t version) {
  std::string key = ModelVersionPrefix(name);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((version >> shift) & 0xff));
  return key;
}

}  // namespace

struct CheckpointBatch::Impl {
  rocksdb::WriteBatch batch;
  const std::vector<rocksdb::ColumnFamilyHandle*>* cfs;
};

struct StateStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::WriteOptions write_options;

  ~Impl() {
    for (auto* cf : cfs) {
      if (db && cf) db->DestroyColumnFamilyHandle(cf);
    }
  }
};

CheckpointBatch::CheckpointBatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CheckpointBatch::~CheckpointBatch() = default;
CheckpointBatch::CheckpointBatch(CheckpointBatch&&) noexcept = default;
size_t CheckpointBatch::count() const { return impl_->batch.Count(); }
size_t CheckpointBatch::byte_size() const { return impl_->batch.GetDataSize(); }

StateStore::StateStore(std::string dir, std::unique_ptr<Impl> impl)
    : dir_(std::move(dir)), impl_(std::move(impl)) {}
StateStore::~StateStore() {
  // Flushing the memtables on a clean close spares the next start a write-ahead-log replay
  // (seconds for a million entities). Best effort: the WAL still holds everything.
  if (impl_ && impl_->db && !read_only_) {
    rocksdb::FlushOptions options;
    (void)impl_->db->Flush(options, impl_->cfs);
  }
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir, StoreOptions options) {
  std::error_code ec;
  if (!options.read_only) std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("state directory " + dir + ": " + ec.message());
  bool existed = std::filesystem::exists(std::filesystem::path(dir) / "CURRENT");

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.info_log = std::make_shared<RocksToSpdlog>();
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());
  if (existed) {
    std::vector<std::string> present;
    auto s = rocksdb::DB::ListColumnFamilies(db_options, dir, &present);
    if (!s.ok()) return FromRocks(s, "state directory " + dir);
    for (const auto& name : present) {
      if (std::find(std::begin(kCfNames), std::end(kCfNames), name) == std::end(kCfNames)) {
        return Status::FailedPrecondition("state directory " + dir + " has column family '" + name +
                                          "' that this build does not know: not a streamlearn "
                                          "state directory, or one from a newer version");
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kCfNames) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());

  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  if (options.read_only && !existed) {
    return Status::NotFound("state directory " + dir + " holds no streamlearn state");
  }
  auto s = options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &impl->cfs, &raw)
                             : rocksdb::DB::Open(db_options, dir, descriptors, &impl->cfs, &raw);
  if (!s.ok() && s.IsIOError() && !options.read_only) {
    return DiskError(s, dir, "cannot open the state directory");
  }
  if (!s.ok()) return FromRocks(s, "opening state directory " + dir);
  impl->db.reset(raw);
  impl->write_options.sync = options.sync;

  std::string version;
  s = impl->db->Get(rocksdb::ReadOptions(), impl->cfs[kMeta], kFormatKey, &version);
  if (s.IsNotFound()) {
    if (existed || options.read_only) {
      return Status::FailedPrecondition("state directory " + dir +
                                        " is a RocksDB without a streamlearn format version; "
                                        "refusing to use it");
    }
    s = impl->db->Put(impl->write_options, impl->cfs[kMeta], kFormatKey,
                      std::to_string(kFormatVersion));
    if (!s.ok()) return s.IsIOError() ? DiskError(s, dir, "cannot write to the state directory") : FromRocks(s, "writing format version to " + dir);
  } else if (!s.ok()) {
    return FromRocks(s, "reading format version of " + dir);
  } else if (version != std::to_string(kFormatVersion)) {
    return Status::FailedPrecondition("state directory " + dir + " has format version " + version +
                                      "; this build reads version " +
                                      std::to_string(kFormatVersion));
  }
  auto store = std::unique_ptr<StateStore>(new StateStore(dir, std::move(impl)));
  store->read_only_ = options.read_only;
  return store;
}

void CheckpointBatch::put_entity(std::string_view entity, std::string_view state) {
  // WriteBatch::Put only fails past 4 GB batches, far beyond one commit interval.
  (void)impl_->batch.Put((*impl_->cfs)[kEntities], entity, state);
}

void CheckpointBatch::delete_entity(std::string_view entity) {
  (void)impl_->batch.Delete((*impl_->cfs)[kEntities], entity);
}

void CheckpointBatch::put_pending(std::string_view id, std::string_view record) {
  (void)impl_->batch.Put((*impl_->cfs)[kPending], id, record);
}

void CheckpointBatch::delete_pending(std::string_view id) { (void)impl_->batch.Delete((*impl_->cfs)[kPending], id); }

void CheckpointBatch::put_model(std::string_view name, std::string_view snapshot) {
  (void)impl_->batch.Put((*impl_->cfs)[kModels], name, snapshot);
}

void CheckpointBatch::put_offset(const TopicPartition& tp, int64_t next_offset) {
  std::string value;
  ByteWriter(&value).i64(next_offset);
  (void)impl_->batch.Put((*impl_->cfs)[kOffsets], OffsetKey(tp),
                         value);
}

void CheckpointBatch::put_model_version(std::string_view name, uint64_t version, std::string_view learner) {
  (void)impl_->batch.Put((*impl_->cfs)[kMeta], ModelVersionKey(name, version), learner);
}

void CheckpointBatch::delete_model_version(std::string_view name, uint64_t version) {
  (void)impl_->batch.Delete((*impl_->cfs)[kMeta], ModelVersionKey(name, version));
}

Result<std::vector<std::pair<uint64_t, std::string>>> StateStore::model_versions(std::string_view name) {
  const std::string prefix = ModelVersionPrefix(name);
  std::vector<std::pair<uint64_t, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cfs[kMeta]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() != prefix.size() + 8) return Status::Corruption("model versions in " + dir_ + ": malformed key");
    uint64_t version = 0;
    for (size_t i = prefix.size(); i < key.size(); ++i) version = (version << 8) | static_cast<unsigned char>(key[i]);
    out.emplace_back(version, it->value().ToString());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading model versions from " + dir_);
  return out;
}

CheckpointBatch StateStore::begin_checkpoint() {
  auto impl = std::make_unique<CheckpointBatch::Impl>();
  impl->cfs = &impl_->cfs;
  return CheckpointBatch(std::move(impl));
}

Status StateStore::commit(CheckpointBatch& batch) {
  if (batch.impl_->cfs != &impl_->cfs) return Status::Internal("checkpoint batch of another store");
  auto s = impl_->db->Write(impl_->write_options, &batch.impl_->batch);
  if (s.IsIOError()) return DiskError(s, dir_, "writing checkpoint to");
  if (!s.ok()) return FromRocks(s, "writing checkpoint to " + dir_);
  batch.impl_->batch.Clear();
  return Status::Ok();
}

Status StateStore::resume() {
  if (read_only_) return Status::Ok();
  auto s = impl_->db->Resume();
  // Busy: a recovery is under way; still the disk's trouble, tried again later.
  if (s.IsIOError() || s.IsBusy()) return DiskError(s, dir_, "recovering the state directory");
  return FromRocks(s, "recovering the state directory " + dir_);
}

Status StateStore::get_entities(const std::vector<std::string_view>& keys,
                                std::vector<std::optional<std::string>>* values) {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), impl_->cfs[kEntities]);
  std::vector<std::string> found;
  auto statuses = impl_->db->MultiGet(rocksdb::ReadOptions(), cfs, slices, &found);
  values->assign(keys.size(), std::nullopt);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      (*values)[i] = std::move(found[i]);
    } else if (!statuses[i].IsNotFound()) {
      return FromRocks(statuses[i], "reading entity state from " + dir_);
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> StateStore::get_model(std::string_view name) {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cfs[kModels], name, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading model '" + std::string(name) + "' from " + dir_);
  return std::optional<std::string>(std::move(value));
}

Result<std::map<TopicPartition, int64_t>> StateStore::offsets() {
  std::map<TopicPartition, int64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cfs[kOffsets]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    size_t nul = key.find('\0');
    if (nul == std::string_view::npos || key.size() != nul + 5 || it->value().size() != 8) {
      return Status::Corruption("offsets in " + dir_ + ": malformed entry");
    }
    TopicPartition tp{std::string(key.substr(0, nul)), 0};
    tp.partition = static_cast<int32_t>(ByteReader(key.substr(nul + 1)).u32());
    out[tp] = ByteReader(std::string_view(it->value().data(), 8)).i64();
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading offsets from " + dir_);
  return out;
}

Result<std::vector<std::string>> StateStore::model_names() {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cfs[kModels]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
  if (!it->status().ok()) return FromRocks(it->status(), "reading models from " + dir_);
  return out;
}

namespace {
Status ForEach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& what,
               const std::function<bool(std::string_view, std::string_view)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), what);
}
}  // namespace

Status StateStore::for_each_entity(const std::function<bool(std::string_view, std::string_view)>& visit) {
  return ForEach(impl_->db.get(), impl_->cfs[kEntities], "reading entities from " + dir_, visit);
}

Status StateStore::for_each_pending(const std::function<bool(std::string_view, std::string_view)>& visit) {
  return ForEach(impl_->db.get(), impl_->cfs[kPending], "reading pending labels from " + dir_, visit);
}

uint64_t StateStore::approximate_entity_count() {
  uint64_t n = 0;
  impl_->db->GetIntProperty(impl_->cfs[kEntities], "rocksdb.estimate-num-keys", &n);
  return n;
}

}  // namespace streamlearn::state
