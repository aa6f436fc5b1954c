// File: service/cluster/jetstream_log.h
//
// JetStreamLog: the cluster's MutationLog on a NATS JetStream stream. A
// write is sealed with the record cipher and published with its mutation id
// as message id (JetStream drops a re-sent copy); writes that wait while
// earlier publishes are in flight go together as one MutationBatch message
// (message id: its first mutation's), so the stream and every node's synced
// write are paid once per batch, not once per write. Once the stream has
// acknowledged it (a quorum of its replicas holds it), the node waits until
// its own consumer has applied that sequence with a synced RocksDB write,
// and only then answers. One consumer thread per node applies the stream in
// order (a push consumer starting at the stored progress, kept only on a
// replica that holds the message applied there), each
// mutation in one store batch with the new progress (sequence and running
// digest), so a node that restarts resumes exactly after what it applied.
// Catching up, it syncs once per run of mutations instead of once each.
//
// The stream's description carries the key fingerprint of the cluster
// (NATS 2.9 has no stream metadata); a node with other keys refuses to join.
//
// Thread-safety: thread-safe. `store` and `applier` must outlive the log.
#ifndef OPTOUT_SERVICE_CLUSTER_JETSTREAM_LOG_H_
#define OPTOUT_SERVICE_CLUSTER_JETSTREAM_LOG_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/cluster/cluster_options.h"
#include "service/keyring.h"
#include "service/mutation_log.h"
#include "storage/opt_out_store.h"

namespace optout::service::cluster {

class JetStreamLog final : public MutationLog {
 public:
  // Connects (retrying while the servers start), creates the stream if
  // missing or checks it, starts applying it, and returns once this node has
  // applied everything the stream held at start. Errors: Unavailable (no
  // NATS within a minute), FailedPrecondition (another key fingerprint; a
  // data_dir with opt-outs not from this stream, or ahead of it; history
  // this node needs was purged from the stream).
  static absl::StatusOr<std::unique_ptr<JetStreamLog>> Start(const ClusterOptions& options,
                                                             const Keyring& keyring,
                                                             storage::OptOutStore* store,
                                                             MutationApplier* applier);
  ~JetStreamLog() override;  // stops applying and closes the connection
  JetStreamLog(const JetStreamLog&) = delete;
  JetStreamLog& operator=(const JetStreamLog&) = delete;

  // Unavailable when the stream does not acknowledge within
  // options.commit_timeout (the write may still be applied later: retry with
  // the same request id), or when this node has not applied it by then.
  absl::StatusOr<Committed> Commit(const internal::Mutation& mutation) override;
  bool AwaitApplied(uint64_t version, absl::Time deadline) const override;
  LogProgress Progress() const override;
  // A status board over core NATS (status_board.h).
  void ShareStatus(std::function<std::string()> source) override;
  std::vector<NodeStatus> SharedStatuses() const override;
  // The stream's last sequence, asked of its leader (Unavailable when it
  // does not answer by `deadline`, at most 1 s).
  absl::StatusOr<uint64_t> OrderedVersion(absl::Time deadline) const override;
  bool OrderedVersionIsRemote() const override { return true; }

  struct Impl;

 private:
  explicit JetStreamLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether JetStreamLog::Start failed because the stream no longer holds the
// mutations this node needs (retention, purge): a snapshot from a peer
// (--cluster_snapshot_from) lets it start.
bool NeedsSnapshot(const absl::Status& status);

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_JETSTREAM_LOG_H_
