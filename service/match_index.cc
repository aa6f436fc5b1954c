#include "service/match_index.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <utility>

namespace optout::service {

MatchIndex::IdBytes MatchIndex::IdBytesOf(absl::string_view id) {
  IdBytes bytes{};
  std::memcpy(bytes.data(), id.data(), std::min(id.size(), bytes.size()));
  return bytes;
}

uint64_t MatchIndex::AssignHandle(absl::string_view id, bool* fresh) {
  absl::MutexLock lock(&mu_);
  const uint64_t next_handle = id_of_handle_.size() + 1;
  auto [it, inserted] = handle_of_id_.emplace(IdBytesOf(id), next_handle);
  *fresh = inserted;
  if (inserted) {
    id_of_handle_.push_back(it->first);
    live_.push_back(true);
  }
  return it->second;
}

void MatchIndex::Add(const IndexedOptOut& opt_out) {
  bool fresh = false;
  const uint64_t handle = AssignHandle(opt_out.id, &fresh);
  if (!fresh) return;
  for (const auto& k : opt_out.keys) keys_.Add(k.key, KeyValue(handle, k.kind));
  for (size_t i = 0; i < opt_out.pdq.size(); ++i) {
    PdqIndexOf(opt_out, i).Add(PdqEntry(handle, i), opt_out.pdq[i]);
  }
  for (const auto& r : opt_out.pdq_regions) {
    PdqIndexOf(r).Add(RegionEntry(handle, r), r.code);
  }
  CountKeys(opt_out, +1);
}

uint64_t MatchIndex::HandleOf(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = handle_of_id_.find(IdBytesOf(id));
  return it == handle_of_id_.end() ? 0 : it->second;
}

void MatchIndex::AddKey(absl::string_view id, v1::MatchKind kind, const storage::Key32& key) {
  const uint64_t handle = HandleOf(id);
  if (handle == 0) return;
  keys_.Add(key, KeyValue(handle, kind));
  if (kind > 0 && kind < protocol::kMatchKindCount) {
    key_entries_[kind].fetch_add(1, std::memory_order_relaxed);
  }
}

void MatchIndex::RemoveKey(absl::string_view id, v1::MatchKind kind, const storage::Key32& key) {
  const uint64_t handle = HandleOf(id);
  if (handle == 0) return;
  if (keys_.Remove(key, KeyValue(handle, kind)) && kind > 0 && kind < protocol::kMatchKindCount) {
    key_entries_[kind].fetch_sub(1, std::memory_order_relaxed);
  }
}

void MatchIndex::CountKeys(const IndexedOptOut& opt_out, int64_t sign) {
  for (const auto& k : opt_out.keys) {
    if (k.kind > 0 && k.kind < protocol::kMatchKindCount) {
      key_entries_[k.kind].fetch_add(sign, std::memory_order_relaxed);
    }
  }
}

bool MatchIndex::Remove(const IndexedOptOut& opt_out) {
  uint64_t handle = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = handle_of_id_.find(IdBytesOf(opt_out.id));
    if (it == handle_of_id_.end()) return false;
    handle = it->second;
    handle_of_id_.erase(it);
    // Dropping the id first makes in-flight checks that still find an entry
    // below resolve it to nothing, so no revoked id is ever reported.
    live_[handle - 1] = false;
  }
  for (const auto& k : opt_out.keys) keys_.Remove(k.key, KeyValue(handle, k.kind));
  // With the code, each removal looks in one bucket instead of every entry.
  for (size_t i = 0; i < opt_out.pdq.size(); ++i) {
    PdqIndexOf(opt_out, i).Remove(PdqEntry(handle, i), opt_out.pdq[i]);
  }
  for (const auto& r : opt_out.pdq_regions) {
    PdqIndexOf(r).Remove(RegionEntry(handle, r), r.code);
  }
  CountKeys(opt_out, -1);
  return true;
}

bool MatchIndex::ReplaceKeys(const IndexedOptOut& before, const IndexedOptOut& after) {
  uint64_t handle = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = handle_of_id_.find(IdBytesOf(before.id));
    if (it == handle_of_id_.end()) return false;
    handle = it->second;
  }
  for (const auto& k : after.keys) keys_.Add(k.key, KeyValue(handle, k.kind));
  for (const auto& k : before.keys) keys_.Remove(k.key, KeyValue(handle, k.kind));
  CountKeys(after, +1);
  CountKeys(before, -1);
  return true;
}

void MatchIndex::Load(std::vector<IndexedOptOut> opt_outs) {
  std::vector<std::vector<IndexedOptOut>> ranges;
  ranges.push_back(std::move(opt_outs));
  Load(std::move(ranges));
}

void MatchIndex::Load(std::vector<std::vector<IndexedOptOut>> ranges) {
  // Handles are positions in range order; every range's first handle is
  // known up front, so the three tables below are filled at the same time.
  std::vector<uint64_t> first_handles(ranges.size());
  {
    absl::MutexLock lock(&mu_);
    uint64_t next = id_of_handle_.size() + 1;
    for (size_t r = 0; r < ranges.size(); ++r) {
      first_handles[r] = next;
      next += ranges[r].size();
    }
  }
  size_t opt_out_count = 0;
  size_t key_count = 0;
  size_t code_count = 0;
  std::array<int64_t, protocol::kMatchKindCount> by_kind{};
  for (const auto& range : ranges) {
    opt_out_count += range.size();
    for (const auto& opt_out : range) {
      key_count += opt_out.keys.size();
      code_count += opt_out.pdq.size() + opt_out.pdq_regions.size();
      for (const auto& k : opt_out.keys) {
        if (k.kind > 0 && k.kind < protocol::kMatchKindCount) ++by_kind[k.kind];
      }
    }
  }
  for (int kind = 1; kind < protocol::kMatchKindCount; ++kind) {
    key_entries_[kind].fetch_add(by_kind[kind], std::memory_order_relaxed);
  }
  std::thread id_tables([&] {
    absl::MutexLock lock(&mu_);
    id_of_handle_.resize(id_of_handle_.size() + opt_out_count);
    live_.resize(id_of_handle_.size(), true);
    handle_of_id_.reserve(handle_of_id_.size() + opt_out_count);
    for (size_t r = 0; r < ranges.size(); ++r) {
      for (size_t i = 0; i < ranges[r].size(); ++i) {
        const IdBytes id = IdBytesOf(ranges[r][i].id);
        id_of_handle_[first_handles[r] - 1 + i] = id;
        handle_of_id_.emplace(id, first_handles[r] + i);
      }
    }
  });
  // The exact-key table and the PDQ index are independent; at ten million
  // opt-outs each takes seconds, so they are built side by side.
  std::thread pdq_index([&] {
    std::vector<std::pair<uint64_t, storage::Code256>> codes;
    std::vector<std::pair<uint64_t, storage::Code256>> low_quality_codes;  // few
    codes.reserve(code_count);
    for (size_t r = 0; r < ranges.size(); ++r) {
      for (size_t i = 0; i < ranges[r].size(); ++i) {
        const IndexedOptOut& opt_out = ranges[r][i];
        const uint64_t handle = first_handles[r] + i;
        for (size_t j = 0; j < opt_out.pdq.size(); ++j) {
          (opt_out.LowQuality(j) ? low_quality_codes : codes)
              .emplace_back(PdqEntry(handle, j), opt_out.pdq[j]);
        }
        for (const auto& region : opt_out.pdq_regions) {
          (region.low_quality ? low_quality_codes : codes)
              .emplace_back(RegionEntry(handle, region), region.code);
        }
      }
    }
    pdq_.Build(std::move(codes));
    if (!low_quality_codes.empty()) low_quality_pdq_.Build(std::move(low_quality_codes));
  });
  keys_.Reserve(key_count);
  for (size_t r = 0; r < ranges.size(); ++r) {
    for (size_t i = 0; i < ranges[r].size(); ++i) {
      const uint64_t handle = first_handles[r] + i;
      for (const auto& k : ranges[r][i].keys) keys_.AppendUnordered(k.key, KeyValue(handle, k.kind));
    }
  }
  keys_.FinishAppends();
  pdq_index.join();
  id_tables.join();
}

void MatchIndex::VisitIds(absl::Span<const uint64_t> handles,
                          absl::FunctionRef<bool(size_t, absl::string_view)> visit) const {
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < handles.size(); ++i) {
    const uint64_t handle = handles[i];
    if (handle == 0 || handle > id_of_handle_.size() || !live_[handle - 1]) continue;
    const IdBytes& id = id_of_handle_[handle - 1];
    if (!visit(i, absl::string_view(id.data(), id.size()))) return;
  }
}

size_t MatchIndex::entries(v1::MatchKind kind) const {
  if (kind == v1::MATCH_KIND_PDQ) return pdq_.size() + low_quality_pdq_.size();
  if (kind <= 0 || kind >= protocol::kMatchKindCount) return 0;
  const int64_t n = key_entries_[kind].load(std::memory_order_relaxed);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t MatchIndex::MemoryBytes() const {
  size_t ids = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    // The id of every handle, its live bit, and the map back from id to
    // handle (slots plus a control byte each).
    ids = id_of_handle_.capacity() * sizeof(IdBytes) + live_.capacity() / 8 +
          handle_of_id_.capacity() * (sizeof(IdBytes) + sizeof(uint64_t) + 1);
  }
  return keys_.MemoryBytes() + pdq_.MemoryBytes() + low_quality_pdq_.MemoryBytes() + ids;
}

size_t MatchIndex::opt_out_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return handle_of_id_.size();
}

}  // namespace optout::service
