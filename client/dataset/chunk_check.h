// File: client/dataset/chunk_check.h
//
// The per-chunk steps of a dataset check:
//   PrepareRecord  (any thread)  digests the URL, hashes the image;
//   BuildRequest   packs a chunk's items into one CheckRequest (packed
//                  groups: URL digests, SHA-256, MD5, PDQ with dihedral and
//                  the image's trimmed regions, as `optout check --image`);
//   ApplyResponse  maps the packed verdicts back to one Verdict per record.
// Records that cannot be checked at all bring no item, so one bad row never
// fails a batch (the server refuses a whole batch for one bad item).
#ifndef OPTOUT_CLIENT_DATASET_CHUNK_CHECK_H_
#define OPTOUT_CLIENT_DATASET_CHUNK_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/dataset/record.h"
#include "client/dataset/url_digests.h"
#include "optout/v1/optout.pb.h"

namespace optout::dataset {

// Thread-compatible: one digester per thread; `r` is owned by the caller.
// Sets r->unchecked when the URL is malformed or the image undecodable.
// Images whose PDQ quality is below `floors.low` are checked by their file
// digests only (r->low_quality); from there up to `floors.min` their PDQ
// item is sent as low-quality (r->pdq_low_quality: matched within the
// server's stricter low-quality distance). With `floors.region_tiers` its
// regions go from `floors.low` up, each in its own tier (r->pdq_region_low).
void PrepareRecord(UrlDigester& digester, const protocol::PdqQualityFloors& floors, Record* r);

struct ChunkPlan {
  v1::CheckRequest request;
  // For each packed group, the record index of each of its items.
  std::vector<std::vector<uint32_t>> item_record;
};

// Builds the request for `records` (already prepared).
void BuildRequest(const std::vector<Record>& records, ChunkPlan* plan);

struct Verdict {
  v1::MatchKind kind = v1::MATCH_KIND_NONE;  // strongest evidence when several
  std::vector<std::string> ids;
};

// One Verdict per record. Internal if the response does not fit the plan.
absl::Status ApplyResponse(const ChunkPlan& plan, const v1::CheckResponse& response,
                           std::vector<Verdict>* verdicts);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_CHUNK_CHECK_H_
