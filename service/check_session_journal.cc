#include "service/check_session_journal.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::service {
namespace {

constexpr char kPrefix[] = "check-session/";

std::string Aad(absl::string_view key) { return absl::StrCat("check-session:", key); }

// The version prefix and the sealed state of an entry.
absl::StatusOr<std::string> SealUnder(const Keyring& keyring, absl::string_view key,
                                      const std::string& state) {
  absl::StatusOr<std::string> sealed = keyring.record_cipher().Seal(state, Aad(key));
  if (!sealed.ok()) return sealed.status();
  const uint32_t version = keyring.version();
  std::string value(reinterpret_cast<const char*>(&version), sizeof(version));
  value += *sealed;
  return value;
}

}  // namespace

CheckSessionJournal::CheckSessionJournal(storage::OptOutStore* store,
                                         std::function<std::shared_ptr<const KeySet>()> keys)
    : store_(store), keys_(std::move(keys)) {}

absl::Status CheckSessionJournal::Put(const std::string& key, const std::string& state) {
  // The keys are taken under the lock: a reseal (rotation's end) never
  // runs between sealing under an old version and writing.
  absl::MutexLock lock(&mu_);
  const std::shared_ptr<const KeySet> keys = keys_();
  OPTOUT_ASSIGN_OR_RETURN(const std::string value, SealUnder(*keys->current, key, state));
  return store_->PutUnsyncedMeta(absl::StrCat(kPrefix, key), value);
}

absl::StatusOr<int> CheckSessionJournal::Reseal() {
  absl::MutexLock lock(&mu_);
  const std::shared_ptr<const KeySet> keys = keys_();
  const Keyring& current = *keys->current;
  std::vector<std::pair<std::string, std::string>> resealed;  // full key, value
  absl::Status listed =
      store_->ForEachMeta(kPrefix, [&](absl::string_view full_key, absl::string_view value) {
        uint32_t version = 0;
        if (value.size() <= sizeof(version)) return absl::OkStatus();
        std::memcpy(&version, value.data(), sizeof(version));
        const Keyring* keyring = keys->ForVersion(version);
        if (version == current.version() || keyring == nullptr) return absl::OkStatus();
        const std::string key(full_key.substr(sizeof(kPrefix) - 1));
        absl::StatusOr<std::string> state =
            keyring->record_cipher().Open(value.substr(sizeof(version)), Aad(key));
        if (!state.ok()) return absl::OkStatus();  // damaged: ForEach deletes it
        OPTOUT_ASSIGN_OR_RETURN(std::string sealed, SealUnder(current, key, *state));
        resealed.emplace_back(std::string(full_key), std::move(sealed));
        return absl::OkStatus();
      });
  OPTOUT_RETURN_IF_ERROR(listed);
  for (const auto& [key, value] : resealed) {
    OPTOUT_RETURN_IF_ERROR(store_->PutUnsyncedMeta(key, value));
  }
  return static_cast<int>(resealed.size());
}

absl::Status CheckSessionJournal::Erase(const std::string& id) {
  // Session ids have one length, so no other session's keys start with it.
  absl::MutexLock lock(&mu_);
  return store_->DeleteMetaPrefix(absl::StrCat(kPrefix, id));
}

absl::Status CheckSessionJournal::ForEach(
    const std::function<void(const std::string&, const std::string&)>& fn) {
  const std::shared_ptr<const KeySet> keys = keys_();
  std::vector<std::string> unreadable;
  absl::Status listed =
      store_->ForEachMeta(kPrefix, [&](absl::string_view full_key, absl::string_view value) {
        const std::string key(full_key.substr(sizeof(kPrefix) - 1));
        uint32_t version = 0;
        const Keyring* keyring = nullptr;
        if (value.size() > sizeof(version)) {
          std::memcpy(&version, value.data(), sizeof(version));
          keyring = keys->ForVersion(version);
        }
        absl::StatusOr<std::string> state =
            keyring == nullptr
                ? absl::StatusOr<std::string>(absl::DataLossError("no key version"))
                : keyring->record_cipher().Open(value.substr(sizeof(version)), Aad(key));
        if (!state.ok()) {
          unreadable.push_back(std::string(full_key));
          return absl::OkStatus();
        }
        fn(key, *state);
        return absl::OkStatus();
      });
  if (!listed.ok()) return listed;
  for (const std::string& key : unreadable) {
    OPTOUT_RETURN_IF_ERROR(store_->DeleteMetaPrefix(key));
  }
  return absl::OkStatus();
}

}  // namespace optout::service
