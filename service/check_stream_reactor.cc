#include "service/check_stream_reactor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/check_dispatch.h"
#include "service/session_dispatch.h"
#include "service/status_util.h"

namespace optout::service {

CheckStreamReactor::CheckStreamReactor(const Registry* registry, CheckWorkers* workers,
                                       CheckAccess* access,
                                       grpc::CallbackServerContext* context,
                                       const StreamLimits& limits, CheckSessions* sessions)
    : registry_(registry),
      workers_(workers),
      access_(access),
      deadline_(context->deadline()),
      interrupt_([this]() -> absl::Status {
        if (cancelled_.load(std::memory_order_relaxed)) {
          return absl::CancelledError("check cancelled by the client");
        }
        if (std::chrono::system_clock::now() > deadline_) {
          return absl::DeadlineExceededError("check stopped at the call's deadline");
        }
        return absl::OkStatus();
      }),
      context_(context),
      limits_(limits),
      timer_(limits.calls),
      caller_(CallerOf(context)) {
  absl::StatusOr<std::shared_ptr<SessionPart>> part = SessionPartOf(sessions, context, caller_);
  if (part.ok()) {
    part_ = *std::move(part);
  } else {
    session_status_ = part.status();
  }
  {
    absl::MutexLock lock(&mu_);
    last_activity_ = absl::Now();
  }
  sweep_handle_ = limits_.sweeper->Watch([this](absl::Time now) { EndIfIdle(now); });
  absl::MutexLock lock(&mu_);
  MaybeStartRead();
}

void CheckStreamReactor::OnDone() {
  limits_.sweeper->Forget(sweep_handle_);
  {
    absl::MutexLock lock(&mu_);
    // A stream gRPC ended without our Finish (the client went away).
    if (!finished_) timer_.Done(grpc::StatusCode::CANCELLED);
    // The call is gone: a batch still on a worker must not read, write or
    // finish any more.
    finished_ = true;
    cancelled_.store(true, std::memory_order_relaxed);
    for (Answer& answer : answers_) Drop(answer);
    answers_.clear();
    Drop(writing_msg_);
  }
  Unref();
}

void CheckStreamReactor::Drop(Answer& answer) {
  answer = Answer();
}

void CheckStreamReactor::EndIfIdle(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (finished_ || idle_ended_ || checking_ > 0 || now - last_activity_ < limits_.idle_timeout) {
    return;
  }
  idle_ended_ = true;
  if (writing_) {
    // The client stopped reading: a write never completes, so the call is
    // cancelled (the client sees CANCELLED) and its answers are freed.
    context_->TryCancel();
    return;
  }
  // Nothing in flight: end the stream with a status naming the limit.
  if (failed_at_ == UINT64_MAX) {
    failed_at_ = next_read_;
    final_status_ = absl::DeadlineExceededError(
        absl::StrCat("stream idle for ", absl::FormatDuration(limits_.idle_timeout),
                     " (--stream_idle_timeout_seconds)"));
  }
  reads_done_ = true;
  Pump();
}

void CheckStreamReactor::MaybeStartRead() {
  if (reading_ || reads_done_ || finished_) return;
  // answers_ holds a slot for every batch read and not yet being written.
  const size_t outstanding = answers_.size() + (writing_ ? 1 : 0);
  if (outstanding >= kMaxOutstanding || to_hash_.size() >= kMaxOutstanding) return;
  if (outstanding > 0 && limits_.answer_budget != nullptr && limits_.answer_budget->Spent()) return;
  if (spare_.empty()) {
    reading_into_ = std::make_unique<v1::CheckRequest>();
  } else {
    reading_into_ = std::move(spare_.back());
    spare_.pop_back();
  }
  reading_ = true;
  StartRead(reading_into_.get());
}

void CheckStreamReactor::OnReadDone(bool ok) {
  std::unique_ptr<v1::CheckRequest> request;
  uint64_t seq = 0;
  absl::Status ordered;
  {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    last_activity_ = absl::Now();
    if (!ok) {
      reads_done_ = true;  // client half-closed (or the call broke)
      Pump();
      return;
    }
    request = std::move(reading_into_);
    seq = next_read_++;
    // Batch numbers are checked in read order, under mu_: the read ahead
    // below may complete on another thread before this one goes on.
    if (part_ != nullptr && session_status_.ok()) {
      ordered = batch_order_.Next(*part_, request->session_batch());
    }
    ++checking_;
    answers_.emplace_back();  // placeholder, in sequence order
    // Reading on while a large batch is checked lets another worker check
    // the next batch in parallel. A small batch is checked faster than
    // a read completes, and an early read measurably slowed single-item
    // round trips, so those read on after their answer is queued.
    if (CheckWorkUnits(*request) >= kReadAheadItems) MaybeStartRead();
  }
  if (!session_status_.ok()) {
    BatchDone(seq, std::move(request), Answer(), session_status_);
    return;
  }
  if (!ordered.ok()) {
    BatchDone(seq, std::move(request), Answer(), ordered);
    return;
  }
  absl::StatusOr<CheckAdmission> admitted =
      access_->AdmitCheck(caller_, "CheckStream", *request);
  if (!admitted.ok()) {
    BatchDone(seq, std::move(request), Answer(), admitted.status());
    return;
  }
  if (CheckWorkUnits(*request) <= kInlineCheckItems) {
    CheckBatch(seq, std::move(request), *admitted);
    return;
  }
  // std::function needs a copyable closure: the request travels as a raw
  // pointer and is owned again by CheckBatch (or below, if not queued).
  v1::CheckRequest* raw = request.release();
  // The worker holds a reference until its batch is done, so Finish from
  // the worker never races OnDone.
  refs_.fetch_add(1);
  absl::Status queued = workers_->TrySchedule([this, seq, raw, admission = *admitted] {
    CheckBatch(seq, std::unique_ptr<v1::CheckRequest>(raw), admission);
    Unref();
  });
  if (!queued.ok()) {
    access_->CheckDone(*admitted, v1::CheckResponse::default_instance(), queued);
    BatchDone(seq, std::unique_ptr<v1::CheckRequest>(raw), Answer(), queued);
    Unref();
  }
}

void CheckStreamReactor::CheckBatch(uint64_t seq, std::unique_ptr<v1::CheckRequest> request,
                                    const CheckAdmission& admission) {
  Answer answer;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 4096;
  arena_options.max_block_size = 1 << 20;
  answer.arena = std::make_unique<google::protobuf::Arena>(arena_options);
  answer.message = google::protobuf::Arena::CreateMessage<v1::CheckResponse>(answer.arena.get());
  if (part_ != nullptr) answer.version = registry_->mutation_log().Progress().applied_version;
  const absl::Status status = registry_->Check(*request, answer.message, interrupt_);
  access_->CheckDone(admission, *answer.message, status);
  if (part_ != nullptr && status.ok()) answer.matched = MatchesOf(*answer.message);
  if (limits_.answer_budget != nullptr) {
    // Twice the arena: gRPC serializes a copy of the answer to write it.
    answer.charge = limits_.answer_budget->Take(2 * answer.arena->SpaceAllocated());
  }
  BatchDone(seq, std::move(request), std::move(answer), status);
}

void CheckStreamReactor::BatchDone(uint64_t seq, std::unique_ptr<v1::CheckRequest> request,
                                   Answer answer, const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    BatchDoneLocked(seq, std::move(request), std::move(answer), status);
  }
  HashAnswered();
}

void CheckStreamReactor::BatchDoneLocked(uint64_t seq, std::unique_ptr<v1::CheckRequest> request,
                                         Answer answer, const absl::Status& status) {
  --checking_;
  last_activity_ = absl::Now();
  if (part_ != nullptr && status.ok() && !finished_ && seq >= next_hash_) {
    // Fed to the session once every batch before it is.
    const size_t slot = seq - next_hash_;
    if (to_hash_.size() <= slot) to_hash_.resize(slot + 1);
    to_hash_[slot] = ToHash{std::move(request), answer.matched, answer.version};
  } else {
    spare_.push_back(std::move(request));
  }
  if (finished_) return;  // the call ended while this batch was checked
  if (!status.ok()) {
    // A bad batch ends the stream; earlier answers still go out first.
    if (seq < failed_at_) {
      failed_at_ = seq;
      final_status_ = status;
    }
    reads_done_ = true;
  } else if (seq >= next_write_ && seq < failed_at_) {
    answers_[seq - next_write_] = std::move(answer);
  }
  Pump();
  MaybeStartRead();
}

bool CheckStreamReactor::HashPending() const {
  return hashing_ || (!to_hash_.empty() && to_hash_.front().has_value() && next_hash_ < failed_at_);
}

void CheckStreamReactor::HashAnswered() {
  if (part_ == nullptr) return;
  for (;;) {
    ToHash batch;
    uint64_t seq = 0;
    {
      absl::MutexLock lock(&mu_);
      // Another thread is feeding, or the next batch is not answered yet
      // (or failed: nothing from it on is answered).
      if (hashing_ || to_hash_.empty() || !to_hash_.front().has_value() ||
          next_hash_ >= failed_at_) {
        return;
      }
      batch = std::move(*to_hash_.front());
      to_hash_.pop_front();
      seq = next_hash_++;
      hashing_ = true;
    }
    const absl::Status fed = part_->Add(*batch.request, batch.matched, batch.version, absl::Now());
    absl::MutexLock lock(&mu_);
    hashing_ = false;
    fed_ = seq + 1;
    if (!fed.ok() && seq < failed_at_) {
      // A re-send the session refuses: the batch fails instead of being
      // answered (its answer waits for this), and the stream ends.
      failed_at_ = seq;
      final_status_ = fed;
      reads_done_ = true;
    }
    spare_.push_back(std::move(batch.request));
    // Finishing may have waited for this batch; reading for room.
    Pump();
    MaybeStartRead();
  }
}

void CheckStreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  last_activity_ = absl::Now();
  Drop(writing_msg_);
  if (!ok) {
    // The client went away; nothing more can be delivered.
    for (Answer& answer : answers_) Drop(answer);
    answers_.clear();
    next_write_ = next_read_;
    reads_done_ = true;
    if (failed_at_ == UINT64_MAX) {
      failed_at_ = 0;
      final_status_ = absl::CancelledError("stream write failed");
    }
  }
  Pump();
  MaybeStartRead();
}

void CheckStreamReactor::Pump() {
  if (finished_ || writing_) return;
  // A session stream writes an answer only once its batch is fed to the
  // session part: a client that saw answer n knows batch n is counted, so
  // after a reconnect it re-sends from n + 1 at most (SessionPart).
  if (!answers_.empty() && next_write_ < failed_at_ && answers_.front().message != nullptr &&
      (part_ == nullptr || next_write_ < fed_)) {
    writing_msg_ = std::move(answers_.front());
    answers_.pop_front();
    ++next_write_;
    writing_ = true;
    StartWrite(writing_msg_.message);
    return;
  }
  // Done when nothing is being checked and nothing more can be written:
  // either the client half-closed and every answer went out, or a batch
  // failed and every answer before it went out (a pending read then just
  // fails when the call ends).
  if (checking_ > 0 || !reads_done_ || HashPending()) return;
  const bool all_written = answers_.empty();
  const bool failed_and_flushed = failed_at_ != UINT64_MAX && next_write_ >= failed_at_;
  if (all_written || failed_and_flushed) {
    if (reading_ && !failed_and_flushed) return;  // half-close not seen yet
    finished_ = true;
    for (Answer& answer : answers_) Drop(answer);
    answers_.clear();
    const grpc::Status status = ToGrpcStatus(final_status_);
    timer_.Done(status.error_code());
    Finish(status);
  }
}

}  // namespace optout::service
