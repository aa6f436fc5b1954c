#include "client/registry_client.h"

#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace optout::client {

namespace {
constexpr char kRetryInfoTypeUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& detail : details.details()) {
      if (detail.type_url() == kRetryInfoTypeUrl) {
        result.SetPayload(kRetryInfoTypeUrl, absl::Cord(detail.value()));
      }
    }
  }
  return result;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoTypeUrl);
  google::rpc::RetryInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return std::nullopt;
  return absl::Seconds(info.retry_delay().seconds()) + absl::Nanoseconds(info.retry_delay().nanos());
}

void RegistryClient::AddCredentials(grpc::ClientContext* context) const {
  if (!options_.api_key.empty()) context->AddMetadata("authorization", "Bearer " + options_.api_key);
}

std::unique_ptr<RegistryClient> RegistryClient::Create(const std::string& target,
                                                       const ClientOptions& options) {
  auto channel = CreateChannel(target, options.tls, options.max_message_bytes);
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(channel), options));
}

RegistryClient::RegistryClient(std::shared_ptr<grpc::Channel> channel,
                               const ClientOptions& options)
    : channel_(std::move(channel)),
      registry_(v1::Registry::NewStub(channel_)),
      check_(v1::Check::NewStub(channel_)),
      options_(options) {}

void RegistryClient::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  AddCredentials(context);
}

absl::StatusOr<v1::RegisterResponse> RegistryClient::Register(const v1::RegisterRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::RegisterResponse response;
  grpc::Status s = registry_->Register(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::GetResponse> RegistryClient::Get(const std::string& opt_out_id,
                                                    const std::string& manage_token) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetRequest request;
  request.set_opt_out_id(opt_out_id);
  request.set_manage_token(manage_token);
  v1::GetResponse response;
  grpc::Status s = registry_->Get(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::Status RegistryClient::Revoke(const std::string& opt_out_id,
                                    const std::string& manage_token, uint64_t* version,
                                    uint64_t min_version) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::RevokeRequest request;
  request.set_opt_out_id(opt_out_id);
  request.set_manage_token(manage_token);
  request.set_min_version(min_version);
  v1::RevokeResponse response;
  absl::Status status = FromGrpcStatus(registry_->Revoke(&context, request, &response));
  if (status.ok() && version != nullptr) *version = response.version();
  return status;
}

absl::StatusOr<v1::VerifyResponse> RegistryClient::Verify(const std::string& opt_out_id,
                                                          const std::string& manage_token) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::VerifyRequest request;
  request.set_opt_out_id(opt_out_id);
  request.set_manage_token(manage_token);
  v1::VerifyResponse response;
  grpc::Status s = registry_->Verify(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::CheckResponse> RegistryClient::Check(const v1::CheckRequest& request) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::CheckResponse response;
  grpc::Status s = check_->Check(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::GetInfoResponse> RegistryClient::GetInfo() {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetInfoResponse response;
  grpc::Status s = check_->GetInfo(&context, v1::GetInfoRequest(), &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::OpenCheckSessionResponse> RegistryClient::OpenCheckSession() {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::OpenCheckSessionResponse response;
  grpc::Status s = check_->OpenCheckSession(&context, v1::OpenCheckSessionRequest(), &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<v1::CheckReceipt> RegistryClient::CloseCheckSession(const std::string& session_id) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::CloseCheckSessionRequest request;
  request.set_session_id(session_id);
  v1::CloseCheckSessionResponse response;
  grpc::Status s = check_->CloseCheckSession(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response.receipt();
}

void TagCheckSession(grpc::ClientContext* context, const std::string& session_id, uint32_t part) {
  if (session_id.empty()) return;
  context->AddMetadata("optout-session", session_id);
  if (part != 0) context->AddMetadata("optout-session-part", std::to_string(part));
}

absl::StatusOr<v1::GetPublicSuffixListResponse> RegistryClient::GetPublicSuffixList() {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetPublicSuffixListResponse response;
  grpc::Status s =
      check_->GetPublicSuffixList(&context, v1::GetPublicSuffixListRequest(), &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

}  // namespace optout::client
