#include "service/verify/challenge.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace optout::verify {

bool IsIpLiteral(absl::string_view host) {
  if (!host.empty() && host.front() == '[') return true;
  const std::string h(host);
  unsigned char buffer[16];
  return inet_pton(AF_INET, h.c_str(), buffer) == 1 || inet_pton(AF_INET6, h.c_str(), buffer) == 1;
}

std::string ChallengeUrl(absl::string_view host, absl::string_view token) {
  const bool bare_ipv6 = host.find(':') != absl::string_view::npos && host.front() != '[';
  return absl::StrCat("https://", bare_ipv6 ? "[" : "", host, bare_ipv6 ? "]" : "",
                      kWellKnownPath, token);
}

std::string ChallengeDnsName(absl::string_view host) { return absl::StrCat(kDnsLabel, host); }

bool MatchesToken(absl::string_view published, absl::string_view token) {
  const absl::string_view value = absl::StripAsciiWhitespace(published);
  return !token.empty() && value.size() == token.size() &&
         CRYPTO_memcmp(value.data(), token.data(), token.size()) == 0;
}

}  // namespace optout::verify
