// KeyRotation in cluster mode (Options::ordered_by_log): the start and the
// end of a rotation are mutations of the stream, applied by every node at
// the same place of it, so every node decides alike which key versions a
// registration may be of (Registry::StageInsert): the new one and, until
// the end, the one before (re-keyed as it is applied). Each node re-keys
// its own RocksDB meanwhile, at its own pace; the end re-keys whatever a
// node has left before it forgets the old version.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/status_macros.h"
#include "service/key_rotation.h"
#include "service/log.h"
#include "service/registry_secret.h"

namespace optout::service {
namespace {

// Ends this node's wait for the rotation's end when the log cannot take
// it now (no stream leader); tried again after this.
constexpr absl::Duration kEndRetry = absl::Seconds(1);

}  // namespace

absl::StatusOr<RotationProgress> KeyRotation::StartInOrder(const std::string& new_secret_file) {
  if (!new_secret_file.empty()) {
    return absl::FailedPreconditionError(
        "new_secret_file: not supported in cluster mode yet (every node would need the new "
        "secret before the stream carries anything sealed with it); rotate-keys without "
        "--new-secret-file moves every node to the next key version of the secret they share");
  }
  internal::KeyVersionState now;
  {
    absl::MutexLock lock(&mu_);
    if (state_.has_previous()) {
      if (!running_ && live_) StartWorkerLocked();
      return StatusLocked();
    }
    now = state_.current();
  }
  const std::string& path = now.secret_file().empty() ? secret_file_ : now.secret_file();
  OPTOUT_ASSIGN_OR_RETURN(SecretBytes secret, ReadRegistrySecret(path));
  absl::StatusOr<Keyring> check = Keyring::Derive(secret, now.version());
  absl::StatusOr<Keyring> next = Keyring::Derive(secret, now.version() + 1);
  secret.fill(0);
  OPTOUT_RETURN_IF_ERROR(check.status());
  OPTOUT_RETURN_IF_ERROR(next.status());
  if (check->check_value() != now.check_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " no longer holds the secret of key version ", now.version()));
  }
  internal::Mutation mutation;
  OPTOUT_ASSIGN_OR_RETURN(*mutation.mutable_mutation_id(), NewMutationId());
  internal::StartKeyRotation* start = mutation.mutable_start_key_rotation();
  start->set_to_version(next->version());
  start->set_check_value(next->check_value());
  start->set_started_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  // Returns once this node applied it (or a peer's start of the same
  // version, ordered first: this one is then skipped).
  OPTOUT_RETURN_IF_ERROR(registry_->mutation_log().Commit(mutation).status());
  absl::MutexLock lock(&mu_);
  return StatusLocked();
}

absl::StatusOr<ApplyOutcome> KeyRotation::Apply(const internal::Mutation& mutation,
                                                const storage::ProgressMark* mark) {
  switch (mutation.change_case()) {
    case internal::Mutation::kStartKeyRotation:
      return ApplyStart(mutation.start_key_rotation(), mark);
    case internal::Mutation::kFinishKeyRotation:
      return ApplyFinish(mutation.finish_key_rotation().to_version(), mark);
    default: return Skip(mark);
  }
}

absl::StatusOr<ApplyOutcome> KeyRotation::Skip(const storage::ProgressMark* mark) {
  if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
  return ApplyOutcome::kSkipped;
}

absl::StatusOr<ApplyOutcome> KeyRotation::ApplyStart(const internal::StartKeyRotation& start,
                                                     const storage::ProgressMark* mark) {
  internal::KeyVersionState now;
  bool pending = false;
  {
    absl::MutexLock lock(&mu_);
    now = state_.current();
    pending = state_.has_previous();
  }
  if (now.version() >= start.to_version()) return Skip(mark);  // a second start, or applied again
  if (pending) {
    // Cannot be on one stream (only a node that applied the end commits the
    // next start), but a node must never be left with three versions.
    OPTOUT_RETURN_IF_ERROR(ApplyFinish(now.version(), nullptr).status());
    absl::MutexLock lock(&mu_);
    now = state_.current();
  }
  const std::string& path = now.secret_file().empty() ? secret_file_ : now.secret_file();
  OPTOUT_ASSIGN_OR_RETURN(SecretBytes secret, ReadRegistrySecret(path));
  absl::StatusOr<Keyring> next = Keyring::Derive(secret, start.to_version());
  secret.fill(0);
  OPTOUT_RETURN_IF_ERROR(next.status());
  if (next->check_value() != start.check_value()) {
    // Never skipped: this node would write records its peers cannot open.
    return absl::FailedPreconditionError(absl::StrCat(
        "key rotation to version ", start.to_version(), ": ", path,
        " derives other keys than the node that started it; every node needs the same secret"));
  }
  internal::KeyState rotating;
  {
    absl::MutexLock lock(&mu_);
    rotating = state_;
  }
  *rotating.mutable_previous() = now;
  rotating.mutable_current()->set_version(next->version());
  rotating.mutable_current()->set_check_value(next->check_value());
  rotating.clear_rotation_cursor();
  rotating.set_rotation_rekeyed(0);
  rotating.set_rotation_started_unix_seconds(start.started_unix_seconds());
  rotating.set_rotation_finished_unix_seconds(0);
  // With the progress mark: a node that restarts has either both or
  // neither, and applies the start again in the second case.
  std::unique_ptr<storage::OptOutStore::Batch> batch = store_->NewBatch();
  OPTOUT_RETURN_IF_ERROR(batch->PutMeta(kKeyStateKey, rotating.SerializeAsString()));
  OPTOUT_RETURN_IF_ERROR(store_->Write(batch.get(), mark));
  absl::MutexLock lock(&mu_);
  state_ = std::move(rotating);
  error_.clear();
  scanned_ = false;
  registry_->SwitchKeySetInOrder(KeySet{std::make_shared<const Keyring>(*std::move(next)),
                                        registry_->key_set()->current});
  Log(LogLevel::kInfo, absl::StrCat("key rotation to version ", state_.current().version(),
                                    " started on the stream (", registry_->opt_out_count(),
                                    " opt-outs here)"));
  // Until this node serves on the stream (catching up at start), the
  // worker waits for ResumeIfPending; a running one takes the new
  // rotation on by itself.
  if (live_ && !running_) StartWorkerLocked();
  return ApplyOutcome::kApplied;
}

absl::StatusOr<ApplyOutcome> KeyRotation::ApplyFinish(uint32_t to_version,
                                                      const storage::ProgressMark* mark) {
  {
    absl::MutexLock lock(&mu_);
    if (!state_.has_previous() || state_.current().version() != to_version) return Skip(mark);
  }
  // The worker's batch in flight ends first; what is left is re-keyed
  // here, holding up this node's stream for that long (a node ends its
  // own rotation about when its peers do, as all start at one place).
  absl::MutexLock scan(&scan_mu_);
  for (bool done = false; !done;) {
    std::string cursor;
    {
      absl::MutexLock lock(&mu_);
      cursor = state_.rotation_cursor();
    }
    OPTOUT_ASSIGN_OR_RETURN(Registry::RekeyStep step, NextBatch(cursor));
    done = step.done;
  }
  internal::KeyState finished = FinishedState();
  std::unique_ptr<storage::OptOutStore::Batch> batch = store_->NewBatch();
  OPTOUT_RETURN_IF_ERROR(batch->PutMeta(kKeyStateKey, finished.SerializeAsString()));
  OPTOUT_RETURN_IF_ERROR(store_->Write(batch.get(), mark));
  registry_->SwitchKeySetInOrder(KeySet{registry_->key_set()->current, nullptr});
  Log(LogLevel::kInfo, absl::StrCat("key rotation to version ", finished.current().version(),
                                    " ended on the stream: ", finished.rotation_rekeyed(),
                                    " records re-keyed here; the old version is erased"));
  absl::MutexLock lock(&mu_);
  state_ = std::move(finished);
  scanned_ = false;
  return ApplyOutcome::kApplied;
}

void KeyRotation::RunInOrder() {
  absl::Notification* stop = nullptr;
  {
    absl::MutexLock lock(&mu_);
    stop = stop_.get();
  }
  // Runs while a rotation is pending here (the next one too, should its
  // start be applied before this loop saw the end of the one before).
  for (;;) {
    uint32_t to_version = 0;
    bool scanned = false;
    {
      absl::MutexLock lock(&mu_);
      if (!state_.has_previous() || stop->HasBeenNotified()) {
        running_ = false;
        return;
      }
      to_version = state_.current().version();
      scanned = scanned_;
    }
    if (!scanned) {
      absl::StatusOr<Registry::RekeyStep> step;
      {
        absl::MutexLock scan(&scan_mu_);
        std::string cursor;
        {
          absl::MutexLock lock(&mu_);
          // The end was applied meanwhile (it re-keyed the rest).
          if (!state_.has_previous() || state_.current().version() != to_version) continue;
          cursor = state_.rotation_cursor();
        }
        step = NextBatch(cursor);
        if (step.ok() && step->done) {
          absl::MutexLock lock(&mu_);
          scanned_ = true;
        }
      }
      if (!step.ok()) {
        Log(LogLevel::kError, absl::StrCat("key rotation stopped: ", step.status().ToString(),
                                           "; optout-admin rotate-keys resumes it"));
        absl::MutexLock lock(&mu_);
        error_ = std::string(step.status().message());
        running_ = false;
        return;
      }
      if (!step->done && options_.pause_between_batches > absl::ZeroDuration()) {
        stop->WaitForNotificationWithTimeout(options_.pause_between_batches);
      }
      continue;
    }
    // Every record here is of the new version: the end goes on the stream
    // (the first one there ends the rotation everywhere; later ones are
    // skipped). Commit returns once this node applied it.
    internal::Mutation end;
    absl::StatusOr<std::string> id = NewMutationId();
    absl::Status committed = id.status();
    if (id.ok()) {
      end.set_mutation_id(*std::move(id));
      end.mutable_finish_key_rotation()->set_to_version(to_version);
      committed = registry_->mutation_log().Commit(end).status();
    }
    if (!committed.ok()) {
      Log(LogLevel::kWarning, absl::StrCat("key rotation to version ", to_version,
                                           ": committing its end: ", committed.ToString(),
                                           "; trying again"));
      stop->WaitForNotificationWithTimeout(kEndRetry);
    }
  }
}

}  // namespace optout::service
