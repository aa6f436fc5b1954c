#include "service/check_session_journal.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::service {
namespace {

constexpr char kPrefix[] = "check-session/";

std::string Aad(absl::string_view key) { return absl::StrCat("check-session:", key); }

}  // namespace

CheckSessionJournal::CheckSessionJournal(storage::OptOutStore* store,
                                         std::function<std::shared_ptr<const KeySet>()> keys)
    : store_(store), keys_(std::move(keys)) {}

absl::Status CheckSessionJournal::Put(const std::string& key, const std::string& state) {
  const std::shared_ptr<const KeySet> keys = keys_();
  const Keyring& keyring = *keys->current;
  absl::StatusOr<std::string> sealed = keyring.record_cipher().Seal(state, Aad(key));
  if (!sealed.ok()) return sealed.status();
  const uint32_t version = keyring.version();
  std::string value(reinterpret_cast<const char*>(&version), sizeof(version));
  value += *sealed;
  return store_->PutUnsyncedMeta(absl::StrCat(kPrefix, key), value);
}

absl::Status CheckSessionJournal::Erase(const std::string& id) {
  // Session ids have one length, so no other session's keys start with it.
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
