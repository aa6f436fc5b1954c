// File: service/check_session_journal.h
//
// Keeps open check sessions (service/check_sessions.h) across an optoutd
// restart, so that a check-dataset run of hours survives an upgrade or a
// crash of its registry: the client reconnects (--retry-for), re-sends the
// batches whose answers it lacks, and the session goes on with its counts,
// running digest and batch numbers as they were.
//
// Each entry is sealed with the current key version's record cipher
// (AES-256-GCM, bound to its key) and prefixed by that version: a part's
// running SHA-256 state holds the last bytes of the item digests a client
// checked, which the at-rest guarantee keeps off the disk in the clear.
// Stored in the default family under "check-session/" without sync
// (OptOutStore::PutUnsyncedMeta): a killed process keeps every write, a
// power loss may lose the last ones (the client is then told the session
// is unknown). Bounded like the sessions themselves: at most
// --max_check_sessions sessions of at most 64 parts, about 1.7 KB each;
// closed and expired sessions are deleted.
//
// Key rotation (optout-admin rotate-keys): entries are sealed under the
// version current when written, and a finished rotation forgets the old
// version. So before it does, the rotation calls Reseal, which seals every
// entry of the old version again under the new one (a session's header is
// written only when it opens, an idle part only after its last batch):
// sessions open across a rotation survive a later restart too. Receipts
// are signed by the key current when the session closes (server.cc).
//
// Thread-safe: Put, Erase and Reseal are serialized, so a reseal never
// writes back a part state older than one a batch has just saved.
#ifndef OPTOUT_SERVICE_CHECK_SESSION_JOURNAL_H_
#define OPTOUT_SERVICE_CHECK_SESSION_JOURNAL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

#include "service/check_sessions.h"
#include "service/key_set.h"
#include "storage/opt_out_store.h"

namespace optout::service {

class CheckSessionJournal final : public SessionJournal {
 public:
  // `keys` gives the registry's key set at each call; `store` outlives this.
  CheckSessionJournal(storage::OptOutStore* store,
                      std::function<std::shared_ptr<const KeySet>()> keys);

  absl::Status Put(const std::string& key, const std::string& state) override;
  absl::Status Erase(const std::string& id) override;
  // Entries no key version of the registry opens (sealed before a finished
  // rotation, or damaged) are deleted, not listed.
  absl::Status ForEach(
      const std::function<void(const std::string& key, const std::string& state)>& fn) override;

  // Seals again under the current key version every entry sealed under
  // another version the key set still holds (rotation's previous); entries
  // no version opens are left for ForEach to delete. The number resealed.
  absl::StatusOr<int> Reseal();

 private:
  storage::OptOutStore* const store_;
  const std::function<std::shared_ptr<const KeySet>()> keys_;
  absl::Mutex mu_;  // serializes writes (Reseal reads and writes back)
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_SESSION_JOURNAL_H_
