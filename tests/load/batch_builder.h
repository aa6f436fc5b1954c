// File: tests/load/batch_builder.h
//
// Turns a range of Workload check items into one CheckRequest in the shape
// of a load mode, doing all client-side work (canonicalization, expression
// digests) up front so that timed runs measure the server and the wire only.
//
//   digests: one PackedItems KIND_URL_DIGESTS group; per item the SHA-256 of
//            every lookup expression (exact first, `counts` per item), or
//            only the exact expression's digest with exact_only;
//   urls:    typed items carrying the raw URL strings;
//   pdq:     one PackedItems KIND_PDQ group, 9 codes per item with dihedral.
//
// Thread-safe (pure functions of the workload).
#ifndef OPTOUT_TESTS_LOAD_BATCH_BUILDER_H_
#define OPTOUT_TESTS_LOAD_BATCH_BUILDER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "client/common/url/url.h"
#include "optout/v1/optout.pb.h"
#include "tests/load/workload.h"

namespace optout::load {

enum class CheckMode { kDigests, kUrls, kPdq };

struct BatchOptions {
  CheckMode mode = CheckMode::kDigests;
  // digests: send only the exact expression of each URL. Default: false.
  bool exact_only = false;
  // pdq: send the 8 dihedral variants with each hash. Default: false.
  bool dihedral = false;
};

struct Batch {
  v1::CheckRequest request;
  uint32_t items = 0;
  // Digests (digests mode), codes (pdq mode) or URLs (urls mode) sent.
  uint32_t units = 0;
  // Items the workload says must match.
  uint32_t expected_matches = 0;
};

// Items [first, first + count) of the workload. `psl` is needed (non-null)
// in digests mode only. InvalidArgument if a generated URL does not
// canonicalize (a bug in the workload).
absl::StatusOr<Batch> BuildBatch(const Workload& workload, const BatchOptions& options,
                                 const url::PublicSuffixList* psl, uint64_t first,
                                 uint32_t count);

// Matched items in a response (bitmap bits of packed verdicts plus matched
// typed results).
uint64_t CountMatches(const v1::CheckResponse& response);

}  // namespace optout::load

#endif  // OPTOUT_TESTS_LOAD_BATCH_BUILDER_H_
