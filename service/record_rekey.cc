#include "service/record_rekey.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "service/opt_out_codec.h"
#include "service/scope_proofs.h"

namespace optout::service {
namespace {

// Index keys only (no PDQ): what the record's entries list, less the
// scopes not proven (they are not in the index, and must not enter it).
absl::StatusOr<IndexedOptOut> KeysOf(absl::string_view id, const internal::OptOutRecord& record) {
  IndexedOptOut out;
  out.id = std::string(id);
  int scope = 0;
  for (const auto& entry : record.entries()) {
    if (entry.key().size() != 32) return absl::DataLossError("index key of wrong size");
    if (entry.kind() == v1::MATCH_KIND_SCOPE && !ScopeMatches(record, scope++)) continue;
    IndexedOptOut::Key key;
    key.kind = static_cast<v1::MatchKind>(entry.kind());
    std::memcpy(key.key.data(), entry.key().data(), 32);
    out.keys.push_back(key);
  }
  return out;
}

}  // namespace

absl::StatusOr<RekeyedRecord> RekeyRecord(const Keyring& from, const Keyring& to,
                                          absl::string_view id,
                                          const internal::OptOutRecord& record) {
  if (record.key_version() != from.version()) {
    return absl::InvalidArgumentError(absl::StrCat("record is of key version ",
                                                   record.key_version(), ", not ",
                                                   from.version()));
  }
  OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(from, id, record));
  RekeyedRecord out;
  out.request_key = record.request_key().empty() ? std::string()
                                                 : RequestKey(to, sealed.request_id());
  OPTOUT_ASSIGN_OR_RETURN(
      out.record, BuildRecord(to, id, sealed, out.request_key, Fingerprint(to, sealed),
                              record.created_unix_seconds()));
  // BuildRecord hashes the sealed token, which is gone once erased.
  out.record.set_token_sha256(record.token_sha256());
  out.record.set_token_erased(record.token_erased());
  // Scope proofs are about hosts, not keys: they carry over as they are.
  *out.record.mutable_scope_proofs() = record.scope_proofs();
  if (out.record.entries_size() != record.entries_size()) {
    return absl::DataLossError("sealed part does not hold the record's index entries");
  }
  OPTOUT_ASSIGN_OR_RETURN(out.before, KeysOf(id, record));
  OPTOUT_ASSIGN_OR_RETURN(out.after, KeysOf(id, out.record));
  return out;
}

}  // namespace optout::service
