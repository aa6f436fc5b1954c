#include "service/match_index.h"

#include <utility>

namespace optout::service {

uint64_t MatchIndex::AssignHandle(const std::string& id, bool* fresh) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = handle_of_id_.emplace(id, next_handle_);
  *fresh = inserted;
  if (inserted) {
    id_of_handle_.emplace(next_handle_, id);
    ++next_handle_;
  }
  return it->second;
}

void MatchIndex::Add(const IndexedOptOut& opt_out) {
  bool fresh = false;
  const uint64_t handle = AssignHandle(opt_out.id, &fresh);
  if (!fresh) return;
  for (const auto& k : opt_out.keys) keys_.Add(k.key, KeyValue(handle, k.kind));
  for (size_t i = 0; i < opt_out.pdq.size(); ++i) pdq_.Add(handle << 16 | i, opt_out.pdq[i]);
}

bool MatchIndex::Remove(const IndexedOptOut& opt_out) {
  uint64_t handle = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = handle_of_id_.find(opt_out.id);
    if (it == handle_of_id_.end()) return false;
    handle = it->second;
    handle_of_id_.erase(it);
    // Dropping the id first makes in-flight checks that still find an entry
    // below resolve it to nothing, so no revoked id is ever reported.
    id_of_handle_.erase(handle);
  }
  for (const auto& k : opt_out.keys) keys_.Remove(k.key, KeyValue(handle, k.kind));
  for (size_t i = 0; i < opt_out.pdq.size(); ++i) pdq_.Remove(handle << 16 | i);
  return true;
}

void MatchIndex::Load(const std::vector<IndexedOptOut>& opt_outs) {
  std::vector<std::pair<uint64_t, storage::Code256>> codes;
  for (const auto& opt_out : opt_outs) {
    bool fresh = false;
    const uint64_t handle = AssignHandle(opt_out.id, &fresh);
    if (!fresh) continue;
    for (const auto& k : opt_out.keys) keys_.AppendUnordered(k.key, KeyValue(handle, k.kind));
    for (size_t i = 0; i < opt_out.pdq.size(); ++i) codes.emplace_back(handle << 16 | i, opt_out.pdq[i]);
  }
  keys_.FinishAppends();
  pdq_.Build(std::move(codes));
}

void MatchIndex::VisitIds(absl::Span<const uint64_t> handles,
                          absl::FunctionRef<bool(absl::string_view)> visit) const {
  absl::ReaderMutexLock lock(&mu_);
  for (uint64_t handle : handles) {
    auto it = id_of_handle_.find(handle);
    if (it != id_of_handle_.end() && !visit(it->second)) return;
  }
}

size_t MatchIndex::opt_out_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return id_of_handle_.size();
}

}  // namespace optout::service
