#include "service/local_mutation_log.h"

#include "client/common/base/status_macros.h"

namespace optout::service {

void AppliedVersion::Advance(uint64_t version) {
  absl::MutexLock lock(&mu_);
  if (version > version_) version_ = version;
}

uint64_t AppliedVersion::Get() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

bool AppliedVersion::Await(uint64_t version, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return version_ >= version;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
}

LocalMutationLog::LocalMutationLog(MutationApplier* applier, const storage::OptOutStore* store)
    : applier_(applier), store_(store) {
  // Versions answered before a restart stay satisfied after it.
  applied_.Advance(store_->LatestSequence());
}

absl::StatusOr<Committed> LocalMutationLog::Commit(const internal::Mutation& mutation) {
  Committed committed;
  OPTOUT_ASSIGN_OR_RETURN(committed.outcome, applier_->Apply(mutation, nullptr));
  // Read after the write (and its index update): at least its own sequence,
  // so a check with min_version = this version sees the change. A later
  // writer's sequence may be included before that writer's index update,
  // but nobody holds that version until its own Commit returns.
  committed.version = store_->LatestSequence();
  applied_.Advance(committed.version);
  return committed;
}

bool LocalMutationLog::AwaitApplied(uint64_t version, absl::Time deadline) const {
  return applied_.Await(version, deadline);
}

LogProgress LocalMutationLog::Progress() const {
  LogProgress progress;
  progress.applied_version = applied_.Get();
  return progress;
}

}  // namespace optout::service
