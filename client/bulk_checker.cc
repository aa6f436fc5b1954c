#include "client/bulk_checker.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/internal/stream_watchdog.h"

namespace optout::client {
namespace {

// Reconnect backoff: starts short so that a quick restart costs little,
// grows so that a long outage is not hammered.
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);

}  // namespace

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:        // server gone, refused, restarting
    case absl::StatusCode::kDeadlineExceeded:   // no answer in time
    case absl::StatusCode::kCancelled:          // a shutting-down server cancels calls
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:  // overloaded: back off and retry
      return true;
    default:
      return false;
  }
}

BulkChecker::BulkChecker(RegistryClient& client, const BulkOptions& options)
    : client_(client),
      options_(options),
      watchdog_(std::make_unique<internal::StreamWatchdog>()),
      last_progress_(absl::Now()) {
  options_.max_in_flight = std::max(1, options_.max_in_flight);
  absl::Status opened = Open();
  if (!opened.ok()) Recover(std::move(opened)).IgnoreError();  // Send/Next report it
}

BulkChecker::BulkChecker(RegistryClient& client, int max_in_flight)
    : BulkChecker(client, BulkOptions{max_in_flight}) {}

BulkChecker::~BulkChecker() {
  if (!finished_ && context_ != nullptr) {
    context_->TryCancel();
    CloseBroken().IgnoreError();
  }
}

absl::Status BulkChecker::TimedOut() const {
  return absl::DeadlineExceededError(
      absl::StrCat("no answer from the server within ",
                   absl::FormatDuration(client_.options().timeout), " (--timeout)"));
}

absl::Status BulkChecker::Open() {
  context_ = std::make_unique<grpc::ClientContext>();
  client_.AddCredentials(context_.get());
  TagCheckSession(context_.get(), options_.session_id, options_.session_part);
  // Opening a stream waits for the connection; a stopped server must not
  // hold it forever.
  watchdog_->Arm(context_.get(), client_.options().timeout);
  stream_ = client_.check_stub().CheckStream(context_.get());
  bool ok = true;
  for (const v1::CheckRequest& request : unanswered_) {
    if (!stream_->Write(request)) {
      ok = false;
      break;
    }
  }
  const bool fired = watchdog_->Disarm();
  if (ok && !fired) return absl::OkStatus();
  absl::Status s = CloseBroken();
  return fired ? TimedOut() : (s.ok() ? absl::UnavailableError("check stream closed") : s);
}

absl::Status BulkChecker::CloseBroken() {
  watchdog_->Arm(context_.get(), client_.options().timeout);
  stream_->WritesDone();
  v1::CheckResponse drain;
  while (stream_->Read(&drain)) {
  }
  absl::Status s = FromGrpcStatus(stream_->Finish());
  if (watchdog_->Disarm()) s = TimedOut();
  return s;
}

absl::Status BulkChecker::Recover(absl::Status cause) {
  absl::Duration backoff = kFirstBackoff;
  std::mt19937 jitter(std::random_device{}());
  while (IsTransient(cause) && absl::Now() - last_progress_ < options_.retry_for) {
    const absl::Duration left = options_.retry_for - (absl::Now() - last_progress_);
    // Up to 50% jitter so that many clients of one restarted server spread out.
    absl::Duration wait =
        std::min(left, backoff * std::uniform_real_distribution<double>(0.5, 1.0)(jitter));
    // Over a budget the server says how long to wait (RetryInfo): wait that
    // long, or give up at once when it is longer than we may keep trying.
    if (std::optional<absl::Duration> asked = RetryDelayOf(cause)) {
      if (*asked > left) break;
      wait = std::max(wait, *asked);
    }
    if (options_.on_retry) options_.on_retry(cause, wait);
    absl::SleepFor(wait);
    backoff = std::min(kMaxBackoff, backoff * 2);
    ++reconnects_;
    cause = Open();
    if (cause.ok()) return absl::OkStatus();
  }
  finished_ = true;
  final_status_ = cause;
  return cause;
}

absl::Status BulkChecker::Send(v1::CheckRequest request) {
  if (finished_) {
    return final_status_.ok() ? absl::FailedPreconditionError("stream finished") : final_status_;
  }
  caller_tags_.push_back(request.tag());
  request.set_tag(next_tag_++);
  if (!options_.session_id.empty()) {
    uint64_t& numbered =
        options_.session_batches != nullptr ? *options_.session_batches : own_session_batches_;
    request.set_session_batch(++numbered);
  }
  unanswered_.push_back(std::move(request));
  watchdog_->Arm(context_.get(), client_.options().timeout);
  const bool written = stream_->Write(unanswered_.back());
  const bool fired = watchdog_->Disarm();
  if (written && !fired) return absl::OkStatus();
  // The batch stays queued: a new stream re-sends it with the others.
  absl::Status s = CloseBroken();
  if (fired) s = TimedOut();
  if (s.ok()) s = absl::UnavailableError("check stream closed by server");
  return Recover(std::move(s));
}

absl::StatusOr<v1::CheckResponse> BulkChecker::Next() {
  if (unanswered_.empty()) return absl::FailedPreconditionError("no batch in flight");
  for (;;) {
    if (finished_) return final_status_.ok() ? absl::UnavailableError("stream ended") : final_status_;
    v1::CheckResponse response;
    watchdog_->Arm(context_.get(), client_.options().timeout);
    const bool read = stream_->Read(&response);
    const bool fired = watchdog_->Disarm();
    if (read && !fired) {
      if (response.tag() != unanswered_.front().tag()) {
        finished_ = true;
        final_status_ = absl::InternalError(
            absl::StrCat("server answered batch ", response.tag(), ", expected ",
                         unanswered_.front().tag()));
        return final_status_;
      }
      unanswered_.pop_front();
      // The caller pairs answers by its own tags; ours only guard re-sends.
      response.set_tag(caller_tags_.front());
      caller_tags_.pop_front();
      ++answered_;
      last_progress_ = absl::Now();
      return response;
    }
    absl::Status s = CloseBroken();
    if (fired) s = TimedOut();
    if (s.ok()) s = absl::UnavailableError("check stream ended early");
    absl::Status recovered = Recover(std::move(s));
    if (!recovered.ok()) return recovered;
  }
}

absl::Status BulkChecker::Finish() {
  if (finished_) return final_status_;
  finished_ = true;
  final_status_ = CloseBroken();
  // Every batch was answered: a server going away after its last answer
  // costs nothing.
  if (unanswered_.empty() && IsTransient(final_status_)) final_status_ = absl::OkStatus();
  return final_status_;
}

}  // namespace optout::client
