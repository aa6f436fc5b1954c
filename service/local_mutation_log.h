// File: service/local_mutation_log.h
//
// LocalMutationLog: the single-node log. Commit applies the mutation at once
// in the caller's thread (concurrent commits are group-committed by
// RocksDB, as before the log existed); the version is RocksDB's sequence
// number after the write, which grows and survives restarts.
//
// Thread-safety: thread-safe. `applier` and `store` must outlive it.
#ifndef OPTOUT_SERVICE_LOCAL_MUTATION_LOG_H_
#define OPTOUT_SERVICE_LOCAL_MUTATION_LOG_H_

#include "service/mutation_log.h"

namespace optout::service {

class LocalMutationLog final : public MutationLog {
 public:
  LocalMutationLog(MutationApplier* applier, const storage::OptOutStore* store);

  absl::StatusOr<Committed> Commit(const internal::Mutation& mutation) override;
  bool AwaitApplied(uint64_t version, absl::Time deadline) const override;
  LogProgress Progress() const override;

 private:
  MutationApplier* const applier_;
  const storage::OptOutStore* const store_;
  AppliedVersion applied_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_LOCAL_MUTATION_LOG_H_
