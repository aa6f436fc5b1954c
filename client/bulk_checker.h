// File: client/bulk_checker.h
//
// BulkChecker keeps several Check batches in flight on one CheckStream, so
// the network and the server stay busy while the caller prepares the next
// batch. Responses come back in the order batches were sent.
//
//   BulkChecker bulk(client, {.max_in_flight = 4, .retry_for = absl::Minutes(1)});
//   while (have_more) {
//     if (bulk.in_flight() == bulk.max_in_flight()) Handle(bulk.Next());
//     bulk.Send(std::move(batch));
//   }
//   while (bulk.in_flight() > 0) Handle(bulk.Next());
//   status = bulk.Finish();
//
// Resilience: every blocking step (opening the stream, writing a batch,
// waiting for an answer) is bounded by the client's timeout, so a stopped
// server cannot hang the caller. When the stream fails for a transient reason
// (the server restarted or went away, no answer in time), the checker opens a
// new stream with backoff and re-sends exactly the batches not yet answered,
// in order, for up to `retry_for` without an answer; each batch is returned
// by Next() once. Callers therefore see either every answer in order or an
// error, never a gap or a duplicate. Over a budget (RESOURCE_EXHAUSTED with
// a RetryInfo delay) it waits as long as the server asks, or gives up at once
// when that is longer than `retry_for` allows.
//
// Errors: a refused batch (e.g. INVALID_ARGUMENT) ends the stream at once;
// Next/Send then return it. After the retry budget: the last transient error
// (UNAVAILABLE, DEADLINE_EXCEEDED, ...). Not thread-safe: one caller thread.
#ifndef OPTOUT_CLIENT_BULK_CHECKER_H_
#define OPTOUT_CLIENT_BULK_CHECKER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/registry_client.h"

namespace optout::client {

namespace internal {
class StreamWatchdog;
}  // namespace internal

struct BulkOptions {
  // Batches in flight on the stream. Default: 4.
  int max_in_flight = 4;
  // How long to keep reconnecting after a transient failure, counted from
  // the last answer received. Zero: fail on the first error. Default: 0.
  absl::Duration retry_for = absl::ZeroDuration();
  // Called before each reconnect attempt with the error that caused it and
  // the wait before the attempt (e.g. to print a note). Optional.
  std::function<void(const absl::Status& cause, absl::Duration wait)> on_retry;
  // Tags the stream with this check session (RegistryClient::
  // OpenCheckSession) and part. Default: none.
  std::string session_id;
  uint32_t session_part = 0;
  // With a session, batches are numbered (CheckRequest.session_batch) so
  // that the ones re-sent after a reconnect are counted once: from
  // *session_batches + 1 on, advancing it, so that checkers used one after
  // another on one part continue the numbering. Null: from 1.
  uint64_t* session_batches = nullptr;
};

// True for errors worth a reconnect: the server is gone, restarting,
// overloaded or silent. False for answers about the request itself.
bool IsTransient(const absl::Status& status);

class BulkChecker final {
 public:
  BulkChecker(RegistryClient& client, const BulkOptions& options);
  BulkChecker(RegistryClient& client, int max_in_flight);
  ~BulkChecker();
  BulkChecker(const BulkChecker&) = delete;
  BulkChecker& operator=(const BulkChecker&) = delete;

  // Sends one batch (kept until answered; on the wire its tag is a sequence
  // number, and Next() gives the answer back under the caller's tag). Call
  // only while in_flight() < max_in_flight().
  absl::Status Send(v1::CheckRequest request);
  // Waits for the answer to the oldest batch in flight.
  absl::StatusOr<v1::CheckResponse> Next();
  // Half-closes the stream and returns its final status.
  absl::Status Finish();

  int in_flight() const { return static_cast<int>(unanswered_.size()); }
  int max_in_flight() const { return options_.max_in_flight; }
  // Batches answered so far and reconnects made (for summaries).
  int64_t answered() const { return answered_; }
  int reconnects() const { return reconnects_; }

 private:
  // Opens a stream and writes every unanswered batch on it.
  absl::Status Open();
  // Ends the current stream and returns why it ended.
  absl::Status CloseBroken();
  // After `cause`: reconnect with backoff while the budget lasts. OK once a
  // new stream carries every unanswered batch; otherwise the final error.
  absl::Status Recover(absl::Status cause);
  absl::Status TimedOut() const;

  RegistryClient& client_;
  BulkOptions options_;
  std::unique_ptr<internal::StreamWatchdog> watchdog_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::CheckRequest, v1::CheckResponse>> stream_;
  std::deque<v1::CheckRequest> unanswered_;
  std::deque<uint64_t> caller_tags_;  // aligned with unanswered_
  uint64_t next_tag_ = 1;
  uint64_t own_session_batches_ = 0;  // when options_.session_batches is null
  int64_t answered_ = 0;
  int reconnects_ = 0;
  absl::Time last_progress_;
  bool finished_ = false;
  absl::Status final_status_;
};

}  // namespace optout::client

#endif  // OPTOUT_CLIENT_BULK_CHECKER_H_
