#include "client/bulk_checker.h"

#include <algorithm>

namespace optout::client {

BulkChecker::BulkChecker(RegistryClient& client, int max_in_flight)
    : context_(std::make_unique<grpc::ClientContext>()),
      max_in_flight_(std::max(1, max_in_flight)) {
  stream_ = client.check_stub().CheckStream(context_.get());
}

BulkChecker::~BulkChecker() {
  if (!finished_) {
    context_->TryCancel();
    Finish().IgnoreError();
  }
}

absl::Status BulkChecker::Send(const v1::CheckRequest& request) {
  if (finished_) return final_status_.ok() ? absl::FailedPreconditionError("stream finished") : final_status_;
  if (!stream_->Write(request)) {
    // The server ended the stream; its status explains why.
    return Finish().ok() ? absl::UnavailableError("check stream closed by server") : final_status_;
  }
  ++in_flight_;
  return absl::OkStatus();
}

absl::StatusOr<v1::CheckResponse> BulkChecker::Next() {
  if (in_flight_ == 0) return absl::FailedPreconditionError("no batch in flight");
  v1::CheckResponse response;
  if (!stream_->Read(&response)) {
    absl::Status s = Finish();
    return s.ok() ? absl::UnavailableError("check stream ended early") : s;
  }
  --in_flight_;
  return response;
}

absl::Status BulkChecker::Finish() {
  if (finished_) return final_status_;
  finished_ = true;
  stream_->WritesDone();
  v1::CheckResponse drain;
  while (stream_->Read(&drain)) {
  }
  final_status_ = FromGrpcStatus(stream_->Finish());
  return final_status_;
}

}  // namespace optout::client
