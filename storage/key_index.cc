#include "storage/key_index.h"

#include <algorithm>

namespace optout::storage {

void KeyIndex::Add(const Key32& key, uint64_t value) {
  absl::MutexLock lock(&mu_);
  Values& values = map_[key];
  // New values mostly carry the newest handle, so they usually go last.
  if (values.empty() || values.back() < value) {
    values.push_back(value);
  } else {
    auto pos = std::lower_bound(values.begin(), values.end(), value);
    if (*pos == value) return;
    values.insert(pos, value);
  }
  ++pairs_;
}

bool KeyIndex::Remove(const Key32& key, uint64_t value) {
  absl::MutexLock lock(&mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  Values& values = it->second;
  auto pos = std::lower_bound(values.begin(), values.end(), value);
  if (pos == values.end() || *pos != value) return false;
  values.erase(pos);
  --pairs_;
  if (values.empty()) map_.erase(it);
  return true;
}

void KeyIndex::AppendUnordered(const Key32& key, uint64_t value) {
  absl::MutexLock lock(&mu_);
  map_[key].push_back(value);
  ++pairs_;
}

void KeyIndex::Reserve(size_t keys) {
  absl::MutexLock lock(&mu_);
  map_.reserve(keys);
}

void KeyIndex::FinishAppends() {
  absl::MutexLock lock(&mu_);
  for (auto& [key, values] : map_) {
    if (values.size() < 2) continue;
    if (!std::is_sorted(values.begin(), values.end())) std::sort(values.begin(), values.end());
    const auto end = std::unique(values.begin(), values.end());
    pairs_ -= static_cast<size_t>(values.end() - end);
    values.erase(end, values.end());
  }
}

void KeyIndex::LookupMany(
    absl::Span<const Key32> keys,
    absl::FunctionRef<void(size_t, absl::Span<const uint64_t>)> visit) const {
  // A million keys make a table far larger than the caches, so nearly every
  // lookup is a memory miss; prefetching kAhead keys ahead overlaps them.
  constexpr size_t kAhead = 8;
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < std::min(kAhead, keys.size()); ++i) map_.prefetch(keys[i]);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i + kAhead < keys.size()) map_.prefetch(keys[i + kAhead]);
    auto it = map_.find(keys[i]);
    if (it == map_.end()) continue;
    visit(i, absl::MakeConstSpan(it->second));
  }
}

size_t KeyIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return pairs_;
}

size_t KeyIndex::MemoryBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  // Every key holds at least one value inline; each value past the first
  // costs one outlined uint64_t (ignoring vector slack).
  const size_t outlined = pairs_ > map_.size() ? pairs_ - map_.size() : 0;
  return map_.capacity() * (sizeof(std::pair<const Key32, Values>) + 1) +
         outlined * sizeof(uint64_t);
}

}  // namespace optout::storage
