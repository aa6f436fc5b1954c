#include "client/common/url/canonicalize.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/common/url/escape.h"
#include "client/common/url/host.h"
#include "client/common/url/path.h"
#include "client/common/url/url_error.h"

namespace optout::url {
namespace {

// Per-thread working buffers, so that canonicalizing in a loop does not
// allocate once the buffers have grown.
struct Scratch {
  std::string decoded;
  std::string host;
  std::string idna;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

bool IsAsciiAlpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool IsSchemeChar(char c) {
  return IsAsciiAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}
bool IsSlash(char c) { return c == '/' || c == '\\'; }

constexpr uint8_t kSimpleInPath = 1;
constexpr uint8_t kSimpleInQuery = 2;

// Path bytes every step leaves as they are: printable ASCII but for '%'
// (decoding), '#' (fragment, escaping), '\\' (becomes '/') and '?' (ends the
// path). The query also keeps '\\' and '?'.
constexpr std::array<uint8_t, 256> MakeSimpleTable() {
  std::array<uint8_t, 256> table{};
  for (int c = 0x21; c < 0x7F; ++c) {
    const bool special = c == '%' || c == '#';
    table[c] = special ? 0 : (c == '\\' || c == '?') ? kSimpleInQuery : kSimpleInQuery | kSimpleInPath;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kSimple = MakeSimpleTable();

// Whether raw[pos] ('%') starts an escape that decoding and escaping give
// back byte for byte: two upper-case hex digits naming a byte that is
// escaped again (<= 0x20, >= 0x7F or '#'; not '%', whose decoding could
// start another escape). Such a byte is no delimiter and no '.', so it
// changes no split and no segment either.
bool StableEscape(absl::string_view raw, size_t pos) {
  if (pos + 2 >= raw.size()) return false;
  auto upper_hex = [](char c) -> int {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  const int hi = upper_hex(raw[pos + 1]), lo = upper_hex(raw[pos + 2]);
  if (hi < 0 || lo < 0) return false;
  const int v = hi * 16 + lo;
  return v <= 0x20 || v >= 0x7F || v == '#';
}

// A path segment raw[begin, end) that canonicalization keeps: not empty,
// not "." or "..".
bool SimpleSegment(absl::string_view raw, size_t begin, size_t end) {
  const size_t n = end - begin;
  if (n == 0) return false;
  if (raw[begin] != '.') return true;
  return !(n == 1 || (n == 2 && raw[begin + 1] == '.'));
}

bool EqualsIgnoreAsciiCase(absl::string_view a, absl::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    if (c != lower[i]) return false;
  }
  return true;
}

// Empty, or ASCII digits with a value <= 65535 (leading zeros allowed).
bool IsValidPort(absl::string_view port) {
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return false;
  }
  return true;
}

// A URL already in canonical form, as nearly all dataset URLs are: each
// step of URL_RULES.md leaves it as it is, so `*out` is filled by splitting
// it, at a fraction of the cost of the steps (which were ~15 % of a
// dataset check's client CPU). That is: "http://" or "https://"; a host of
// ASCII letters, digits, '-' and '_' in labels joined by single dots, the
// last label starting with a letter (so not an IPv4 address), no userinfo,
// no port; a path without empty, "." or ".." segments; path and query of
// printable ASCII without '#', '%' only in escapes that come back as they
// are (StableEscape: "%20", "%C3%A9"), and no '\\' in the path; shorter
// than kMaxUrlLength. Upper-case host letters are lowered (step 3 of
// #host-names does only that to such a host). False, with `*out` partly
// written, for anything else: the caller then applies the steps.
bool CanonicalizeIfSimple(absl::string_view raw, CanonicalUrl* out) {
  // (Below the limit: an empty path gains a "/".)
  if (raw.size() >= kMaxUrlLength) return false;
  size_t pos;
  if (raw.substr(0, 8) == "https://") {
    out->scheme.assign("https");
    pos = 8;
  } else if (raw.substr(0, 7) == "http://") {
    out->scheme.assign("http");
    pos = 7;
  } else {
    return false;
  }
  // Host: labels of [A-Za-z0-9_-], single dots between them.
  const size_t host_begin = pos;
  size_t label_begin = pos;
  for (; pos < raw.size(); ++pos) {
    const char c = raw[pos];
    if (c == '.') {
      if (pos == label_begin) return false;  // leading or doubled dot
      label_begin = pos + 1;
      continue;
    }
    if (!IsAsciiAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_') break;
  }
  if (pos == label_begin || !IsAsciiAlpha(raw[label_begin])) return false;
  if (pos < raw.size() && raw[pos] != '/' && raw[pos] != '?') return false;  // ':', '@', ...
  out->host.assign(raw.data() + host_begin, pos - host_begin);
  for (char& c : out->host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  out->host_is_ip = false;
  // Path: each segment non-empty and not "." or "..".
  const size_t path_begin = pos;
  size_t segment_begin = pos + 1;
  for (; pos < raw.size(); ++pos) {
    const auto c = static_cast<unsigned char>(raw[pos]);
    if (c == '/') {
      if (pos != path_begin && !SimpleSegment(raw, segment_begin, pos)) return false;
      segment_begin = pos + 1;
      continue;
    }
    if (c == '%') {
      if (!StableEscape(raw, pos)) return false;
      pos += 2;
      continue;
    }
    if ((kSimple[c] & kSimpleInPath) == 0) break;
  }
  const bool ends_path = pos == raw.size() || raw[pos] == '?';
  if (!ends_path) return false;
  // The last segment may be empty (a trailing '/'), not "." or "..".
  if (pos > path_begin && segment_begin < pos && !SimpleSegment(raw, segment_begin, pos)) {
    return false;
  }
  if (pos == path_begin) {
    out->path.assign("/");
  } else {
    out->path.assign(raw.data() + path_begin, pos - path_begin);
  }
  out->has_query = pos < raw.size();
  if (!out->has_query) {
    out->query.clear();
    return true;
  }
  const size_t query_begin = pos + 1;
  for (pos = query_begin; pos < raw.size(); ++pos) {
    if (raw[pos] == '%') {
      if (!StableEscape(raw, pos)) return false;
      pos += 2;
      continue;
    }
    if ((kSimple[static_cast<unsigned char>(raw[pos])] & kSimpleInQuery) == 0) return false;
  }
  out->query.assign(raw.data() + query_begin, raw.size() - query_begin);
  return true;
}

}  // namespace

void CanonicalUrl::AppendTo(std::string* out) const {
  out->append(scheme);
  out->append("://");
  out->append(host);
  out->append(path);
  if (has_query) {
    out->push_back('?');
    out->append(query);
  }
}

std::string CanonicalUrl::ToString() const {
  std::string out;
  out.reserve(scheme.size() + 4 + host.size() + path.size() + query.size());
  AppendTo(&out);
  return out;
}

void CanonicalUrl::AppendExactExpressionTo(std::string* out) const {
  out->append(host);
  out->append(path);
  if (!query.empty()) {
    out->push_back('?');
    out->append(query);
  }
}

std::string CanonicalUrl::ExactExpression() const {
  std::string out;
  out.reserve(host.size() + path.size() + 1 + query.size());
  AppendExactExpressionTo(&out);
  return out;
}

absl::Status CanonicalizeInto(absl::string_view raw, CanonicalUrl* out) {
  if (CanonicalizeIfSimple(raw, out)) return absl::OkStatus();
  // URL_RULES.md#pre-checks.
  if (raw.size() > kMaxUrlLength) {
    return UrlError(UrlErrorKind::kTooLong,
                    absl::StrCat("input is ", raw.size(), " bytes, the limit is ", kMaxUrlLength));
  }
  if (std::memchr(raw.data(), '\0', raw.size()) != nullptr) {
    return UrlError(UrlErrorKind::kNulByte, "input contains a NUL byte");
  }
  // URL_RULES.md#clean-up: trim 0x01-0x20, cut the fragment (TAB/CR/LF are
  // dropped while decoding).
  size_t begin = 0, end = raw.size();
  while (begin < end && static_cast<unsigned char>(raw[begin]) <= 0x20) ++begin;
  while (end > begin && static_cast<unsigned char>(raw[end - 1]) <= 0x20) --end;
  absl::string_view s = raw.substr(begin, end - begin);
  if (const void* hash = std::memchr(s.data(), '#', s.size()); hash != nullptr) {
    s = s.substr(0, static_cast<size_t>(static_cast<const char*>(hash) - s.data()));
  }
  // URL_RULES.md#decoding: to a fixpoint.
  Scratch& scratch = ThreadScratch();
  scratch.decoded.clear();
  AppendPercentDecodedFixpoint(s, /*drop_tab_cr_lf=*/true, &scratch.decoded);
  const absl::string_view d = scratch.decoded;
  if (d.empty()) return UrlError(UrlErrorKind::kEmptyInput, "nothing left after trimming");

  // URL_RULES.md#splitting, step 8: scheme.
  size_t pos = 0;
  out->scheme.assign("http");
  if (IsAsciiAlpha(d[0])) {
    size_t j = 1;
    while (j < d.size() && IsSchemeChar(d[j])) ++j;
    if (j < d.size() && d[j] == ':') {
      const absl::string_view scheme = d.substr(0, j);
      if (EqualsIgnoreAsciiCase(scheme, "https")) {
        out->scheme.assign("https");
      } else if (!EqualsIgnoreAsciiCase(scheme, "http")) {
        return UrlError(UrlErrorKind::kUnsupportedScheme, "scheme is not http or https");
      }
      pos = j + 1;
      if (d.size() - pos < 2 || !IsSlash(d[pos]) || !IsSlash(d[pos + 1])) {
        return UrlError(UrlErrorKind::kMissingAuthority, "scheme is not followed by \"//\"");
      }
      pos += 2;
    }
  }
  // Step 9: authority.
  size_t auth_end = pos;
  while (auth_end < d.size() && d[auth_end] != '/' && d[auth_end] != '\\' && d[auth_end] != '?') {
    ++auth_end;
  }
  absl::string_view authority = d.substr(pos, auth_end - pos);
  const absl::string_view rest = d.substr(auth_end);
  // Step 10: userinfo.
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  // Step 11: host and port.
  absl::string_view host;
  absl::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return UrlError(UrlErrorKind::kInvalidIpv6, "'[' without a closing ']'");
    }
    host = authority.substr(0, close + 1);
    const absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return UrlError(UrlErrorKind::kInvalidHost, "characters after the IPv6 address");
      }
      port = after.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = authority.find(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  } else {
    host = authority;
  }
  if (has_port && !IsValidPort(port)) {
    return UrlError(UrlErrorKind::kInvalidPort, "port is not a number from 0 to 65535");
  }
  // Step 12: path and query.
  const size_t qmark = rest.find('?');
  const absl::string_view path = rest.substr(0, qmark);
  out->has_query = qmark != absl::string_view::npos;
  const absl::string_view query =
      out->has_query ? rest.substr(qmark + 1) : absl::string_view();

  // Step 13-14: components, escaping, assembly.
  if (absl::Status status =
          CanonicalizeHost(host, &scratch.host, &out->host_is_ip, &scratch.idna);
      !status.ok()) {
    return status;
  }
  out->host.clear();
  AppendEscaped(scratch.host, &out->host);
  out->path.clear();
  AppendCanonicalPath(path, &out->path);
  out->query.clear();
  AppendEscaped(query, &out->query);

  const size_t length = out->scheme.size() + 3 + out->host.size() + out->path.size() +
                        (out->has_query ? 1 + out->query.size() : 0);
  if (length > kMaxUrlLength) {
    return UrlError(UrlErrorKind::kTooLong,
                    absl::StrCat("canonical URL is ", length, " bytes, the limit is ",
                                 kMaxUrlLength));
  }
  return absl::OkStatus();
}

absl::StatusOr<CanonicalUrl> Canonicalize(absl::string_view raw) {
  CanonicalUrl url;
  if (absl::Status status = CanonicalizeInto(raw, &url); !status.ok()) return status;
  return url;
}

}  // namespace optout::url
