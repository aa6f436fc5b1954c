// File: service/mutation_log.h
//
// The seam between the registry and where its changes are ordered. Every
// Register, Revoke and scope proof change (Verify, re-check, expiry) becomes
// one internal::Mutation that the registry hands to its MutationLog; the log
// decides the order and calls the registry back
// (MutationApplier) to apply each mutation to the store and the in-memory
// index. LocalMutationLog applies at once, in the caller's thread (one node,
// today's behaviour); cluster::JetStreamLog (service/cluster/) orders
// mutations on a replicated JetStream stream that every node applies.
#ifndef OPTOUT_SERVICE_MUTATION_LOG_H_
#define OPTOUT_SERVICE_MUTATION_LOG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "optout/internal/record.pb.h"
#include "storage/opt_out_store.h"

namespace optout::service {

// What applying one mutation did on this node.
enum class ApplyOutcome {
  kApplied,
  // Nothing to change here: a revoke of a record already gone, or a
  // registration whose request key an earlier registration holds.
  kSkipped,
};

// A mutation staged into a store batch (MutationApplier::Stage).
struct StagedApply {
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  // This node's in-memory changes (the index), made once the batch is
  // written; empty when there are none.
  std::function<void()> after_write;
};

// Applies mutations to the store and the index (the Registry).
// Thread-safety: Apply may be called from any thread, concurrently.
class MutationApplier {
 public:
  virtual ~MutationApplier() = default;
  // With `mark`, the log's progress is written in the same store batch (also
  // for a skipped mutation). Errors are the store's (Unavailable, Internal).
  virtual absl::StatusOr<ApplyOutcome> Apply(const internal::Mutation& mutation,
                                             const storage::ProgressMark* mark) = 0;
  // Stages `mutation` into `batch` when its kind can be written together
  // with others (reads through the batch see what earlier staged mutations
  // wrote); the caller writes the batch with its progress, then runs
  // after_write. nullopt: this kind is applied by Apply alone, after what
  // was staged before it is written. The default stages nothing. Called
  // from one thread at a time.
  virtual absl::StatusOr<std::optional<StagedApply>> Stage(const internal::Mutation& mutation,
                                                           storage::OptOutStore::Batch* batch) {
    (void)mutation;
    (void)batch;
    return std::nullopt;
  }
};

// A committed mutation: its registry version and what it did here.
struct Committed {
  uint64_t version = 0;
  ApplyOutcome outcome = ApplyOutcome::kApplied;
};

// What a node has applied, for GetInfo.
struct LogProgress {
  uint64_t applied_version = 0;
  uint64_t lag = 0;          // known later mutations not applied yet
  std::string digest_hex;    // running digest; empty when the log keeps none
  std::string node_name;     // empty on a single node
};

// One node's part of the status board the nodes of a cluster share.
struct NodeStatus {
  std::string node_name;
  std::string status;  // opaque to the log (e.g. a serialized proto)
  absl::Time reported;
};

// Thread-safety: all methods may be called concurrently.
class MutationLog {
 public:
  virtual ~MutationLog() = default;
  // Orders `mutation` and returns once this node has applied it durably
  // (synced store write). Unavailable when the log cannot take it now; the
  // mutation may still be applied later, so callers retry idempotently.
  virtual absl::StatusOr<Committed> Commit(const internal::Mutation& mutation) = 0;
  // Waits until a mutation with `version` (or a later one) is applied here,
  // at most until `deadline`; false then.
  virtual bool AwaitApplied(uint64_t version, absl::Time deadline) const = 0;
  virtual LogProgress Progress() const = 0;
  // Cluster mode: `source` gives this node's part of a status board every
  // node shares (service/cluster/status_board.h; asked about every second
  // until the log goes, from another thread), and SharedStatuses every
  // node's last part, this node's included. A single node shares nothing.
  virtual void ShareStatus(std::function<std::string()> source) { (void)source; }
  virtual std::vector<NodeStatus> SharedStatuses() const { return {}; }
  // The highest version ordered so far, learnt now: a cluster log asks its
  // stream, so every write acknowledged anywhere before the call is at or
  // below it. A node about to answer that something does not exist first
  // applies up to it. Unavailable when it cannot tell by `deadline`. The
  // default, for a log that applies in the caller's thread: what it applied.
  virtual absl::StatusOr<uint64_t> OrderedVersion(absl::Time deadline) const {
    (void)deadline;
    return Progress().applied_version;
  }
  // Whether OrderedVersion asks another machine (a cluster's stream's
  // leader), so that callers should meter and share it; false when it
  // answers from this process.
  virtual bool OrderedVersionIsRemote() const { return false; }
};

// 16 random bytes for Mutation::mutation_id (the JetStream message id that
// de-duplicates a re-sent publish); Internal when there is no randomness.
absl::StatusOr<std::string> NewMutationId();

// The highest version applied, with waiting for one (shared by the logs).
// Thread-safety: thread-safe.
class AppliedVersion final {
 public:
  // Raises the version to `version` (never lowers it) and wakes waiters.
  void Advance(uint64_t version);
  uint64_t Get() const;
  // True once Get() >= version; false at `deadline`.
  bool Await(uint64_t version, absl::Time deadline) const;

 private:
  mutable absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_MUTATION_LOG_H_
