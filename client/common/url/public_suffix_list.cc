#include "client/common/url/public_suffix_list.h"

#include <libpsl.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/common/digest/digest.h"

namespace optout::url {
namespace {

// "// VERSION: x" among the leading comment lines, or empty.
std::string HeaderVersion(absl::string_view content) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (!absl::StartsWith(line, "//")) break;  // header comments end at the first rule
    line.remove_prefix(2);
    line = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "VERSION:")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

std::string MtimeVersion(const struct stat& st) {
  std::tm tm{};
  const time_t t = st.st_mtime;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d.%H%M", &tm);
  return buf;
}

// Per-thread memo of RegistrableDomainLabels, keyed by the list's id and
// the host. A thread-local table needs no locks and is always coherent
// because a loaded list never changes. Each host may sit in either of two
// slots (the less recently used one is replaced): with one slot per host,
// two hosts landing on the same slot evicted each other on every URL when
// rows cycle through hosts, and each miss is a libpsl lookup (~1 us).
struct LabelCacheEntry {
  uint64_t list_id = 0;  // 0 = empty
  uint64_t used = 0;     // the thread's lookup count when last hit
  std::string host;
  int labels = 0;
};
constexpr size_t kLabelCacheSize = 2048;  // power of two
constexpr size_t kMaxCachedHostBytes = 128;

struct LabelCache {
  std::array<LabelCacheEntry, kLabelCacheSize> slots;
  uint64_t lookups = 0;
};

LabelCache& ThreadLabelCache() {
  thread_local LabelCache cache;
  return cache;
}

std::atomic<uint64_t> next_list_id{1};

// A NUL-terminated copy of `s` in a per-thread buffer (libpsl wants C strings).
const char* CString(absl::string_view s) {
  thread_local std::string buffer;
  buffer.assign(s.data(), s.size());
  return buffer.c_str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PublicSuffixList>> PublicSuffixList::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read public suffix list ", path));
  std::stringstream content_stream;
  content_stream << in.rdbuf();
  std::string content = content_stream.str();
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot stat public suffix list ", path));
  }
  std::string version = HeaderVersion(content);
  if (version.empty()) version = MtimeVersion(st);
  return FromBytes(std::move(content), path, std::move(version));
}

absl::StatusOr<std::unique_ptr<PublicSuffixList>> PublicSuffixList::FromBytes(
    std::string content, std::string origin, std::string version) {
  // Parse exactly the bytes that are hashed.
  psl_ctx_t* psl = nullptr;
  if (!content.empty()) {
    FILE* fp = fmemopen(const_cast<char*>(content.data()), content.size(), "r");
    if (fp == nullptr) return absl::InternalError("fmemopen failed");
    psl = psl_load_fp(fp);
    std::fclose(fp);
  }
  if (psl == nullptr || psl_suffix_count(psl) <= 0) {
    if (psl != nullptr) psl_free(psl);
    return absl::FailedPreconditionError(
        absl::StrCat("public suffix list ", origin, " holds no rules"));
  }
  std::unique_ptr<PublicSuffixList> list(new PublicSuffixList());
  list->psl_ = psl;
  list->id_ = next_list_id.fetch_add(1, std::memory_order_relaxed);
  list->path_ = std::move(origin);
  list->rule_count_ = static_cast<size_t>(psl_suffix_count(psl));
  list->version_ = std::move(version);
  if (list->version_.empty()) list->version_ = HeaderVersion(content);
  if (list->version_.empty()) list->version_ = "unknown";
  list->sha256_hex_ = digest::ToHex(digest::Sha256(content));
  list->content_ = std::move(content);
  return list;
}

PublicSuffixList::~PublicSuffixList() {
  if (psl_ != nullptr) psl_free(psl_);
}

absl::string_view PublicSuffixList::RegistrableDomain(absl::string_view host) const {
  if (host.empty()) return {};
  const char* c_host = CString(host);
  const char* regdom = psl_registrable_domain(psl_, c_host);
  if (regdom == nullptr) return {};
  return host.substr(static_cast<size_t>(regdom - c_host));
}

int PublicSuffixList::RegistrableDomainLabels(absl::string_view host) const {
  if (host.size() > kMaxCachedHostBytes) return RegistrableDomainLabelsUncached(host);
  LabelCache& cache = ThreadLabelCache();
  const uint64_t h = absl::HashOf(id_, host);
  LabelCacheEntry& a = cache.slots[h & (kLabelCacheSize - 1)];
  LabelCacheEntry& b = cache.slots[(h >> 32) & (kLabelCacheSize - 1)];
  const uint64_t now = ++cache.lookups;
  for (LabelCacheEntry* e : {&a, &b}) {
    if (e->list_id == id_ && e->host == host) {
      e->used = now;
      return e->labels;
    }
  }
  LabelCacheEntry& entry = a.used <= b.used ? a : b;
  entry.labels = RegistrableDomainLabelsUncached(host);
  entry.list_id = id_;
  entry.used = now;
  entry.host.assign(host.data(), host.size());
  return entry.labels;
}

int PublicSuffixList::RegistrableDomainLabelsUncached(absl::string_view host) const {
  const absl::string_view regdom = RegistrableDomain(host);
  if (regdom.empty()) return 0;
  int labels = 1;
  for (char c : regdom) labels += c == '.';
  return labels;
}

}  // namespace optout::url
