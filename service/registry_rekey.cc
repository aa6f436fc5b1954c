// Registry's part of a key rotation (service/key_rotation.h drives it):
// switching the key versions in use and moving records between them.
#include <array>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "service/record_rekey.h"
#include "service/registry.h"

namespace optout::service {
namespace {

// Ends a store scan once a batch is full; never leaves RekeyBatch.
absl::Status BatchFull() { return absl::ResourceExhaustedError("rekey batch full"); }
bool IsBatchFull(const absl::Status& s) {
  return s.code() == absl::StatusCode::kResourceExhausted && s.message() == "rekey batch full";
}

// The id right after `id` in byte order, where a scan resumes.
std::string Successor(const std::string& id) { return id + std::string(1, '\0'); }

}  // namespace

void Registry::SwitchKeySet(KeySet keys) {
  auto next = std::make_shared<const KeySet>(std::move(keys));
  absl::WriterMutexLock writing(&write_barrier_);
  absl::MutexLock lock(&keys_mu_);
  keys_ = std::move(next);
}

void Registry::SwitchKeySetInOrder(KeySet keys) {
  auto next = std::make_shared<const KeySet>(std::move(keys));
  absl::MutexLock lock(&keys_mu_);
  keys_ = std::move(next);
}

absl::StatusOr<Registry::RekeyStep> Registry::RekeyBatch(
    const std::string& after, size_t max_records, absl::string_view progress_key,
    const std::function<std::string(const std::string& cursor, size_t rekeyed)>& progress) {
  const std::shared_ptr<const KeySet> keys = key_set();
  if (keys->previous == nullptr) return absl::FailedPreconditionError("no key rotation runs");
  const Keyring& from = *keys->previous;
  const Keyring& to = *keys->current;

  // Every record lock, in order, for the batch: no Revoke or token erasure
  // of these records runs between reading one and writing it back (one
  // synced batch of a few thousand records holds them a few milliseconds).
  // Registrations take none of them: they only add records, of `to`.
  constexpr size_t kStripes = sizeof(record_mu_) / sizeof(record_mu_[0]);
  for (size_t i = 0; i < kStripes; ++i) record_mu_[i].Lock();
  struct Unlock {
    absl::Mutex* mu;
    ~Unlock() {
      for (size_t i = kStripes; i-- > 0;) mu[i].Unlock();
    }
  } unlock{record_mu_};

  RekeyStep step;
  step.cursor = after;
  std::vector<storage::OptOutStore::RecordRewrite> rewrites;
  std::vector<std::pair<IndexedOptOut, IndexedOptOut>> index_moves;
  internal::OptOutRecord record;
  absl::Status scanned = store_->ForEachRecord(
      [&](absl::string_view id, absl::string_view bytes) -> absl::Status {
        if (step.scanned >= max_records) return BatchFull();
        ++step.scanned;
        step.cursor = std::string(id);
        if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return absl::DataLossError("stored opt-out record does not parse");
        }
        if (record.key_version() == to.version()) return absl::OkStatus();
        OPTOUT_ASSIGN_OR_RETURN(RekeyedRecord moved, RekeyRecord(from, to, id, record));
        storage::OptOutStore::RecordRewrite rewrite;
        rewrite.id = std::string(id);
        rewrite.record = moved.record.SerializeAsString();
        rewrite.old_request_key = record.request_key();
        rewrite.new_request_key = moved.request_key;
        rewrites.push_back(std::move(rewrite));
        index_moves.emplace_back(std::move(moved.before), std::move(moved.after));
        return absl::OkStatus();
      },
      after.empty() ? std::string() : Successor(after));
  if (!scanned.ok() && !IsBatchFull(scanned)) return scanned;
  step.done = scanned.ok();
  step.rekeyed = rewrites.size();
  OPTOUT_RETURN_IF_ERROR(
      store_->RewriteRecords(rewrites, progress_key, progress(step.cursor, step.rekeyed)));
  for (const auto& [before, moved] : index_moves) index_.ReplaceKeys(before, moved);
  return step;
}

}  // namespace optout::service
