// File: client/psl_sync.h
//
// Public Suffix List lock-step (client/common/url/URL_RULES.md#public-suffix-list).
// A client that sends URL digests computes lookup expressions itself, and the
// host suffixes among them depend on the list: with another list than the
// server's, scope opt-outs would silently not match. So the client uses the
// server's list, identified by its SHA-256 (GetInfo.psl_sha256): its own
// when the bytes are the same, else a copy cached under
// $XDG_CACHE_HOME/optout/ (default ~/.cache/optout/), else the server's
// fetched with Check.GetPublicSuffixList and cached for next time.
#ifndef OPTOUT_CLIENT_PSL_SYNC_H_
#define OPTOUT_CLIENT_PSL_SYNC_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/common/url/public_suffix_list.h"
#include "client/registry_client.h"
#include "optout/v1/optout.pb.h"

namespace optout::client {

struct PslSyncOptions {
  // This machine's list. Default: url::PublicSuffixList::kDefaultPath.
  std::string local_path;
  // Where server lists are cached. Default: DefaultPslCacheDir().
  std::string cache_dir;
};

// $XDG_CACHE_HOME/optout when set, else $HOME/.cache/optout; NotFound when
// neither variable is set.
absl::StatusOr<std::string> DefaultPslCacheDir();

struct SyncedPsl {
  std::unique_ptr<url::PublicSuffixList> list;
  // Empty when this machine's list is the server's; else one line for the
  // user saying that the server's list is used, whence, and why.
  std::string note;
};

using PslFetcher = std::function<absl::StatusOr<v1::GetPublicSuffixListResponse>()>;

// The list to compute URL digests with for the server that answered `info`.
// `fetch` is called only when neither this machine's list nor a cached copy
// has the server's SHA-256. A fetched list whose bytes do not hash to it is
// refused (DataLoss) and not cached; a cache that cannot be written costs
// only the caching (the note says so). A server too old to publish its
// list's hash (no psl_sha256) gets the local list, or FailedPrecondition
// when its version differs.
absl::StatusOr<SyncedPsl> PublicSuffixListForServer(const v1::GetInfoResponse& info,
                                                    const PslSyncOptions& options,
                                                    const PslFetcher& fetch);
// The same, fetching from `client`.
absl::StatusOr<SyncedPsl> PublicSuffixListForServer(RegistryClient& client,
                                                    const v1::GetInfoResponse& info,
                                                    const PslSyncOptions& options);

}  // namespace optout::client

#endif  // OPTOUT_CLIENT_PSL_SYNC_H_
