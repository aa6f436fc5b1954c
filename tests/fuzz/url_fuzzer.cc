// File: tests/fuzz/url_fuzzer.cc
//
// libFuzzer target for optout_url. For any input bytes: no crash or sanitizer
// report; an error always carries a UrlErrorKind; a canonical URL is
// printable ASCII of at most 8192 bytes and canonicalizes to itself with the
// same expression set (idempotence); expressions put the exact expression
// first, have no duplicates and number at most 30; a valid scope key is one of
// the scope URL's own expressions; and the single-pass percent-decoder agrees
// with the round-based definition. Rules: client/common/url/URL_RULES.md
// (#overview, #lookup-expressions, #exact-urls-and-scopes, #decoding).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/url/escape.h"
#include "client/common/url/url.h"

namespace {

using optout::url::CanonicalUrl;

[[noreturn]] void Fail(const char* what, absl::string_view detail) {
  std::fprintf(stderr, "url_fuzzer: %s: [%.*s]\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

const optout::url::PublicSuffixList& Psl() {
  static const optout::url::PublicSuffixList* const psl = [] {
    auto loaded = optout::url::PublicSuffixList::Load();
    if (!loaded.ok()) Fail("cannot load the PSL", loaded.status().message());
    return loaded->release();
  }();
  return *psl;
}

std::string DecodeByRounds(std::string s) {
  while (true) {
    std::string next;
    for (size_t i = 0; i < s.size();) {
      const auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
      if (s[i] == '%' && i + 2 < s.size() &&
          optout::url::IsHexDigit(static_cast<unsigned char>(s[i + 1])) &&
          optout::url::IsHexDigit(static_cast<unsigned char>(s[i + 2]))) {
        next.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
        i += 3;
      } else {
        next.push_back(s[i++]);
      }
    }
    if (next == s) return s;
    s.swap(next);
  }
}

bool PrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

void CheckExpressions(const CanonicalUrl& url, const std::vector<std::string>& exprs) {
  if (exprs.empty() || exprs.front() != url.ExactExpression()) {
    Fail("exact expression is not first", url.ToString());
  }
  if (exprs.size() > static_cast<size_t>(optout::url::kMaxExpressions)) {
    Fail("more than 30 expressions", url.ToString());
  }
  if (std::set<std::string>(exprs.begin(), exprs.end()).size() != exprs.size()) {
    Fail("duplicate expressions", url.ToString());
  }
  for (const std::string& e : exprs) {
    if (!PrintableAscii(e)) Fail("expression is not printable ASCII", e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view raw(reinterpret_cast<const char*>(data), size);
  const optout::url::PublicSuffixList& psl = Psl();

  if (size <= 1024) {
    std::string fast;
    optout::url::AppendPercentDecodedFixpoint(raw, /*drop_tab_cr_lf=*/false, &fast);
    if (fast != DecodeByRounds(std::string(raw))) Fail("decoder differs from rounds", raw);
  }

  absl::StatusOr<CanonicalUrl> first = optout::url::Canonicalize(raw);
  if (!first.ok()) {
    if (!optout::url::GetUrlErrorKind(first.status())) Fail("error without a kind", raw);
    return 0;
  }
  const std::string canonical = first->ToString();
  if (canonical.size() > optout::url::kMaxUrlLength) Fail("canonical URL too long", canonical);
  if (!PrintableAscii(canonical)) Fail("canonical URL is not printable ASCII", canonical);

  absl::StatusOr<CanonicalUrl> second = optout::url::Canonicalize(canonical);
  if (!second.ok()) Fail("canonical URL is rejected", canonical);
  if (*second != *first || second->ToString() != canonical) {
    Fail("not idempotent", absl::StrCat(canonical, "] -> [", second->ToString()));
  }

  const std::vector<std::string> exprs = optout::url::LookupExpressions(*first, psl);
  CheckExpressions(*first, exprs);
  const std::vector<std::string> exprs2 = optout::url::LookupExpressions(*second, psl);
  if (std::set<std::string>(exprs.begin(), exprs.end()) !=
      std::set<std::string>(exprs2.begin(), exprs2.end())) {
    Fail("expression set changed on re-canonicalization", canonical);
  }
  if (!first->host_is_ip && psl.RegistrableDomainLabels(first->host) !=
                                psl.RegistrableDomainLabelsUncached(first->host)) {
    Fail("PSL cache disagrees", first->host);
  }

  absl::StatusOr<std::string> scope = optout::url::ScopeExpression(*first, psl);
  if (scope.ok()) {
    bool found = false;
    for (const std::string& e : exprs) found = found || e == *scope;
    if (!found) Fail("scope key is not an expression of the scope URL", canonical);
  } else if (!optout::url::GetUrlErrorKind(scope.status())) {
    Fail("scope error without a kind", canonical);
  }
  return 0;
}
