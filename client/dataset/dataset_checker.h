// File: client/dataset/dataset_checker.h
//
// CheckDataset: checks whole dataset inputs against the registry and writes
// a filtered copy of each (same format, same order, opted-out rows removed)
// plus <out>/report.json. Streams: memory is bounded by the chunk size and
// the number of chunks in flight, whatever the input size. URLs are
// canonicalized and digested here, images hashed here on all cores; the
// registry sees only digests and hashes, several batches in flight on one
// CheckStream. Re-running into the same `out_dir` skips finished inputs.
//
// Fail closed: an input that is not what it can be read as (sniff.h: a zip,
// a gzip file not named .csv.gz / .tsv.gz / .jsonl.gz, a JPEG named .csv,
// text that is not UTF-8, an empty file, no URL column, a corrupt tar, gzip,
// zstd or Parquet file, a nested Parquet URL column) is refused: nothing is
// written for it, the other inputs go on, and DatasetResult::refused says
// why. Every file under a folder input is checked (tars as shards,
// .csv/.tsv/.jsonl (also .gz / .zst) and .parquet as manifests, the rest as
// image samples; an img2dataset shard's X.tar, X.parquet and X_stats.json
// together, see img2dataset.h) or reported unchecked, and only
// copied then with keep_unchecked.
//
// Errors (the run stops; finished inputs stay finished): InvalidArgument for
// bad options (including an `out_dir` equal to or inside an input folder),
// NotFound for a missing input, FailedPrecondition for a PSL mismatch with
// the server or another run holding `out_dir`, Cancelled when `stop` was
// set, the server's status when a check fails, Unavailable for I/O.
// Thread-compatible: one call at a time per RegistryClient stream.
#ifndef OPTOUT_CLIENT_DATASET_DATASET_CHECKER_H_
#define OPTOUT_CLIENT_DATASET_DATASET_CHECKER_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/common/receipt/items_digest.h"
#include "client/common/url/public_suffix_list.h"
#include "client/dataset/report.h"
#include "client/registry_client.h"

namespace optout::dataset {

class DroppedRows;  // output_digest.h

struct DatasetOptions {
  std::vector<std::string> inputs;
  std::string out_dir;
  // URL column / JSONL key name. Default: found by name.
  std::string url_column;
  // Write rows that could not be checked to the output too. Default: false.
  bool keep_unchecked = false;
  bool quiet = false;
  // Plain progress lines when stderr is not a terminal. Default: 10 s.
  absl::Duration progress_interval = absl::Seconds(10);
  // Threads hashing images and digesting URLs. Default (0): one per core.
  int jobs = 0;
  // Batches in flight on the CheckStream. Default: 4.
  int max_in_flight = 4;
  // After a server restart or outage: how long to keep reconnecting (and
  // re-sending the unanswered chunks) without an answer. Default: 0 (fail).
  absl::Duration retry_for = absl::ZeroDuration();
  // Told about each reconnect attempt (a note on stderr). Optional.
  std::function<void(const absl::Status& cause, absl::Duration wait)> on_retry;
  // This machine's Public Suffix List file (default: Debian's); the
  // server's list is fetched and cached when it differs (client/psl_sync.h).
  std::string psl_file;
  // Told once, when the server's list is used instead (a note on stderr).
  // Optional.
  std::function<void(const std::string& note)> on_note;
  // Recorded in the report.
  std::string server_label;
  // Check only shard `shard_index` of `shard_count` (0-based): the inputs'
  // units — a Parquet file's row groups, any other input whole — are
  // numbered in input order and unit k belongs to shard k % shard_count, so
  // N machines split one release deterministically. Outputs hold only the
  // shard's units; row numbers stay those of the whole file; the report
  // says "shard": "I/N" (merge with MergeReports). Default: 0 of 1 (all).
  int shard_index = 0;
  int shard_count = 1;
  // Set (e.g. by a SIGINT handler) to stop between chunks; the run returns
  // Cancelled and a re-run resumes. Default: never.
  const std::atomic<bool>* stop = nullptr;
  // Signed check receipts (issue 14): open a check session, tag every
  // check with it, and put the receipt the registry signs at the end in
  // report.json with the client's own digest of what it sent
  // (client/dataset/receipt_section.h). A registry without sessions gets a
  // note and no receipt. Default: true.
  bool receipt = true;
  // optout verify-receipt: check nothing; feed every request the run would
  // send to this digest instead (outputs in out_dir stay empty). Default:
  // null (a real check).
  receipt::ItemsDigest* digest_only = nullptr;
  // With digest_only: this GetInfo answer instead of asking the server, and
  // the Public Suffix List of psl_file (or the system's). Default: ask.
  const v1::GetInfoResponse* info = nullptr;
  // Inputs (as given) passed over as if an earlier run had finished them.
  std::vector<std::string> skip_inputs;
  // With digest_only and info: this Public Suffix List instead of loading
  // psl_file. Default: null.
  const url::PublicSuffixList* psl = nullptr;
  // verify-receipt --from-output (with digest_only): the inputs are a run's
  // filtered outputs, and the rows it dropped are put back among their
  // rows, file by file, as they are read (output_digest.h); an empty
  // output is a file whose rows were all dropped. Default: null.
  DroppedRows* put_back = nullptr;
};

struct DatasetResult {
  std::vector<InputSummary> inputs;
  InputSummary total;   // sums over inputs (name/input empty)
  std::vector<RefusedInput> refused;  // nothing written for these
  int resumed = 0;      // inputs finished by an earlier run
  double seconds = 0;   // wall time of this run
  std::string report_path;
  // About the receipt: who signed it, or why there is none (for stderr).
  std::string receipt_note;
  bool receipt_ok = false;  // a receipt whose digest is the client's own
  // Set when the receipt is signed by another key than the registry
  // published at the start (optout-admin rotate-keys ran meanwhile).
  std::string receipt_key_note;
};

absl::StatusOr<DatasetResult> CheckDataset(const DatasetOptions& options,
                                           client::RegistryClient& client);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_DATASET_CHECKER_H_
