// File: service/ordered_version_queries.h
//
// OrderedVersionQueries: one query at a time of a log's ordered version
// (MutationLog::OrderedVersion; in a cluster, a stream-info request to the
// stream's leader), shared by every caller waiting for it, and at most one
// started per `min_interval`. However many revokes of unknown opt-outs a
// node gets, it asks the stream at most 1 / min_interval times a second.
//
// Read-your-writes: a caller takes only the answer of a query that started
// after it called, so every write acknowledged before the call is at or
// below it. An answer from a query started earlier (even one still running,
// or a moment old) may miss such a write and is never reused: callers that
// arrive while a query runs wait for the next one, which one of them makes.
//
// Thread-safety: thread-safe. gRPC-free.
#ifndef OPTOUT_SERVICE_ORDERED_VERSION_QUERIES_H_
#define OPTOUT_SERVICE_ORDERED_VERSION_QUERIES_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace optout::service {

class OrderedVersionQueries final {
 public:
  // Asks the log; called in one caller's thread at a time, without locks
  // held, with a deadline of its start plus `query_timeout`.
  using Query = std::function<absl::StatusOr<uint64_t>(absl::Time deadline)>;

  OrderedVersionQueries(Query query, absl::Duration min_interval, absl::Duration query_timeout)
      : query_(std::move(query)), min_interval_(min_interval), query_timeout_(query_timeout) {}
  OrderedVersionQueries(const OrderedVersionQueries&) = delete;
  OrderedVersionQueries& operator=(const OrderedVersionQueries&) = delete;

  // The answer of a query that started after this call (made by this
  // caller or shared with others). Its error when it failed; Unavailable
  // when none started after the call has answered by `deadline` (a caller
  // making the query itself waits for it up to query_timeout).
  absl::StatusOr<uint64_t> Get(absl::Time deadline);

  // Queries made so far.
  uint64_t queries() const { return queries_.load(std::memory_order_relaxed); }
  // Get calls so far, and those waiting for an answer (or querying) now.
  uint64_t callers() const { return callers_.load(std::memory_order_relaxed); }
  int waiting() const { return waiting_.load(std::memory_order_relaxed); }

 private:
  const Query query_;
  const absl::Duration min_interval_;
  const absl::Duration query_timeout_;
  std::atomic<uint64_t> queries_{0};
  std::atomic<uint64_t> callers_{0};
  std::atomic<int> waiting_{0};

  absl::Mutex mu_;
  absl::CondVar answered_;  // signalled when a query ends
  // Queries are numbered from 1 in the order they start; one runs at a time,
  // so finished_ is started_ or started_ - 1.
  uint64_t started_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::StatusOr<uint64_t> last_answer_ ABSL_GUARDED_BY(mu_);  // of query finished_
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_ORDERED_VERSION_QUERIES_H_
