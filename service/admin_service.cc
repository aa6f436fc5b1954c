#include "service/admin_service.h"

#include "absl/time/clock.h"
#include "service/status_util.h"

namespace optout::service {

grpc::Status AdminServiceImpl::CreateKey(grpc::ServerContext* /*context*/,
                                         const admin::v1::CreateKeyRequest* request,
                                         admin::v1::CreateKeyResponse* response) {
  auto result = keys_->Create(*request, absl::Now());
  if (result.ok()) *response = std::move(*result);
  return ToGrpcStatus(result.status());
}

grpc::Status AdminServiceImpl::ListKeys(grpc::ServerContext* /*context*/,
                                        const admin::v1::ListKeysRequest* /*request*/,
                                        admin::v1::ListKeysResponse* response) {
  *response = keys_->List();
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::RevokeKey(grpc::ServerContext* /*context*/,
                                         const admin::v1::RevokeKeyRequest* request,
                                         admin::v1::RevokeKeyResponse* /*response*/) {
  return ToGrpcStatus(keys_->Revoke(request->name()));
}

grpc::Status AdminServiceImpl::GetKeyUsage(grpc::ServerContext* /*context*/,
                                           const admin::v1::GetKeyUsageRequest* request,
                                           admin::v1::GetKeyUsageResponse* response) {
  auto result = keys_->Usage(request->name());
  if (result.ok()) *response = std::move(*result);
  return ToGrpcStatus(result.status());
}

}  // namespace optout::service
