// File: client/bulk_checker.h
//
// BulkChecker keeps several Check batches in flight on one CheckStream, so
// the network and the server stay busy while the caller prepares the next
// batch. Responses come back in the order batches were sent.
//
//   BulkChecker bulk(client, /*max_in_flight=*/4);
//   while (have_more) {
//     if (bulk.in_flight() == bulk.max_in_flight()) Handle(bulk.Next());
//     bulk.Send(std::move(batch));
//   }
//   while (bulk.in_flight() > 0) Handle(bulk.Next());
//   status = bulk.Finish();
//
// Errors: the first failed call (e.g. INVALID_ARGUMENT for a bad item) ends
// the stream; Next/Send then return it. Not thread-safe: one caller thread.
#ifndef OPTOUT_CLIENT_BULK_CHECKER_H_
#define OPTOUT_CLIENT_BULK_CHECKER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "client/registry_client.h"

namespace optout::client {

class BulkChecker final {
 public:
  BulkChecker(RegistryClient& client, int max_in_flight);
  ~BulkChecker();
  BulkChecker(const BulkChecker&) = delete;
  BulkChecker& operator=(const BulkChecker&) = delete;

  // Sends one batch. Call only while in_flight() < max_in_flight().
  absl::Status Send(const v1::CheckRequest& request);
  // Waits for the answer to the oldest batch in flight.
  absl::StatusOr<v1::CheckResponse> Next();
  // Half-closes the stream and returns its final status.
  absl::Status Finish();

  int in_flight() const { return in_flight_; }
  int max_in_flight() const { return max_in_flight_; }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::CheckRequest, v1::CheckResponse>> stream_;
  const int max_in_flight_;
  int in_flight_ = 0;
  bool finished_ = false;
  absl::Status final_status_;
};

}  // namespace optout::client

#endif  // OPTOUT_CLIENT_BULK_CHECKER_H_
