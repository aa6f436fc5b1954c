// File: client/cli/receipt.h
//
// The receipt `optout register` leaves behind: the opt-out id, its manage
// token (which the registry cannot recover), what was registered, the server
// and the time. A JSON file with mode 0600; `get`/`revoke --receipt FILE`
// read it back. Pure file I/O; no global state, thread-compatible.
#ifndef OPTOUT_CLIENT_CLI_RECEIPT_H_
#define OPTOUT_CLIENT_CLI_RECEIPT_H_

#include <string>

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

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_RECEIPT_H_
