#include "client/registry_client.h"

#include "absl/time/clock.h"

namespace optout::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
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
                                    const std::string& manage_token) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::RevokeRequest request;
  request.set_opt_out_id(opt_out_id);
  request.set_manage_token(manage_token);
  v1::RevokeResponse response;
  return FromGrpcStatus(registry_->Revoke(&context, request, &response));
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

}  // namespace optout::client
