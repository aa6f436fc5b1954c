// File: service/pdq_probe_guard.h
//
// PdqProbeGuard throttles callers whose PDQ checks look like probing for a
// stored hash (issue 10; the signal is PdqProbeDetector's). Each API key,
// and each anonymous peer (PeerKey: IPv4 address or IPv6 /64), has its own
// detector. A caller whose request takes a group of near queries past the
// limit gets that request refused, and its PDQ checks refused for
// options.throttle, with RESOURCE_EXHAUSTED carrying a RetryInfo delay and
// naming the reason; its other checks go on.
//
// Memory stays bounded: one detector (~6 KB) per key that checked PDQ
// hashes, and at most kMaxPeers anonymous peers, the least recently seen
// forgotten first.
//
// gRPC-free; thread-safe (each caller's detector has its own lock, so
// different callers never wait for one another).
#ifndef OPTOUT_SERVICE_PDQ_PROBE_GUARD_H_
#define OPTOUT_SERVICE_PDQ_PROBE_GUARD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "optout/v1/optout.pb.h"
#include "service/pdq_probe_detector.h"

namespace optout::service {

// Who checks: an API key by name, or an anonymous peer by PeerKey.
struct ProbeCaller {
  bool anonymous = false;
  absl::string_view name;
};

class PdqProbeGuard final {
 public:
  static constexpr size_t kMaxPeers = 4096;

  explicit PdqProbeGuard(const PdqProbeOptions& options) : options_(options) {}
  PdqProbeGuard(const PdqProbeGuard&) = delete;
  PdqProbeGuard& operator=(const PdqProbeGuard&) = delete;

  // False when options.limit is 0: every call below then admits.
  bool enabled() const { return options_.limit > 0; }

  // RESOURCE_EXHAUSTED (with RetryInfo) while `caller` is throttled, else OK.
  // Cheap: call it before charging a budget, so a refused call costs nothing.
  absl::Status CheckThrottled(const ProbeCaller& caller, absl::Time now);

  // Counts the PDQ items of `request` (typed and packed; each item with its
  // variants and regions counts once) for `caller`. When one takes a group
  // past the limit, `caller` is throttled from `now`, *tripped is set and
  // the refusal returned. Hashes of a wrong size are skipped (validation
  // refuses them later).
  absl::Status Observe(const ProbeCaller& caller, const v1::CheckRequest& request,
                       absl::Time now, bool* tripped);

  // Callers found probing, and checks refused for it, since the start.
  uint64_t trips() const { return trips_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  struct State;
  // The state of `caller`; created when `create`, else nullptr when unknown.
  std::shared_ptr<State> Find(const ProbeCaller& caller, absl::Time now, bool create);
  absl::Status Throttled(const ProbeCaller& caller, absl::Duration retry_after) const;

  const PdqProbeOptions options_;
  std::atomic<uint64_t> trips_{0};
  std::atomic<uint64_t> refused_{0};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<State>> keys_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<State>> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_PDQ_PROBE_GUARD_H_
