// File: client/dataset/receipt_section.h
//
// The "receipt" part of a check-dataset report.json (issue 14): the check
// receipt the registry signed over the run's session, the client's own
// ItemsDigest of the rows it sent, and what a verifier needs to recompute
// that digest from the inputs (every input as given, the ones an earlier
// run finished and this session therefore did not see, the shard, the URL
// column, the minimum PDQ quality and the Public Suffix List used).
//
//   "receipt": {
//     "registry_key_fingerprint": "<hex>", "session_id": "<hex>",
//     "started_unix_micros": N, "ended_unix_micros": N,
//     "min_version": N, "max_version": N,
//     "items": {"url": N, "pdq": N, "sha256": N, "md5": N},
//     "matched": {"total": N, "url": N, "pdq": N, "sha256": N, "md5": N},
//     "items_digest": "<hex>", "signature": "<hex>"},
//   "client_items_digest": "<hex>", "client_items": {...},
//   "inputs": [...], "not_covered": [...], "shard": "I/N",
//   "url_column": "", "min_pdq_quality": N, "low_quality_pdq_floor": N,
//   "pdq_region_tiers": true (only when set), "psl_sha256": "<hex>"
// (the last group sits in the same "receipt_inputs" object).
#ifndef OPTOUT_CLIENT_DATASET_RECEIPT_SECTION_H_
#define OPTOUT_CLIENT_DATASET_RECEIPT_SECTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/common/receipt/items_digest.h"
#include "nlohmann/json.hpp"
#include "optout/v1/optout.pb.h"

namespace optout::dataset {

struct ReceiptSection {
  v1::CheckReceipt receipt;
  receipt::Digest32 client_digest{};
  receipt::ItemCounts client_items;
  std::vector<std::string> inputs;       // every input, as given, in order
  std::vector<std::string> not_covered;  // finished by an earlier run
  std::string shard;                     // "I/N" or empty
  std::string url_column;
  int min_pdq_quality = 0;
  // The server's low-quality PDQ floor the items were built with; 0: none
  // (a server or run from before the tier).
  int low_quality_pdq_floor = 0;
  // Regions were sent in their own tiers (GetInfoResponse.pdq_region_tiers);
  // false for runs from before per-region tiers.
  bool pdq_region_tiers = false;
  std::string psl_sha256;

  // The floors the items were built with (PrepareRecord).
  protocol::PdqQualityFloors floors() const {
    protocol::PdqQualityFloors f;
    f.min = min_pdq_quality;
    f.low = low_quality_pdq_floor > 0 ? low_quality_pdq_floor : min_pdq_quality;
    f.region_tiers = pdq_region_tiers && f.low < f.min;
    return f;
  }
};

// Adds "receipt", "client_items_digest", "client_items" and
// "receipt_inputs" to `report`.
void AddReceiptSection(const ReceiptSection& section, nlohmann::ordered_json* report);

// Reads them back. NotFound when the report has no receipt; InvalidArgument
// naming the field that is missing or malformed.
absl::StatusOr<ReceiptSection> ParseReceiptSection(const nlohmann::json& report);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_RECEIPT_SECTION_H_
