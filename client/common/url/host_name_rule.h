// File: client/common/url/host_name_rule.h
//
// Canonicalization keeps any ASCII host (URL_RULES.md#host-names, after Safe
// Browsing) and reads input without a scheme as "http://" + input
// (URL_RULES.md#splitting), so that every party derives the same key from the same bytes. Hence
// `not a url at all` canonicalizes to http://not%20a%20url%20at%20all/. That
// is right for computing keys, but a check that answers "clear" for such a
// line makes garbage read as checked. So wherever the input is a URL someone
// wants checked (check --url, check --stdin, check-dataset), this rule runs
// after canonicalization and refuses hosts that no DNS name can be. It is
// deliberately not part of Canonicalize(): the shared test vectors pin that
// function, and registration keys must not change.
#ifndef OPTOUT_CLIENT_COMMON_URL_HOST_NAME_RULE_H_
#define OPTOUT_CLIENT_COMMON_URL_HOST_NAME_RULE_H_

#include "absl/status/status.h"
#include "client/common/url/canonicalize.h"

namespace optout::url {

// OK for an IP host or a host made only of ASCII letters, digits, '-', '_'
// and '.' (IDN hosts are in that form after IDNA). Otherwise NOT_A_HOST_NAME
// (url_error.h), e.g. for a space, '%', '<' or a control byte in the host.
absl::Status CheckHostName(const CanonicalUrl& url);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_HOST_NAME_RULE_H_
