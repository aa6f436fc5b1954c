#include "client/common/url/lookup_expressions.h"

#include <algorithm>
#include <cstring>

namespace optout::url {

std::vector<std::string> ExpressionList::ToVector() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); ++i) out.emplace_back((*this)[i]);
  return out;
}

absl::InlinedVector<size_t, kMaxHostExpressions> HostSuffixStarts(const CanonicalUrl& url,
                                                                  const PublicSuffixList& psl) {
  absl::InlinedVector<size_t, kMaxHostExpressions> starts;
  starts.push_back(0);
  if (url.host_is_ip) return starts;
  const absl::string_view host = url.host;
  const int k = psl.RegistrableDomainLabels(host);
  if (k == 0) return starts;
  // Label start offsets from the right: the suffix with j labels starts after
  // the j-th dot counted from the right.
  int n = 1;
  for (char c : host) n += c == '.';
  const int max_j = std::min(k + 3, n - 1);
  size_t pos = host.size();
  int labels = 0;
  // Walk dots right to left; after passing j labels, `pos` + 1 is the start
  // of the j-label suffix.
  for (size_t i = host.size(); i-- > 0 && labels < max_j;) {
    if (host[i] != '.') continue;
    ++labels;
    pos = i + 1;
    if (labels >= k) starts.push_back(pos);
  }
  // Most specific first: the host, then its suffixes from longest to shortest.
  std::reverse(starts.begin() + 1, starts.end());
  return starts;
}

void ComputeLookupExpressions(const CanonicalUrl& url, const PublicSuffixList& psl,
                              ExpressionList* out) {
  out->Clear();
  const absl::InlinedVector<size_t, kMaxHostExpressions> host_starts = HostSuffixStarts(url, psl);

  // Paths (URL_RULES.md#path-prefixes). The first is the exact path (with a
  // non-empty query).
  const absl::string_view path = url.path;
  const bool with_query = url.has_query && !url.query.empty();
  absl::InlinedVector<absl::string_view, kMaxPathExpressions> paths;
  paths.push_back(path);
  if (path != "/") paths.push_back("/");
  // Directory prefixes: "/" + the first i segments + "/" for i < min(c, 4).
  // A canonical path has no empty segments, so they are prefixes of `path`.
  size_t segments = 0;
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i - 1] == '/' && path[i] != '/') ++segments;
  }
  const size_t deepest = std::min<size_t>(segments, 4);
  size_t slash = 0;
  for (size_t i = 1; i < deepest; ++i) {
    slash = path.find('/', slash + 1);
    paths.push_back(path.substr(0, slash + 1));
  }

  const absl::string_view host = url.host;
  size_t total = 0;
  for (size_t start : host_starts) {
    const size_t host_len = host.size() - start;
    if (with_query) total += host_len + path.size() + 1 + url.query.size();
    for (absl::string_view p : paths) total += host_len + p.size();
  }
  // Sized once and written through a pointer: appending piece by piece
  // (two or four string appends per expression) was most of this
  // function's time on the dataset check path.
  out->buffer_.resize(total);
  char* const begin = out->buffer_.data();
  char* w = begin;
  auto put = [&w](absl::string_view piece) {
    std::memcpy(w, piece.data(), piece.size());
    w += piece.size();
  };
  for (size_t start : host_starts) {
    const absl::string_view suffix = host.substr(start);
    if (with_query) {
      put(suffix);
      put(path);
      *w++ = '?';
      put(url.query);
      out->ends_.push_back(static_cast<uint32_t>(w - begin));
    }
    for (absl::string_view p : paths) {
      put(suffix);
      put(p);
      out->ends_.push_back(static_cast<uint32_t>(w - begin));
    }
  }
}

std::vector<std::string> LookupExpressions(const CanonicalUrl& url, const PublicSuffixList& psl) {
  ExpressionList list;
  ComputeLookupExpressions(url, psl, &list);
  return list.ToVector();
}

}  // namespace optout::url
