// File: service/check_sessions.h
//
// Check sessions (issue 14): a client opens one, tags its check calls with
// it, and closes it to get a receipt the registry signs over what it
// answered in the session: items by kind, matches, the registry versions
// checked against, start and end, and the ItemsDigest
// (client/common/receipt/items_digest.h) of exactly the items answered.
//
// Bounded so that sessions cannot exhaust memory: at most `max_open`
// sessions (and `max_per_owner` per owner: one API key, or one anonymous
// address), each of at most `max_parts` parts of a few hundred bytes
// (running SHA-256 states, counters); a session idle for `idle_timeout`
// (no check fed, no call) is forgotten. Only its owner may feed or close a
// session. The gRPC layer resolves the owner and the session metadata;
// this core has no gRPC.
//
// Sessions outlive a restart when the server keeps a journal (Restore):
// each opened session, and each part after every batch it counts, is
// saved before the batch's answer is written, so a client that saw an
// answer finds its batch counted after the restart.
//
// Thread-safe. Parts outlive their session when a stream still holds one
// (feeding a part of a closed or forgotten session is ignored).
#ifndef OPTOUT_SERVICE_CHECK_SESSIONS_H_
#define OPTOUT_SERVICE_CHECK_SESSIONS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/common/receipt/items_digest.h"
#include "optout/v1/optout.pb.h"
#include "service/audit_log.h"
#include "service/batch_fingerprint.h"

namespace optout::service {

struct CheckSessionOptions {
  // Sessions open at once on this server. Default: 256.
  int max_open = 256;
  // Sessions one owner may hold open. Default: 8.
  int max_per_owner = 8;
  // A session nothing was fed to or called on for this long is forgotten
  // (its receipt is lost). Default: 10 minutes.
  absl::Duration idle_timeout = absl::Minutes(10);
  // Parts (parallel streams with their own digest) per session. Default: 64.
  int max_parts = 64;
  // The registry's minimum PDQ quality: typed PDQ items below it are
  // low-quality in the items digest (ItemsDigest). Default: 0 (none).
  int min_pdq_quality = 0;
};

// Where open sessions are kept across a restart (CheckSessionJournal,
// service/check_session_journal.h, seals them into the store). Keys: a
// session id for its header, "<id>/<part>" for each part. Thread-safe.
class SessionJournal {
 public:
  virtual ~SessionJournal() = default;
  virtual absl::Status Put(const std::string& key, const std::string& state) = 0;
  // Removes session `id` and its parts.
  virtual absl::Status Erase(const std::string& id) = 0;
  // Calls `fn` for every saved entry, in key order (a header before its parts).
  virtual absl::Status ForEach(
      const std::function<void(const std::string& key, const std::string& state)>& fn) = 0;
};

// One part of a session: the batches of one stream at a time, fed in
// answer order. Thread-safe.
//
// Numbered batches (CheckRequest.session_batch, 1, 2, ...) make a part
// robust to reconnects: a batch re-sent after its stream broke keeps its
// number and is counted once. Callers write an answer only after Add
// returned, so a client re-sends from at most the part's next number and
// the numbers a part is fed never skip one.
class SessionPart final {
 public:
  // Re-sent batches whose first answer is remembered (a keyed fingerprint
  // of their items, 16 bytes: service/batch_fingerprint.h), so that a
  // re-send holding other items is refused. A broken stream leaves at most
  // a few batches counted but not delivered (CheckStreamReactor reads 4
  // ahead); this is far more.
  static constexpr size_t kResendWindow = 64;

  // `journal` (may be null) saves the part under `journal_key` after each
  // batch it counts.
  SessionPart(std::shared_ptr<std::atomic<int64_t>> last_active, int min_pdq_quality,
              SessionJournal* journal = nullptr, std::string journal_key = "")
      : last_active_(std::move(last_active)),
        min_pdq_quality_(min_pdq_quality),
        journal_(journal),
        journal_key_(std::move(journal_key)),
        digest_(min_pdq_quality),
        fingerprint_key_(BatchFingerprint::NewKey()) {}

  // Before batch `batch` is checked as the first of a stream (or a unary
  // call): FAILED_PRECONDITION when it is past the part's next number (a
  // batch in between was never answered). OK for 0.
  absl::Status CheckStart(uint64_t batch) const;

  // Feeds an answered batch: its items, its matched items by kind, and the
  // registry version it was checked against. A numbered batch already fed
  // is counted once (OK, nothing fed); FAILED_PRECONDITION naming
  // session_batch when it holds other items than when first fed (another
  // fingerprint), is older than kResendWindow, or skips a number. Ignored (OK) once the
  // session is closed or forgotten.
  absl::Status Add(const v1::CheckRequest& request, const KindCounts& matched, uint64_t version,
                   absl::Time now);

 private:
  friend class CheckSessions;
  // Saves the part to the journal (if any); a failure is logged once and
  // the part goes on in memory only.
  void SaveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes back a saved part, raising `last_active` (unix micros) to its
  // last activity; false for a state it cannot read.
  bool RestoreLocked(const std::string& state, int64_t* last_active)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<std::atomic<int64_t>> last_active_;  // unix micros, of the session
  const int min_pdq_quality_;
  SessionJournal* const journal_;
  const std::string journal_key_;
  mutable absl::Mutex mu_;
  receipt::ItemsDigest digest_ ABSL_GUARDED_BY(mu_);
  KindCounts matched_ ABSL_GUARDED_BY(mu_);
  uint64_t min_version_ ABSL_GUARDED_BY(mu_) = UINT64_MAX;
  uint64_t max_version_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // The number the next new numbered batch must carry.
  uint64_t next_batch_ ABSL_GUARDED_BY(mu_) = 1;
  // Fingerprints of batches next_batch_ - size() .. next_batch_ - 1.
  BatchFingerprintKey fingerprint_key_ ABSL_GUARDED_BY(mu_);
  std::deque<BatchFingerprintTag> recent_ ABSL_GUARDED_BY(mu_);
  bool journal_failed_ ABSL_GUARDED_BY(mu_) = false;
};

// The batch numbers of one stream: consecutive from the first, or all 0.
// Not thread-safe (one per stream, called in read order).
class StreamBatchOrder final {
 public:
  // INVALID_ARGUMENT naming session_batch when `batch` breaks the order;
  // for the first numbered batch, SessionPart::CheckStart's answer.
  absl::Status Next(const SessionPart& part, uint64_t batch);

 private:
  bool started_ = false;
  uint64_t last_ = 0;
};

class CheckSessions final {
 public:
  // Signs a receipt (sets its key fingerprint and signature).
  using Signer = std::function<absl::Status(v1::CheckReceipt*)>;
  // The version a session that answered nothing checked against.
  using VersionSource = std::function<uint64_t()>;
  using Clock = std::function<absl::Time()>;

  CheckSessions(const CheckSessionOptions& options, Signer signer, VersionSource version,
                Clock clock = absl::Now);

  // Keeps sessions in `journal` from now on, and takes back the sessions
  // it holds that have not expired (the time the server was down counts as
  // idle); the others, and any it cannot read, are removed from it. Call
  // once, before serving. The journal's error when it cannot be listed
  // (nothing is restored; sessions are then kept in it all the same).
  absl::Status Restore(SessionJournal* journal);

  // A new session for `owner` (a non-empty name the gRPC layer gives the
  // caller). RESOURCE_EXHAUSTED when the server or the owner holds too many.
  absl::StatusOr<v1::OpenCheckSessionResponse> Open(const std::string& owner);
  // The part `part` of session `id`, for `owner`'s check call. NOT_FOUND for
  // an unknown, expired or foreign id (the same answer, so ids cannot be
  // probed), RESOURCE_EXHAUSTED past max_parts.
  absl::StatusOr<std::shared_ptr<SessionPart>> Join(const std::string& id, uint32_t part,
                                                    const std::string& owner);
  // Ends session `id` and signs its receipt. NOT_FOUND as Join; the signer's
  // error when signing fails (the session is gone either way).
  absl::StatusOr<v1::CheckReceipt> Close(const std::string& id, const std::string& owner);

  size_t open_count() const;

 private:
  struct Session {
    std::string owner;
    absl::Time started;
    std::shared_ptr<std::atomic<int64_t>> last_active;  // unix micros
    std::map<uint32_t, std::shared_ptr<SessionPart>> parts;
  };
  bool Expired(const Session& session, absl::Time now) const;
  // Drops every expired session. Needs mu_.
  void Sweep(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new part `number` of session `id`, kept in the journal if any.
  std::shared_ptr<SessionPart> NewPart(const std::string& id, uint32_t number,
                                       const Session& session) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes session `id` from the journal, if any (failures are logged).
  void Forget(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CheckSessionOptions options_;
  const Signer signer_;
  const VersionSource version_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  SessionJournal* journal_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_SESSIONS_H_
