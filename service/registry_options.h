// File: service/registry_options.h
//
// Matching and validation policy of the registry core.
#ifndef OPTOUT_SERVICE_REGISTRY_OPTIONS_H_
#define OPTOUT_SERVICE_REGISTRY_OPTIONS_H_

#include <cstdint>

#include "client/common/protocol/pdq_quality.h"

namespace optout::verify {
class ScopeVerifier;
}  // namespace optout::verify

namespace optout::service {

struct RegistryOptions {
  // A PDQ hash matches a registered one within this Hamming distance (of 256
  // bits). Range 0..63. Default: 31 (the reference's confident-match bound).
  int pdq_threshold = 31;
  // Items per Check request (typed plus packed), and per Register request.
  // Default: 10,000.
  int max_batch_items = 10000;
  // PDQ hashes with a client-reported quality below this are refused: they
  // come from flat or tiny images and match unrelated ones. Default: 50
  // (protocol::kDefaultMinPdqQuality, which clients assume too).
  int min_pdq_quality = protocol::kDefaultMinPdqQuality;
  // The low-quality tier (README.md#matching): hashes of quality
  // low_quality_pdq_floor..min_pdq_quality-1 are accepted too, and any pair
  // with such a hash on one side matches only within
  // low_quality_pdq_distance. Below the floor (flat images: quality 0..14)
  // hashes are still refused. Defaults: 15 and 20 (0..pdq_threshold; the
  // measured distributions are in the README).
  int low_quality_pdq_floor = protocol::kDefaultLowQualityPdqFloor;
  int low_quality_pdq_distance = protocol::kDefaultLowQualityPdqDistance;
  // At most this many opt-out ids are returned per matched item. Default: 16.
  int max_ids_per_result = 16;
  // A sealed copy of each manage token is kept this long so that a retried
  // Register (same request_id and content) returns the same token; then
  // EraseExpiredTokens erases it. Default: 24 h.
  int64_t token_retry_seconds = 24 * 3600;
  // A host or directory scope matches nothing until its host is proven
  // (service/verify); unproven ones expire this long after registration.
  // Default: 7 days.
  int64_t pending_scope_seconds = 7 * 24 * 3600;
  // A proven scope is checked again this often; when the proof is gone it
  // lapses (stops matching). Default: 30 days.
  int64_t scope_recheck_seconds = 30 * 24 * 3600;
  // Checks challenges (not owned; must outlive the registry). nullptr:
  // Verify and re-checks refuse with FailedPrecondition.
  const verify::ScopeVerifier* scope_verifier = nullptr;
};

// The lowest PDQ quality accepted at all, and whether a hash of `quality`
// is in the low-quality tier.
inline int LowestPdqQuality(const RegistryOptions& options) {
  return options.low_quality_pdq_floor < options.min_pdq_quality ? options.low_quality_pdq_floor
                                                                 : options.min_pdq_quality;
}
inline bool IsLowQualityPdq(const RegistryOptions& options, int quality) {
  return quality < options.min_pdq_quality;
}

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_REGISTRY_OPTIONS_H_
