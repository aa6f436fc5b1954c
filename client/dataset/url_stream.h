// File: client/dataset/url_stream.h
//
// CheckUrlStream: the crawler's pipe. Reads one URL per line from `in` and
// writes one JSON line per input line to `out`, in input order:
//   {"url": "...", "matched": true|false, "match": "url|scope|none", "ids": [...]}
// A line that could not be checked (not a valid URL, or a host no DNS name
// can have) answers "matched": null, "match": null plus "error": "KIND:
// reason": never false, so a script reading only "matched" fails closed. Lines are batched as they arrive: a batch goes out as soon as
// the server can take one, so an interactive caller gets each answer
// without waiting for more input, and a bulk caller gets large batches.
// Memory is bounded by max_batch x (max_in_flight + 2) lines of at most
// 16 KiB (longer lines are cut; they are TOO_LONG anyway). Output is
// flushed after every batch.
//
// A server restart mid-stream is survived when retry_for > 0: the stream
// reconnects and re-sends exactly the unanswered lines (client/bulk_checker.h).
//
// Errors: the check stream's status (e.g. Unavailable once retries are
// exhausted), or FailedPrecondition for a PSL mismatch; `stats` then says how
// many lines were answered. Not thread-safe: one call at a time.
#ifndef OPTOUT_CLIENT_DATASET_URL_STREAM_H_
#define OPTOUT_CLIENT_DATASET_URL_STREAM_H_

#include <cstdint>
#include <cstdio>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/registry_client.h"
#include "client/common/url/url.h"

namespace optout::dataset {

struct UrlStreamOptions {
  // Most URLs per batch. Default: 4096 (the server's limit caps it).
  int max_batch = 4096;
  // Batches in flight on the CheckStream. Default: 4.
  int max_in_flight = 4;
  // Reconnecting after a server restart: see client::BulkOptions.
  absl::Duration retry_for = absl::ZeroDuration();
  std::function<void(const absl::Status& cause, absl::Duration wait)> on_retry;
};

struct UrlStreamStats {
  int64_t answered = 0;   // lines written to `out`
  int64_t unchecked = 0;  // of which "matched": null
};

// `in` is read by a helper thread until EOF; `out` is written by the caller's.
absl::Status CheckUrlStream(std::FILE* in, std::FILE* out, client::RegistryClient& client,
                            const url::PublicSuffixList& psl, const UrlStreamOptions& options,
                            UrlStreamStats* stats);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_URL_STREAM_H_
