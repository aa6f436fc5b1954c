// File: client/dataset/url_stream.h
//
// CheckUrlStream: the crawler's pipe. Reads one URL per line from `in` and
// writes one JSON line per input line to `out`, in input order:
//   {"url": "...", "matched": true|false, "match": "url|scope|none", "ids": [...]}
// plus "error": "KIND: reason" (and matched false) for a line that is not a
// valid URL. Lines are batched as they arrive: a batch goes out as soon as
// the server can take one, so an interactive caller gets each answer
// without waiting for more input, and a bulk caller gets large batches.
// Memory is bounded by max_batch x (max_in_flight + 2) lines of at most
// 16 KiB (longer lines are cut; they are TOO_LONG anyway). Output is
// flushed after every batch.
//
// Errors: the check stream's status (e.g. Unavailable), or
// FailedPrecondition for a PSL mismatch. Not thread-safe: one call at a time.
#ifndef OPTOUT_CLIENT_DATASET_URL_STREAM_H_
#define OPTOUT_CLIENT_DATASET_URL_STREAM_H_

#include <cstdio>

#include "absl/status/status.h"
#include "client/registry_client.h"
#include "client/common/url/url.h"

namespace optout::dataset {

struct UrlStreamOptions {
  // Most URLs per batch. Default: 4096 (the server's limit caps it).
  int max_batch = 4096;
  // Batches in flight on the CheckStream. Default: 4.
  int max_in_flight = 4;
};

// `in` is read by a helper thread until EOF; `out` is written by the caller's.
absl::Status CheckUrlStream(std::FILE* in, std::FILE* out, client::RegistryClient& client,
                            const url::PublicSuffixList& psl, const UrlStreamOptions& options);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_URL_STREAM_H_
