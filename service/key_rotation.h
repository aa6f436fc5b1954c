// File: service/key_rotation.h
//
// Key rotation: moves every stored opt-out to a new key version while the
// registry serves, without any raw input (service/record_rekey.h). A new
// version is either the next derivation from the same secret or the first
// of a new secret file. How it runs:
//   1. The key state (which versions, which secret files, how far the
//      rotation got) is written to the store's default family first, then
//      the registry switches to {current: new, previous: old}: registrations
//      from then on land in the new version, and checks look up both.
//   2. A background thread re-keys records in id order, one synced batch at
//      a time together with its progress marker (Registry::RekeyBatch).
//   3. At the end the state drops the old version and the registry forgets
//      its keys; the old request keys are gone from the store.
// A crash anywhere resumes from the last batch when optoutd starts again
// (OpenKeyVersions loads both versions; KeyRotation::ResumeIfPending).
//
// In cluster mode (Options::ordered_by_log, service/key_rotation_cluster.cc)
// the start and the end are mutations of the stream, so every node switches
// at the same place of it: each re-keys its own records meanwhile, and the
// first node done commits the end, which every node applies after
// re-keying what it has left.
//
// API keys are stored as keyed hashes, which cannot move without the keys:
// they stay hashed under version 1 of the current secret (kept across a
// same-secret rotation), so a rotation to a new secret file is refused while
// any API key exists.
//
// Thread-safety: all methods may be called concurrently.
#ifndef OPTOUT_SERVICE_KEY_ROTATION_H_
#define OPTOUT_SERVICE_KEY_ROTATION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "optout/internal/record.pb.h"
#include "service/key_set.h"
#include "service/keyring.h"
#include "service/mutation_log.h"
#include "service/registry.h"
#include "storage/opt_out_store.h"

namespace optout::service {

// Key of the key state (internal::KeyState) in the store's default family.
inline constexpr char kKeyStateKey[] = "key_state";

// The keyrings optoutd starts with.
struct KeyVersions {
  KeySet keys;         // for Registry::Open
  Keyring api_keys;    // for ApiKeys::Open: version 1 of the current secret
  internal::KeyState state;  // as stored (defaults when never rotated)
};

// Reads the key state and derives every version it names. `secret` and
// `secret_file` are optoutd's --secret_file; a version of another secret is
// read from the file the state names. FailedPrecondition (naming the file to
// start with) when no secret at hand matches a version's check value.
absl::StatusOr<KeyVersions> OpenKeyVersions(const storage::OptOutStore& store,
                                            const SecretBytes& secret,
                                            const std::string& secret_file);

// What a rotation did so far (Status) or was asked to do (Start).
struct RotationProgress {
  enum class State { kIdle, kRunning, kFailed, kDone };
  State state = State::kIdle;
  uint32_t from_version = 0;
  uint32_t to_version = 0;  // the current version when idle
  std::string secret_file;  // of to_version; empty: optoutd's --secret_file
  uint64_t rekeyed = 0;     // records moved (since the rotation began)
  double fraction_done = 0;  // of the id space scanned, 0..1
  uint64_t opt_outs = 0;    // served now
  int64_t started_unix_seconds = 0;
  int64_t finished_unix_seconds = 0;
  // Since this process (re)started it; when done, over the whole rotation.
  double records_per_second = 0;
  std::string error;              // why it stopped (kFailed)
};

class KeyRotation final : public MutationApplier {
 public:
  struct Options {
    size_t batch_records = 2000;  // records per synced batch
    // Pauses between batches (tests slow a rotation down to crash it midway).
    absl::Duration pause_between_batches = absl::ZeroDuration();
    // Cluster mode: Start commits an internal::StartKeyRotation to the
    // registry's log and every node applies it (Apply); once this node has
    // re-keyed its records, the worker commits a FinishKeyRotation, and the
    // first one on the stream ends the rotation on every node. Only the
    // next version of the same secret. Default: false (one node: Start and
    // the worker switch the versions themselves).
    bool ordered_by_log = false;
    // Called once every record is re-keyed, while the registry still holds
    // the old version and before the state forgets it: what else is sealed
    // under it moves to the new one (open check sessions' journal entries,
    // service/check_session_journal.h). An error is logged; the rotation
    // finishes all the same. Default: none.
    std::function<absl::Status()> before_forgetting_old_version;
  };
  // `store` and `registry` must outlive this; `versions` as opened;
  // `secret_file` is optoutd's --secret_file.
  KeyRotation(storage::OptOutStore* store, Registry* registry, const KeyVersions& versions,
              std::string secret_file, Options options);
  KeyRotation(const KeyRotation&) = delete;
  KeyRotation& operator=(const KeyRotation&) = delete;
  ~KeyRotation();  // stops the worker (the rotation resumes at next start)

  // Starts a rotation to the next version: of the same secret when
  // `new_secret_file` is empty, else of that file (an absolute path; created,
  // mode 0600, when missing). When a rotation is already running, or failed
  // and is pending, it is (re)started and reported instead; `new_secret_file`
  // must then be empty or the one it uses. InvalidArgument for a relative
  // path; FailedPrecondition when the file holds the current secret, or when
  // API keys exist and a new secret is asked for (`api_key_count`).
  absl::StatusOr<RotationProgress> Start(const std::string& new_secret_file,
                                         size_t api_key_count);
  // Starts the worker when the stored state says a rotation is under way
  // (after a crash or a stop); no-op otherwise. In cluster mode call it
  // once the registry's log is the stream's: only from then on does an
  // applied start run the worker (which commits the end to that log).
  void ResumeIfPending();
  // Cluster mode: applies a StartKeyRotation or FinishKeyRotation (the
  // Registry hands them here), the key state written with `mark`. A start
  // derives the new version from this node's secret file and checks it
  // against the starter's (FailedPrecondition: another secret); an end
  // first re-keys what this node has left, in the caller's thread.
  // Called by the log's applying thread only.
  absl::StatusOr<ApplyOutcome> Apply(const internal::Mutation& mutation,
                                     const storage::ProgressMark* mark) override;
  RotationProgress Status() const;
  // Stops the worker after its current batch and waits for it; in cluster
  // mode an applied start no longer starts it.
  void Stop();

 private:
  void Run();
  // One batch after `cursor`, its progress stored with it and noted in
  // state_. Caller holds scan_mu_ in cluster mode.
  absl::StatusOr<Registry::RekeyStep> NextBatch(const std::string& cursor);
  // state_ once the old version is forgotten.
  internal::KeyState FinishedState();
  // key_rotation_cluster.cc
  absl::StatusOr<RotationProgress> StartInOrder(const std::string& new_secret_file);
  void RunInOrder();
  absl::StatusOr<ApplyOutcome> ApplyStart(const internal::StartKeyRotation& start,
                                          const storage::ProgressMark* mark);
  absl::StatusOr<ApplyOutcome> ApplyFinish(uint32_t to_version, const storage::ProgressMark* mark);
  absl::StatusOr<ApplyOutcome> Skip(const storage::ProgressMark* mark);
  void StartWorkerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  RotationProgress StatusLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::OptOutStore* const store_;
  Registry* const registry_;
  const std::string secret_file_;
  const Options options_;

  // Cluster mode: held around each batch of re-keying, by the worker or by
  // the applying thread ending the rotation; taken before mu_.
  absl::Mutex scan_mu_;
  mutable absl::Mutex mu_;
  internal::KeyState state_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  std::string error_ ABSL_GUARDED_BY(mu_);
  absl::Time run_started_ ABSL_GUARDED_BY(mu_);
  uint64_t rekeyed_at_run_start_ ABSL_GUARDED_BY(mu_) = 0;
  // Cluster mode: an applied start may run the worker (ResumeIfPending).
  bool live_ ABSL_GUARDED_BY(mu_) = false;
  // Cluster mode: every record here is of the new version; the worker
  // commits the end.
  bool scanned_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<absl::Notification> stop_;
  std::thread worker_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_KEY_ROTATION_H_
