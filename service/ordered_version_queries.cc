#include "service/ordered_version_queries.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace optout::service {

absl::StatusOr<uint64_t> OrderedVersionQueries::Get(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  // The first query to start from now on; any later one would do as well,
  // but only the last answer is kept and it is at least this one's.
  const uint64_t needed = started_ + 1;
  // Counted once `needed` is fixed: a test that sees N waiting knows what
  // each of them waits for.
  callers_.fetch_add(1, std::memory_order_relaxed);
  waiting_.fetch_add(1, std::memory_order_relaxed);
  absl::Cleanup done = [this] { waiting_.fetch_sub(1, std::memory_order_relaxed); };
  while (finished_ < needed) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::UnavailableError(
          "the log's last version was not learnt in time (queries of it are shared and spaced)");
    }
    if (running_) {
      answered_.WaitWithDeadline(&mu_, deadline);
      continue;
    }
    // Spaced from the previous start, not its end: a stream that answers
    // slowly is not asked more often, and one that answers fast at most
    // once per min_interval.
    const absl::Time may_start = last_start_ + min_interval_;
    if (now < may_start) {
      answered_.WaitWithDeadline(&mu_, std::min(may_start, deadline));
      continue;
    }
    running_ = true;
    last_start_ = now;
    const uint64_t mine = ++started_;  // == needed: none runs, so finished_ == started_
    queries_.fetch_add(1, std::memory_order_relaxed);
    mu_.Unlock();
    absl::StatusOr<uint64_t> answer = query_(now + query_timeout_);
    mu_.Lock();
    running_ = false;
    finished_ = mine;
    last_answer_ = answer;
    answered_.SignalAll();
    return answer;
  }
  return last_answer_;
}

}  // namespace optout::service
