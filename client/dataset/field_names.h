// File: client/dataset/field_names.h
//
// How check-dataset finds the URL of a row or sample: one candidate list,
// compared case-insensitively, for every format — CSV and TSV columns, JSONL
// keys and the keys of a shard sample's .json (LAION spells it "URL",
// others "url" or "image_url"). `--url-column NAME` replaces the list with
// that one name (an exact match beats one that differs in case). The digest
// columns md5 and sha256 are found the same way.
//
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_DATASET_FIELD_NAMES_H_
#define OPTOUT_CLIENT_DATASET_FIELD_NAMES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {

// How well `name` names the URL: 0 is best, -1 not at all. `wanted`: the
// --url-column name, or empty for the candidate list.
int UrlNameRank(absl::string_view name, absl::string_view wanted);

// Index of the best URL name among `names`, or -1.
int FindUrlName(const std::vector<std::string>& names, absl::string_view wanted);

// The member of a JSON object that holds the URL, or end() when none is
// named like one.
nlohmann::json::const_iterator FindUrlKey(const nlohmann::json& object, absl::string_view wanted);

// The member named `name` (case-insensitive), or end().
nlohmann::json::const_iterator FindKeyIgnoringCase(const nlohmann::json& object,
                                                   absl::string_view name);

// "url, image_url, ...": the candidate list, for messages.
std::string UrlNameList();

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_FIELD_NAMES_H_
