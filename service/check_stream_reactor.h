// File: service/check_stream_reactor.h
//
// CheckStream: each request batch is answered by one response, in order.
// Batches of one stream are checked concurrently: as soon as a large batch
// has been read the next read starts, so while one check worker checks
// batch n another can already check batch n+1; answers are written strictly
// in batch order. Batches run on CheckWorkers (the smallest inline); a full
// worker queue ends the stream with RESOURCE_EXHAUSTED, and cancellation or
// the deadline stops the batch being checked. A stream idle for
// StreamLimits::idle_timeout (nothing read, checked or written: a client
// that stopped reading) is cancelled by the StreamSweeper. Flow control: at most kMaxOutstanding batches are being
// checked or wait for the network; beyond that the reactor stops reading, so
// a fast client cannot make the server buffer without bound. Answers count
// against the server-wide AnswerBudget; once it is spent, a stream reads
// only when it has nothing outstanding. A bad batch
// ends the stream with its error (INVALID_ARGUMENT naming the item); the
// batches before it are answered first, the ones after it are dropped.
//
// Each batch is admitted by CheckAccess before it is checked (the call's
// API key or its peer's anonymous budget); a refused batch ends the stream
// with its status like a bad one.
//
// A stream tagged with a check session (service/session_dispatch.h) feeds
// every answered batch to its SessionPart in batch order, outside `mu_`:
// whichever thread finishes a batch hashes the batches due, one thread at
// a time (`hashing_`); the stream finishes only once every answered batch
// is fed, so a receipt asked for after the stream ended covers all of it.
// An answer is written only after its batch is fed, so that a re-sent
// numbered batch (CheckRequest.session_batch) is recognised and counted
// once; batch numbers out of order fail the batch like a bad one.
// A bad session tag fails the stream's first batch like a refused one.
//
// Deletes itself in OnDone. Callbacks may run concurrently; `mu_` guards all
// state below it and is never held while a batch is checked.
#ifndef OPTOUT_SERVICE_CHECK_STREAM_REACTOR_H_
#define OPTOUT_SERVICE_CHECK_STREAM_REACTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "google/protobuf/arena.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "optout/v1/optout.grpc.pb.h"
#include "service/answer_budget.h"
#include "service/check_access.h"
#include "service/check_sessions.h"
#include "service/check_workers.h"
#include "service/registry.h"
#include "service/rpc_metrics.h"
#include "service/stream_guard.h"

namespace optout::service {

// Server-wide limits every stream shares; they outlive the gRPC server.
struct StreamLimits {
  StreamSweeper* sweeper = nullptr;
  // Answers not yet handed to a reader; nullptr: unbounded.
  AnswerBudget* answer_budget = nullptr;
  absl::Duration idle_timeout = absl::Seconds(30);
  // Where finished streams are counted; null: not counted.
  const MethodMetrics* calls = nullptr;
};

class CheckStreamReactor final
    : public grpc::ServerBidiReactor<v1::CheckRequest, v1::CheckResponse> {
 public:
  // `registry`, `workers`, `access` and `context` outlive the reactor.
  // `sessions` (nullptr: sessions off) outlives the reactor too.
  CheckStreamReactor(const Registry* registry, CheckWorkers* workers, CheckAccess* access,
                     grpc::CallbackServerContext* context, const StreamLimits& limits,
                     CheckSessions* sessions = nullptr);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  // Batches on workers see this flag, never the call's context: a worker
  // may still be checking when gRPC tears the call down.
  void OnCancel() override { cancelled_.store(true, std::memory_order_relaxed); }

 private:
  static constexpr size_t kMaxOutstanding = 4;
  // Batches with at least this many items (or 32-byte packed units) start
  // the next read before they are checked.
  static constexpr size_t kReadAheadItems = 64;

  // An answer and the arena it lives on: a 10,000-item answer is 10,000+
  // small messages, which an arena allocates and frees in a few blocks.
  struct Answer {
    std::unique_ptr<google::protobuf::Arena> arena;
    v1::CheckResponse* message = nullptr;  // owned by `arena`
    AnswerBudget::Charge charge;           // released with the answer
    // For the session: matches by kind, and the version checked against.
    KindCounts matched;
    uint64_t version = 0;
  };
  // An answered batch waiting to be fed to the session part.
  struct ToHash {
    std::unique_ptr<v1::CheckRequest> request;
    KindCounts matched;
    uint64_t version = 0;
  };

  // Checks batch `seq` (on a worker or inline) and queues its answer.
  void CheckBatch(uint64_t seq, std::unique_ptr<v1::CheckRequest> request,
                  const CheckAdmission& admission);
  // Records the answer (or error) of batch `seq` and moves the stream on.
  void BatchDone(uint64_t seq, std::unique_ptr<v1::CheckRequest> request, Answer answer,
                 const absl::Status& status);
  void BatchDoneLocked(uint64_t seq, std::unique_ptr<v1::CheckRequest> request, Answer answer,
                       const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // gRPC's reference (dropped in OnDone) plus one per batch on a worker: a
  // worker may call Finish, after which OnDone can run on another thread
  // while the worker still unlocks mu_, so the last reference deletes.
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  // Frees an answer.
  void Drop(Answer& answer);
  // Called by the sweeper: ends the stream when idle past the timeout.
  void EndIfIdle(absl::Time now);
  // Feeds the answered batches due to the session part, in batch order.
  // Takes mu_; call without it.
  void HashAnswered();
  // Batches answered but not yet fed. Needs mu_.
  bool HashPending() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts a read when the stream is open and there is room. Needs mu_.
  void MaybeStartRead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the next in-order write or finishes, as the state allows. Needs mu_.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Registry* const registry_;
  CheckWorkers* const workers_;
  CheckAccess* const access_;
  std::atomic<bool> cancelled_{false};
  const std::chrono::system_clock::time_point deadline_;
  const CheckInterrupt interrupt_;
  grpc::CallbackServerContext* const context_;
  const StreamLimits limits_;
  const CallTimer timer_;
  StreamSweeper::Handle sweep_handle_ = 0;
  std::atomic<int> refs_{1};
  // The call's API key and peer, read once.
  const Caller caller_;
  // The session part the stream feeds (nullptr: none), or why its tag is bad.
  std::shared_ptr<SessionPart> part_;
  absl::Status session_status_;

  absl::Mutex mu_;
  // Target of the one outstanding read.
  std::unique_ptr<v1::CheckRequest> reading_into_ ABSL_GUARDED_BY(mu_);
  // Request messages kept for reuse (their repeated fields keep capacity).
  std::vector<std::unique_ptr<v1::CheckRequest>> spare_ ABSL_GUARDED_BY(mu_);
  // Answers from sequence number next_write_ on; message is nullptr while
  // still being checked. The front is written first.
  std::deque<Answer> answers_ ABSL_GUARDED_BY(mu_);
  Answer writing_msg_ ABSL_GUARDED_BY(mu_);
  uint64_t next_read_ ABSL_GUARDED_BY(mu_) = 0;   // sequence number of the next batch read
  uint64_t next_write_ ABSL_GUARDED_BY(mu_) = 0;  // sequence number of answers_.front()
  size_t checking_ ABSL_GUARDED_BY(mu_) = 0;      // batches being checked right now
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Sequence number of the first failed batch; answers from it on are dropped.
  uint64_t failed_at_ ABSL_GUARDED_BY(mu_) = UINT64_MAX;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_);
  // Session feeding: slot i holds batch next_hash_ + i once answered.
  std::deque<std::optional<ToHash>> to_hash_ ABSL_GUARDED_BY(mu_);
  uint64_t next_hash_ ABSL_GUARDED_BY(mu_) = 0;
  // Batches before this sequence number are fed; their answers may go out.
  uint64_t fed_ ABSL_GUARDED_BY(mu_) = 0;
  bool hashing_ ABSL_GUARDED_BY(mu_) = false;
  bool idle_ended_ ABSL_GUARDED_BY(mu_) = false;
  // The session_batch numbers of this stream's batches, in read order.
  StreamBatchOrder batch_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_STREAM_REACTOR_H_
