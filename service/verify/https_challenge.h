// File: service/verify/https_challenge.h
//
// The HTTPS proof of a host: GET https://HOST/.well-known/optout-challenge/
// TOKEN must answer 200 with the token as its whole body.
//
// Bounded: one deadline (VerifyOptions.timeout) covers every connection and
// redirect; a body past max_body_bytes ends the transfer; redirects are
// followed only within the same host (max_redirects of them); only https is
// spoken, the certificate must be valid for the host, and (outside tests) no
// loopback, private or link-local address is contacted.
//
// Errors: FailedPrecondition with a reason that names neither the host nor
// the token (it is stored with the scope's state): "HTTPS: answered 404",
// "HTTPS: redirects to another host", "HTTPS: body larger than 1024 bytes",
// "HTTPS: timed out after 5s", "HTTPS: wrong token content", ...
//
// Thread-safety: may be called concurrently.
#ifndef OPTOUT_SERVICE_VERIFY_HTTPS_CHALLENGE_H_
#define OPTOUT_SERVICE_VERIFY_HTTPS_CHALLENGE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/verify/verify_options.h"

namespace optout::verify {

absl::Status CheckHttpsChallenge(absl::string_view host, absl::string_view token,
                                 const VerifyOptions& options);

}  // namespace optout::verify

#endif  // OPTOUT_SERVICE_VERIFY_HTTPS_CHALLENGE_H_
