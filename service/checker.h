// File: service/checker.h
//
// Checker answers Check requests from the MatchIndex: URLs are canonicalized
// and expanded to lookup expressions, every digest is keyed with its purpose
// HMAC, and PDQ hashes (with any dihedral variants) are searched within the
// threshold. All keyed lookups of a request share one pass over the index.
//
// A result never carries a stored hash or a distance
// (DESIGN.md#what-a-check-reveals).
// Thread-safe; holds references to objects that must outlive it.
#ifndef OPTOUT_SERVICE_CHECKER_H_
#define OPTOUT_SERVICE_CHECKER_H_

#include <functional>

#include "absl/status/status.h"
#include "client/common/url/url.h"
#include "optout/v1/optout.pb.h"
#include "service/key_set.h"
#include "service/match_index.h"
#include "service/registry_options.h"

namespace optout::service {

// Asked between chunks of a check (every few hundred items, between PDQ
// search batches): a non-OK status (Cancelled, DeadlineExceeded) stops the
// check there and is returned, so an abandoned or late request stops costing
// CPU. Empty: never interrupted.
using CheckInterrupt = std::function<absl::Status()>;

class Checker final {
 public:
  Checker(const url::PublicSuffixList& psl, const MatchIndex& index,
          const RegistryOptions& options)
      : psl_(psl), index_(index), options_(options) {}

  // InvalidArgument (naming item index and field) for any malformed item; then
  // nothing is answered. Otherwise one result per item / packed item, in order.
  // Keys are looked up under keys.current and, during a rotation, under
  // keys.previous too; a match id is made with the keyring that found it.
  absl::Status Check(const v1::CheckRequest& request, v1::CheckResponse* response,
                     const KeySet& keys, const CheckInterrupt& interrupt = nullptr) const;

 private:
  const url::PublicSuffixList& psl_;
  const MatchIndex& index_;
  const RegistryOptions options_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECKER_H_
