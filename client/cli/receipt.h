// File: client/cli/receipt.h
//
// The receipt `optout register` leaves behind: the opt-out id, its manage
// token (which the registry cannot recover), what was registered, the server
// and the time. A JSON file with mode 0600; `get`/`revoke --receipt FILE`
// read it back. Pure file I/O; no global state, thread-compatible.
#ifndef OPTOUT_CLIENT_CLI_RECEIPT_H_
#define OPTOUT_CLIENT_CLI_RECEIPT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace optout::cli {

struct Receipt {
  std::string id;
  std::string token;
  std::string server;
  std::string created;  // RFC 3339, UTC
  // What was registered: {"urls": [...], "scopes": [...], "images": [...], ...}.
  // Image entries hold file names and hashes, never image bytes.
  nlohmann::ordered_json registered = nlohmann::ordered_json::object();
  // The public match id of each registered item, as checks report them:
  // [{"kind": "url", "item": "https://...", "match_id": "..."}, ...] (PDQ and
  // file digests as hex). Absent from receipts made before match ids.
  nlohmann::ordered_json match_ids = nlohmann::ordered_json::array();
  // Host and directory scopes wait for proof (issue 10): {"token": ...,
  // "scopes": [{"scope", "host", "https_url", "dns_name"}, ...]}. Absent when
  // nothing was registered that needs it.
  nlohmann::ordered_json challenge = nlohmann::ordered_json::object();
  // The day the opt-out was revoked (YYYY-MM-DD), empty while it is active.
  std::string revoked;
  // The registry version the registration answered (RegisterResponse.
  // version); `revoke --receipt` sends it as min_version, so that any node
  // of a cluster finds the opt-out. 0: unknown (older receipts).
  uint64_t version = 0;
};

// ~/.optout/receipt-<id>.json ($HOME must be set; FailedPrecondition if not).
absl::StatusOr<std::string> DefaultReceiptPath(const std::string& id);

// Fails with AlreadyExists if `path` exists: a receipt is never overwritten,
// since it may hold the only copy of a token. Call before registering.
absl::Status CheckReceiptPathFree(const std::string& path);

// Creates `path` with mode 0600 (and a missing parent ~/.optout with 0700),
// writes and fsyncs. AlreadyExists if it exists; Unavailable on I/O errors.
absl::Status WriteReceipt(const std::string& path, const Receipt& receipt);

// Reads a receipt. NotFound / InvalidArgument (not a receipt) on failure.
absl::StatusOr<Receipt> ReadReceipt(const std::string& path);

// Records in the receipt at `path` that its opt-out was revoked on `date`
// (YYYY-MM-DD), keeping everything else; the file is replaced atomically and
// stays 0600. NotFound / InvalidArgument as ReadReceipt, Unavailable on I/O.
absl::Status MarkReceiptRevoked(const std::string& path, const std::string& date);

// Every readable receipt-*.json in `dir` (path, receipt), in name order;
// files that are not receipts are skipped. Empty when `dir` does not exist.
absl::StatusOr<std::vector<std::pair<std::string, Receipt>>> ReadReceiptFolder(
    const std::string& dir);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_RECEIPT_H_
