#include "streamlearn/offline/inspect.hpp"

#include <fmt/format.h>

#include "streamlearn/core/hash.hpp"
#include "streamlearn/core/json_text.hpp"
#include "streamlearn/pipeline/processor.hpp"
#include "streamlearn/state/store.hpp"

namespace streamlearn::pipeline {

Result<std::string> InspectEntityDigests(const std::string& dir) {
  state::StoreOptions options;
  options.read_only = true;
  auto store = state::StateStore::Open(dir, options);
  if (!store.ok()) return store.status();
  std::string out;
  SL_RETURN_IF_ERROR((*store)->for_each_entity([&](std::string_view key, std::string_view value) {
    AppendJsonString(out, key);
    fmt::format_to(std::back_inserter(out), "\t{:016x}\n", Fnv1a64(value));
    return true;
  }));
  return out;
}

Result<std::string> InspectStateJson(const std::string& dir) {
  state::StoreOptions options;
  options.read_only = true;
  auto store = state::StateStore::Open(dir, options);
  if (!store.ok()) return store.status();

  std::string out = R"({"dir":)";
  AppendJsonString(out, dir);
  fmt::format_to(std::back_inserter(out), R"(,"format_version":{},"offsets":[)", state::kFormatVersion);
  auto offsets = (*store)->offsets();
  if (!offsets.ok()) return offsets.status();
  bool first = true;
  for (const auto& [tp, next] : *offsets) {
    out += first ? "" : ",";
    out += R"({"topic":)";
    AppendJsonString(out, tp.topic);
    fmt::format_to(std::back_inserter(out), R"(,"partition":{},"next_offset":{}}})", tp.partition, next);
    first = false;
  }
  // Order-dependent digest over (key, value) in key order: equal digests, equal states.
  uint64_t entities = 0;
  uint64_t digest = Fnv1a64("");
  uint64_t bytes = 0;
  SL_RETURN_IF_ERROR((*store)->for_each_entity([&](std::string_view key, std::string_view value) {
    entities++;
    bytes += key.size() + value.size();
    digest = Fnv1a64(value, Fnv1a64(key, digest) ^ 0xff);
    return true;
  }));
  fmt::format_to(std::back_inserter(out), R"(],"entities":{},"entity_bytes":{},"entity_digest":"{:016x}","models":[)",
                 entities, bytes, digest);
  auto names = (*store)->model_names();
  if (!names.ok()) return names.status();
  first = true;
  for (const auto& name : *names) {
    auto sealed = (*store)->get_model(name);
    if (!sealed.ok()) return sealed.status();
    auto info = InspectSnapshot(sealed->value_or(""));
    if (!info.ok()) return Status(info.status().code(), "model '" + name + "' in " + dir + ": " + info.status().message());
    out += first ? "" : ",";
    out += R"({"name":)";
    AppendJsonString(out, name);
    fmt::format_to(std::back_inserter(out),
                   R"(,"type":"{}","version":{},"messages":{},"predictions":{},"invalid":{},"trained":{},"drifts":{},)"
                   R"("bytes":{},"checksum":"{:016x}"}})",
                   info->type, info->version, info->messages, info->predictions, info->invalid, info->labelled,
                   info->drifts, info->bytes, info->checksum);
    first = false;
  }
  out += "]}";
  return out;
}

}  // namespace streamlearn::pipeline
