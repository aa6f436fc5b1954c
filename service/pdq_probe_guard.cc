#include "service/pdq_probe_guard.h"

#include <openssl/rand.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "service/over_budget.h"
#include "storage/code256.h"

namespace optout::service {
namespace {

constexpr size_t kHashBytes = storage::kCodeBytes;

// Calls visit(hashes) for each PDQ item of `request`, its plain hash first;
// stops when visit returns false.
template <typename Visit>
void ForEachPdqItem(const v1::CheckRequest& request, Visit&& visit) {
  std::vector<storage::Code256> hashes;
  for (const v1::CheckItem& item : request.items()) {
    if (item.kind_case() != v1::CheckItem::kPdq || item.pdq().hash().size() != kHashBytes) {
      continue;
    }
    hashes.clear();
    hashes.push_back(storage::CodeFromBytes(item.pdq().hash()));
    for (const std::string& variant : item.pdq().dihedral()) {
      if (variant.size() == kHashBytes) hashes.push_back(storage::CodeFromBytes(variant));
    }
    for (const std::string& region : item.pdq().regions()) {
      if (region.size() == kHashBytes) hashes.push_back(storage::CodeFromBytes(region));
    }
    for (const std::string& mirror : item.pdq().region_mirrors()) {
      if (mirror.size() == kHashBytes) hashes.push_back(storage::CodeFromBytes(mirror));
    }
    if (!visit(absl::MakeConstSpan(hashes))) return;
  }
  for (const v1::PackedItems& packed : request.packed()) {
    if (packed.kind() != v1::PackedItems::KIND_PDQ) continue;
    const size_t base = packed.pdq_dihedral() ? 9 : 1;
    const absl::string_view data = packed.data();
    // With counts, item i is followed by counts[i] region hashes (validated).
    size_t item = 0;
    for (size_t at = 0;; ++item) {
      const size_t per_item =
          base + (item < static_cast<size_t>(packed.counts_size()) ? packed.counts(item) : 0);
      if (at + per_item * kHashBytes > data.size()) break;
      hashes.clear();
      for (size_t h = 0; h < per_item; ++h) {
        hashes.push_back(storage::CodeFromBytes(data.substr(at + h * kHashBytes, kHashBytes)));
      }
      if (!visit(absl::MakeConstSpan(hashes))) return;
      at += per_item * kHashBytes;
    }
  }
}

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof(seed)) != 1) {
    seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }
  return seed;
}

}  // namespace

struct PdqProbeGuard::State {
  explicit State(const PdqProbeOptions& options, absl::Time now)
      : detector(options, RandomSeed()), last_seen_ms(absl::ToUnixMillis(now)) {}

  absl::Mutex mu;
  PdqProbeDetector detector ABSL_GUARDED_BY(mu);
  absl::Time throttled_until ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  // Read without `mu` when a peer must be forgotten.
  std::atomic<int64_t> last_seen_ms;
};

std::shared_ptr<PdqProbeGuard::State> PdqProbeGuard::Find(const ProbeCaller& caller,
                                                          absl::Time now, bool create) {
  absl::MutexLock lock(&mu_);
  auto& states = caller.anonymous ? peers_ : keys_;
  auto it = states.find(caller.name);
  if (it != states.end()) {
    it->second->last_seen_ms.store(absl::ToUnixMillis(now), std::memory_order_relaxed);
    return it->second;
  }
  if (!create) return nullptr;
  if (caller.anonymous && peers_.size() >= kMaxPeers) {
    // A full scan, but only when a new peer arrives at a full table.
    auto oldest = peers_.begin();
    for (auto p = peers_.begin(); p != peers_.end(); ++p) {
      if (p->second->last_seen_ms.load(std::memory_order_relaxed) <
          oldest->second->last_seen_ms.load(std::memory_order_relaxed)) {
        oldest = p;
      }
    }
    peers_.erase(oldest);
  }
  auto state = std::make_shared<State>(options_, now);
  states.emplace(std::string(caller.name), state);
  return state;
}

absl::Status PdqProbeGuard::Throttled(const ProbeCaller& caller,
                                      absl::Duration retry_after) const {
  return OverBudgetError(
      absl::StrCat("PDQ checks of ", caller.anonymous ? "address " : "API key ", caller.name,
                   " are paused: many of its PDQ queries lie within ", options_.distance,
                   " bits of one another, as when probing for a stored hash (--pdq_probe_limit ",
                   options_.limit, " per ", absl::FormatDuration(options_.window), ")"),
      retry_after);
}

absl::Status PdqProbeGuard::CheckThrottled(const ProbeCaller& caller, absl::Time now) {
  if (!enabled()) return absl::OkStatus();
  std::shared_ptr<State> state = Find(caller, now, /*create=*/false);
  if (state == nullptr) return absl::OkStatus();
  absl::MutexLock lock(&state->mu);
  if (now >= state->throttled_until) return absl::OkStatus();
  refused_.fetch_add(1, std::memory_order_relaxed);
  return Throttled(caller, state->throttled_until - now);
}

absl::Status PdqProbeGuard::Observe(const ProbeCaller& caller, const v1::CheckRequest& request,
                                    absl::Time now, bool* tripped) {
  *tripped = false;
  if (!enabled()) return absl::OkStatus();
  std::shared_ptr<State> state = Find(caller, now, /*create=*/true);
  absl::MutexLock lock(&state->mu);
  ForEachPdqItem(request, [&](absl::Span<const storage::Code256> hashes) {
    *tripped = state->detector.Observe(hashes, now) > options_.limit;
    return !*tripped;
  });
  if (!*tripped) return absl::OkStatus();
  state->throttled_until = now + options_.throttle;
  trips_.fetch_add(1, std::memory_order_relaxed);
  refused_.fetch_add(1, std::memory_order_relaxed);
  return Throttled(caller, options_.throttle);
}

}  // namespace optout::service
