// File: service/verify/challenge.h
//
// Where the owner of a host publishes a scope challenge token, and how a
// published value is compared with it.
#ifndef OPTOUT_SERVICE_VERIFY_CHALLENGE_H_
#define OPTOUT_SERVICE_VERIFY_CHALLENGE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace optout::verify {

// Path prefix of the HTTPS challenge file.
inline constexpr absl::string_view kWellKnownPath = "/.well-known/optout-challenge/";
// Label prepended to the host for the DNS TXT challenge.
inline constexpr absl::string_view kDnsLabel = "_optout-challenge.";

// https://HOST/.well-known/optout-challenge/TOKEN (IPv6 hosts in brackets).
std::string ChallengeUrl(absl::string_view host, absl::string_view token);
// _optout-challenge.HOST
std::string ChallengeDnsName(absl::string_view host);
// True when `published` (surrounding whitespace ignored) is exactly `token`,
// compared in constant time.
bool MatchesToken(absl::string_view published, absl::string_view token);
// True for an IPv4 or IPv6 literal (no DNS challenge for those).
bool IsIpLiteral(absl::string_view host);

}  // namespace optout::verify

#endif  // OPTOUT_SERVICE_VERIFY_CHALLENGE_H_
