#include "service/grpc_service.h"

#include "absl/time/clock.h"
#include "service/check_dispatch.h"
#include "service/check_stream_reactor.h"
#include "service/status_util.h"

namespace optout::service {

grpc::ServerUnaryReactor* RegistryServiceImpl::Register(grpc::CallbackServerContext* context,
                                                        const v1::RegisterRequest* request,
                                                        v1::RegisterResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time now = absl::Now();
  absl::Status admitted = disk_floor_->CheckWrite(now);
  if (admitted.ok()) admitted = register_rate_->Admit(context->peer(), now);
  if (!admitted.ok()) {
    reactor->Finish(ToGrpcStatus(admitted));
    return reactor;
  }
  pool_->Schedule([this, reactor, request, response] {
    auto result = registry_->Register(*request);
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Get(grpc::CallbackServerContext* context,
                                                   const v1::GetRequest* request,
                                                   v1::GetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, reactor, request, response] {
    auto result = registry_->Get(*request);
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Revoke(grpc::CallbackServerContext* context,
                                                      const v1::RevokeRequest* request,
                                                      v1::RevokeResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, reactor, request] {
    reactor->Finish(ToGrpcStatus(registry_->Revoke(*request)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CheckServiceImpl::Check(grpc::CallbackServerContext* context,
                                                  const v1::CheckRequest* request,
                                                  v1::CheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> bearer = BearerKeyOf(context);
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> key =
      bearer.ok() ? access_->Admit(*bearer, context->peer(), CostOf(*request))
                  : bearer.status();
  if (!key.ok()) {
    reactor->Finish(ToGrpcStatus(key.status()));
    return reactor;
  }
  auto run = [this, context, reactor, request, response, key = std::move(*key)] {
    absl::Status status = registry_->Check(*request, response, InterruptOf(context));
    if (status.ok()) {
      CheckAccess::Record(key.get(), *response);
    } else {
      response->Clear();
    }
    reactor->Finish(ToGrpcStatus(status));
  };
  if (CheckWorkUnits(*request) <= kInlineCheckItems) {
    run();
    return reactor;
  }
  absl::Status queued = workers_->TrySchedule(std::move(run));
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
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
