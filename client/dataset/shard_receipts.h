// File: client/dataset/shard_receipts.h
//
// Signed receipts of a sharded run (issue 14). `merge-reports` keeps every
// shard's receipt in the merged report, in shard order:
//
//   "receipts": [{"shard": "I/N", "removed": N,
//                 "receipt": {...}, "client_items_digest": "<hex>",
//                 "client_items": {...}, "receipt_inputs": {...}}, ...]
//
// Each entry is the shard report's receipt section as it was
// (receipt_section.h) plus the rows that shard removed from the inputs its
// receipt covers, so that verify-receipt can check every receipt on its
// own and that together they cover the release exactly: each shard
// 0..N-1 once, one session each, all over the same inputs and options.
#ifndef OPTOUT_CLIENT_DATASET_SHARD_RECEIPTS_H_
#define OPTOUT_CLIENT_DATASET_SHARD_RECEIPTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/dataset/receipt_section.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {

// Rows `report` removed from its inputs, leaving out `not_covered` ones; a
// key an img2dataset shard removed from both its tar and its parquet counts
// once (one match removes both).
uint64_t RemovedRowsCovered(const nlohmann::json& report,
                            const std::vector<std::string>& not_covered);

// The "receipts" entry for one shard's report; NotFound when it holds no
// receipt, InvalidArgument naming a malformed receipt field.
absl::StatusOr<nlohmann::json> ShardReceiptEntry(const nlohmann::json& shard_report);

struct ShardReceipt {
  int index = 0;  // I of I/N
  ReceiptSection section;
  uint64_t removed = 0;
};

// The receipts of a merged report, in shard order. NotFound when it has
// none; InvalidArgument naming a malformed field; FailedPrecondition when
// they do not cover the release exactly: a shard missing or given twice, a
// session given twice, or receipts over other inputs or options.
absl::StatusOr<std::vector<ShardReceipt>> ParseShardReceipts(const nlohmann::json& merged);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_SHARD_RECEIPTS_H_
