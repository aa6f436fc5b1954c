// File: client/dataset/folder_plan.h
//
// What check-dataset does with each file under a folder input, so that
// every file is either checked or reported: `.tar` files are checked as
// webdataset shards, `.csv`/`.tsv`/`.jsonl`/`.ndjson` as manifests, and
// everything else as image samples (files sharing a key); links to folders,
// dangling links and special files are listed as unchecked samples of their
// own. Content is sniffed later, when each file is opened.
//
// Thread-compatible.
#ifndef OPTOUT_CLIENT_DATASET_FOLDER_PLAN_H_
#define OPTOUT_CLIENT_DATASET_FOLDER_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/dataset/reader.h"

namespace optout::dataset {

struct FolderPlan {
  std::vector<std::string> shards, tables;  // paths relative to the folder, sorted
  std::vector<FolderFile> samples;
  int64_t bytes = 0;        // of the regular files
  std::string fingerprint;  // of every file's path, size and mtime: changes when one does
};

// NotFound when `root` cannot be read, Unavailable when listing fails.
absl::StatusOr<FolderPlan> PlanFolder(const std::string& root);

// Sorts samples by name so a key's files are adjacent; files already known
// to be unchecked go last, so they never split a sample.
void SortSamples(std::vector<FolderFile>* files);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_FOLDER_PLAN_H_
