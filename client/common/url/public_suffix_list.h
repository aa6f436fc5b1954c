// File: client/common/url/public_suffix_list.h
//
// The pinned Public Suffix List (URL_RULES.md#public-suffix-list), loaded with
// libpsl from a list file (Debian's `publicsuffix` package by default). ICANN
// and PRIVATE sections, libpsl semantics (a wildcard rule `*.X` also makes `X`
// a public suffix). Immutable after Load(); safe to share between threads.
#ifndef OPTOUT_CLIENT_COMMON_URL_PUBLIC_SUFFIX_LIST_H_
#define OPTOUT_CLIENT_COMMON_URL_PUBLIC_SUFFIX_LIST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct psl_ctx_st;  // libpsl's psl_ctx_t

namespace optout::url {

class PublicSuffixList {
 public:
  static constexpr char kDefaultPath[] = "/usr/share/publicsuffix/public_suffix_list.dat";

  // Reads and parses the list file. NotFound when it cannot be read,
  // FailedPrecondition when it holds no rules.
  static absl::StatusOr<std::unique_ptr<PublicSuffixList>> Load(
      const std::string& path = kDefaultPath);
  // Parses a list held in memory (e.g. the server's, fetched and cached by a
  // client). `origin` stands for path() in messages; `version` is used as
  // given, else the file's "// VERSION:" header, else "unknown".
  // FailedPrecondition when it holds no rules.
  static absl::StatusOr<std::unique_ptr<PublicSuffixList>> FromBytes(std::string content,
                                                                     std::string origin,
                                                                     std::string version = "");

  ~PublicSuffixList();
  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  // The list's version: the value of a "// VERSION: ..." line in the file's
  // header when there is one (newer upstream lists carry it), otherwise the
  // file's modification time in UTC as "YYYYMMDD.HHMM" — which for Debian's
  // package is its upstream snapshot stamp ("20230209.2326" for
  // publicsuffix 20230209.2326-1).
  const std::string& version() const { return version_; }
  // Lower-case hex SHA-256 of the file's bytes: identifies the exact list.
  const std::string& sha256_hex() const { return sha256_hex_; }
  const std::string& path() const { return path_; }
  // The list file's bytes as parsed (what GetPublicSuffixList serves).
  const std::string& content() const { return content_; }
  // Number of rules libpsl loaded.
  size_t rule_count() const { return rule_count_; }

  // Number of labels of the registrable domain (eTLD+1) of `host`, a
  // lowercase canonical domain name (never an IP address: libpsl would answer
  // nonsense); 0 when `host` has none, i.e. is itself a public suffix
  // (`com`, `co.uk`, `github.io`, `localhost`, `compute.amazonaws.com`).
  // Answers are memoized in a small per-thread cache (hosts repeat heavily
  // in crawls); RegistrableDomainLabelsUncached always asks libpsl.
  int RegistrableDomainLabels(absl::string_view host) const;
  int RegistrableDomainLabelsUncached(absl::string_view host) const;

  // The registrable domain as a suffix of `host`, or empty when none.
  absl::string_view RegistrableDomain(absl::string_view host) const;

  bool IsPublicSuffix(absl::string_view host) const { return RegistrableDomainLabels(host) == 0; }

 private:
  PublicSuffixList() = default;

  psl_ctx_st* psl_ = nullptr;
  uint64_t id_ = 0;  // unique per loaded list; keys the per-thread cache
  std::string path_;
  std::string version_;
  std::string sha256_hex_;
  std::string content_;
  size_t rule_count_ = 0;
};

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_PUBLIC_SUFFIX_LIST_H_
