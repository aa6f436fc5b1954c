#include "client/psl_sync.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"

namespace optout::client {
namespace {

namespace fs = std::filesystem;

std::string Sha256Hex(absl::string_view bytes) { return digest::ToHex(digest::Sha256(bytes)); }

// The file's bytes, or nullopt when it cannot be read.
std::optional<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

// Writes `bytes` to `path` through a temporary file and a rename, so that a
// concurrent reader sees the whole list or none.
absl::Status WriteAtomically(const std::string& dir, const std::string& path,
                             absl::string_view bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DefaultPslCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/optout");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/.cache/optout");
  }
  return absl::NotFoundError("neither $XDG_CACHE_HOME nor $HOME is set");
}

absl::StatusOr<SyncedPsl> PublicSuffixListForServer(const v1::GetInfoResponse& info,
                                                    const PslSyncOptions& options,
                                                    const PslFetcher& fetch) {
  const std::string local_path =
      options.local_path.empty() ? url::PublicSuffixList::kDefaultPath : options.local_path;
  auto local = url::PublicSuffixList::Load(local_path);
  const std::string& want = info.psl_sha256();
  if (want.empty()) {
    // A server from before GetPublicSuffixList: versions are all there is.
    if (!local.ok()) return local.status();
    if (!info.psl_version().empty() && info.psl_version() != (*local)->version()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the server uses Public Suffix List ", info.psl_version(), " but this client has ",
          (*local)->version(), " (", local_path, ") and the server cannot send its own; scope "
          "matches would differ: pass --psl-file with the server's list"));
    }
    return SyncedPsl{*std::move(local), ""};
  }
  if (local.ok() && (*local)->sha256_hex() == want) return SyncedPsl{*std::move(local), ""};

  const std::string why =
      local.ok() ? absl::StrCat("this machine's ", local_path, " is version ", (*local)->version())
                 : absl::StrCat("this machine has none at ", local_path);
  auto cache_dir = options.cache_dir.empty() ? DefaultPslCacheDir()
                                             : absl::StatusOr<std::string>(options.cache_dir);
  std::string cache_path;
  if (cache_dir.ok()) {
    cache_path = absl::StrCat(*cache_dir, "/public_suffix_list-", want, ".dat");
    if (std::optional<std::string> cached = ReadWhole(cache_path);
        cached.has_value() && Sha256Hex(*cached) == want) {
      OPTOUT_ASSIGN_OR_RETURN(auto list, url::PublicSuffixList::FromBytes(
                                             *std::move(cached), cache_path, info.psl_version()));
      return SyncedPsl{std::move(list),
                       absl::StrCat("using the server's Public Suffix List ", info.psl_version(),
                                    " (cached in ", cache_path, "); ", why)};
    }
  }

  OPTOUT_ASSIGN_OR_RETURN(v1::GetPublicSuffixListResponse fetched, fetch());
  if (Sha256Hex(fetched.list()) != want) {
    return absl::DataLossError(
        "the Public Suffix List the server sent does not have the SHA-256 its GetInfo "
        "announced; not used");
  }
  const std::string version =
      fetched.version().empty() ? info.psl_version() : fetched.version();
  std::string where;
  if (!cache_dir.ok()) {
    where = absl::StrCat("not cached: ", cache_dir.status().message());
  } else if (absl::Status written = WriteAtomically(*cache_dir, cache_path, fetched.list());
             !written.ok()) {
    where = absl::StrCat("not cached: ", written.message());
  } else {
    where = absl::StrCat("cached in ", cache_path);
  }
  OPTOUT_ASSIGN_OR_RETURN(auto list,
                          url::PublicSuffixList::FromBytes(std::move(*fetched.mutable_list()),
                                                           "the server's list", version));
  return SyncedPsl{std::move(list), absl::StrCat("using the server's Public Suffix List ", version,
                                                 " (fetched, ", where, "); ", why)};
}

absl::StatusOr<SyncedPsl> PublicSuffixListForServer(RegistryClient& client,
                                                    const v1::GetInfoResponse& info,
                                                    const PslSyncOptions& options) {
  return PublicSuffixListForServer(info, options,
                                   [&client] { return client.GetPublicSuffixList(); });
}

}  // namespace optout::client
