#include "service/admin_service.h"

#include "absl/time/clock.h"
#include "service/status_util.h"

namespace optout::service {

void AdminServiceImpl::Audit(const grpc::ServerContext* context, absl::string_view method,
                             absl::string_view target_key, const absl::Status& status) const {
  if (audit_ == nullptr) return;
  AuditEntry entry;
  entry.time = absl::Now();
  entry.peer = context->peer();
  entry.method = method;
  entry.target_key = std::string(target_key);
  entry.status = status.code();
  audit_->Write(entry);
}

grpc::Status AdminServiceImpl::CreateKey(grpc::ServerContext* context,
                                         const admin::v1::CreateKeyRequest* request,
                                         admin::v1::CreateKeyResponse* response) {
  auto result = keys_->Create(*request, absl::Now());
  if (result.ok()) *response = std::move(*result);
  Audit(context, "admin.CreateKey", request->name(), result.status());
  return ToGrpcStatus(result.status());
}

grpc::Status AdminServiceImpl::ListKeys(grpc::ServerContext* /*context*/,
                                        const admin::v1::ListKeysRequest* /*request*/,
                                        admin::v1::ListKeysResponse* response) {
  *response = keys_->List();
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::RevokeKey(grpc::ServerContext* context,
                                         const admin::v1::RevokeKeyRequest* request,
                                         admin::v1::RevokeKeyResponse* /*response*/) {
  const absl::Status status = keys_->Revoke(request->name());
  Audit(context, "admin.RevokeKey", request->name(), status);
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::GetKeyUsage(grpc::ServerContext* /*context*/,
                                           const admin::v1::GetKeyUsageRequest* request,
                                           admin::v1::GetKeyUsageResponse* response) {
  auto result = keys_->Usage(request->name());
  if (result.ok()) *response = std::move(*result);
  return ToGrpcStatus(result.status());
}

}  // namespace optout::service
