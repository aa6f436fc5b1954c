#include "service/grpc_service.h"

#include "absl/time/clock.h"
#include "service/check_dispatch.h"
#include "service/check_stream_reactor.h"
#include "service/peer_rate_limiter.h"
#include "service/status_util.h"

namespace optout::service {

void RegistryServiceImpl::Audit(grpc::CallbackServerContext* context, absl::string_view method,
                                const KindCounts& items, const absl::Status& status) const {
  if (audit_ == nullptr) return;
  AuditEntry entry;
  entry.time = absl::Now();
  entry.peer = PeerKey(context->peer());
  entry.method = method;
  entry.items = items;
  entry.status = status.code();
  audit_->Write(entry);
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Register(grpc::CallbackServerContext* context,
                                                        const v1::RegisterRequest* request,
                                                        v1::RegisterResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time now = absl::Now();
  absl::Status admitted = disk_floor_->CheckWrite(now);
  if (admitted.ok()) admitted = register_rate_->Admit(context->peer(), now);
  KindCounts items;
  if (audit_ != nullptr) {
    items.url = request->urls_size();
    items.scope = request->scopes_size();
    items.pdq = request->pdq_size();
    items.sha256 = request->sha256_size();
    items.md5 = request->md5_size();
  }
  if (!admitted.ok()) {
    Audit(context, "Register", items, admitted);
    reactor->Finish(ToGrpcStatus(admitted));
    return reactor;
  }
  pool_->Schedule([this, context, reactor, request, response, items] {
    auto result = registry_->Register(*request);
    if (result.ok()) *response = std::move(*result);
    Audit(context, "Register", items, result.status());
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Get(grpc::CallbackServerContext* context,
                                                   const v1::GetRequest* request,
                                                   v1::GetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, context, reactor, request, response] {
    auto result = registry_->Get(*request);
    if (result.ok()) *response = std::move(*result);
    Audit(context, "Get", KindCounts(), result.status());
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Revoke(grpc::CallbackServerContext* context,
                                                      const v1::RevokeRequest* request,
                                                      v1::RevokeResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, context, reactor, request] {
    const absl::Status status = registry_->Revoke(*request);
    Audit(context, "Revoke", KindCounts(), status);
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CheckServiceImpl::Check(grpc::CallbackServerContext* context,
                                                  const v1::CheckRequest* request,
                                                  v1::CheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<CheckAdmission> admitted =
      access_->AdmitCheck(CallerOf(context), "Check", *request);
  if (!admitted.ok()) {
    reactor->Finish(ToGrpcStatus(admitted.status()));
    return reactor;
  }
  auto run = [this, context, reactor, request, response, admission = *admitted] {
    absl::Status status = registry_->Check(*request, response, InterruptOf(context));
    access_->CheckDone(admission, *response, status);
    if (!status.ok()) response->Clear();
    reactor->Finish(ToGrpcStatus(status));
  };
  if (CheckWorkUnits(*request) <= kInlineCheckItems) {
    run();
    return reactor;
  }
  absl::Status queued = workers_->TrySchedule(std::move(run));
  if (!queued.ok()) {
    access_->CheckDone(*admitted, *response, queued);
    reactor->Finish(ToGrpcStatus(queued));
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::CheckRequest, v1::CheckResponse>* CheckServiceImpl::CheckStream(
    grpc::CallbackServerContext* context) {
  return new CheckStreamReactor(registry_, workers_, access_, context, stream_limits_);
}

grpc::ServerUnaryReactor* CheckServiceImpl::GetInfo(grpc::CallbackServerContext* context,
                                                    const v1::GetInfoRequest* /*request*/,
                                                    v1::GetInfoResponse* response) {
  *response = registry_->Info();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace optout::service
