// File: client/dataset/output_digest.h
//
// A signed receipt checked from the filtered release instead of the
// original (issue 14): the rows a check-dataset run dropped (removed, or
// unchecked and not kept) are listed in report.json with the items they
// brought to the check ("items": base64 of a CheckRequest holding only
// them), so that the filtered output with those rows put back at their
// row numbers gives the same items, in the same order, as the inputs did.
// Any edit to the removed rows list (a row hidden, added, moved, or its
// items changed) then changes the recomputed digest.
//
// Tables only (CSV, TSV, JSONL, URL lists, each also .gz / .zst, and whole
// Parquet files): webdataset shards, image folders and Parquet files split
// by --shard are refused with Unimplemented (verify those from the inputs).
#ifndef OPTOUT_CLIENT_DATASET_OUTPUT_DIGEST_H_
#define OPTOUT_CLIENT_DATASET_OUTPUT_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/common/receipt/items_digest.h"
#include "client/common/url/public_suffix_list.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/dataset/receipt_section.h"
#include "client/dataset/record.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {

// The items a prepared record brings to the check, as the "items" of its
// line in the removed or unchecked list; empty when it brings none.
std::string DroppedRowItems(const Record& record);

// The items digest of what the run behind `report` (its receipt section
// `section`, the report in folder `report_dir`) sent, rebuilt from the
// filtered outputs and the dropped rows' items. FailedPrecondition naming
// the input and row when the removed or unchecked lists do not fit the
// outputs (a row listed twice, past the end, or without its items), or
// when the row counts differ from the report's; NotFound for a missing
// output; Unimplemented for inputs this cannot rebuild.
absl::StatusOr<receipt::Digest32> DigestFilteredOutputs(const nlohmann::json& report,
                                                        const std::string& report_dir,
                                                        const ReceiptSection& section,
                                                        const url::PublicSuffixList& psl,
                                                        const protocol::PdqQualityFloors& floors);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_OUTPUT_DIGEST_H_
