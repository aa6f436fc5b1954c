// File: service/verify/dns_txt.h
//
// A minimal DNS client for one question: the TXT records of a name, asked
// over UDP of one server (the system's first nameserver, or the test's
// --verify_dns). Hand-written because res_query cannot be pointed at a
// server on another port, and one question needs no resolver library.
//
// Bounded: one deadline for all attempts, answers read into a fixed 4 KiB
// buffer, every length in an answer checked before it is used; answers with
// another id or from another address are ignored.
//
// Thread-safety: the functions keep no state.
#ifndef OPTOUT_SERVICE_VERIFY_DNS_TXT_H_
#define OPTOUT_SERVICE_VERIFY_DNS_TXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace optout::verify {

// A TXT query for `name` with EDNS(0) (1232-byte answers). InvalidArgument
// for a name that is not a sequence of 1..63-byte labels, 253 bytes at most.
absl::StatusOr<std::string> BuildTxtQuery(absl::string_view name, uint16_t id);

// The TXT values (each record's strings joined) of an answer to the query
// with `id`. NotFound for NXDOMAIN or no TXT record, FailedPrecondition for
// a server error or a truncated answer, DataLoss for a malformed message.
absl::StatusOr<std::vector<std::string>> ParseTxtAnswer(absl::string_view answer, uint16_t id);

// "IP:PORT" or "[IPv6]:PORT" of the first nameserver in `resolv_conf`
// (contents of /etc/resolv.conf); NotFound when none.
absl::StatusOr<std::string> NameserverFromResolvConf(absl::string_view resolv_conf);

// Asks `server` ("IP:PORT") for the TXT values of `name`, retrying once per
// second until `timeout`. DeadlineExceeded when no answer came; otherwise as
// ParseTxtAnswer.
absl::StatusOr<std::vector<std::string>> QueryTxt(absl::string_view name, absl::string_view server,
                                                  absl::Duration timeout);

}  // namespace optout::verify

#endif  // OPTOUT_SERVICE_VERIFY_DNS_TXT_H_
