#include "service/grpc_service.h"

#include "absl/time/clock.h"
#include "service/check_dispatch.h"
#include "service/check_stream_reactor.h"
#include "service/peer_rate_limiter.h"
#include "service/session_dispatch.h"
#include "service/status_util.h"

namespace optout::service {
namespace {

const MethodMetrics* Find(const RpcMetrics* rpc_metrics, absl::string_view service,
                          absl::string_view method) {
  return rpc_metrics != nullptr ? rpc_metrics->Find(service, method) : nullptr;
}

// Every unary handler ends here: the call is counted with its status.
void Finish(grpc::ServerUnaryReactor* reactor, const CallTimer& timer,
            const grpc::Status& status) {
  timer.Done(status.error_code());
  reactor->Finish(status);
}

}  // namespace

RegistryServiceImpl::RegistryServiceImpl(Registry* registry, ThreadPool* pool,
                                         PeerRateLimiter* register_rate,
                                         PeerRateLimiter* revoke_catch_up_rate,
                                         DiskFloor* disk_floor, AuditLog* audit,
                                         const RpcMetrics* rpc_metrics)
    : registry_(registry),
      pool_(pool),
      register_rate_(register_rate),
      revoke_catch_up_rate_(revoke_catch_up_rate),
      disk_floor_(disk_floor),
      audit_(audit),
      register_calls_(Find(rpc_metrics, v1::Registry::service_full_name(), "Register")),
      get_calls_(Find(rpc_metrics, v1::Registry::service_full_name(), "Get")),
      revoke_calls_(Find(rpc_metrics, v1::Registry::service_full_name(), "Revoke")),
      verify_calls_(Find(rpc_metrics, v1::Registry::service_full_name(), "Verify")) {}

CheckServiceImpl::CheckServiceImpl(const Registry* registry, CheckWorkers* workers,
                                   CheckAccess* access, const StreamLimits& stream_limits,
                                   const RpcMetrics* rpc_metrics, CheckSessions* sessions)
    : registry_(registry),
      workers_(workers),
      access_(access),
      sessions_(sessions),
      stream_limits_(stream_limits),
      check_calls_(Find(rpc_metrics, v1::Check::service_full_name(), "Check")),
      get_info_calls_(Find(rpc_metrics, v1::Check::service_full_name(), "GetInfo")),
      get_psl_calls_(Find(rpc_metrics, v1::Check::service_full_name(), "GetPublicSuffixList")) {
  stream_limits_.calls = Find(rpc_metrics, v1::Check::service_full_name(), "CheckStream");
  SetMessageAllocatorFor_Check(&check_messages_);
}

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
  const CallTimer timer(register_calls_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time now = absl::Now();
  absl::Status admitted = disk_floor_->CheckWrite(now);
  if (admitted.ok()) admitted = register_rate_->Admit(context->peer(), now);
  KindCounts items;
  if (audit_ != nullptr) {
    items.url = request->urls_size();
    items.url_any_query = request->url_any_query_size();
    items.scope = request->scopes_size();
    items.pdq = request->pdq_size();
    items.sha256 = request->sha256_size();
    items.md5 = request->md5_size();
  }
  if (!admitted.ok()) {
    Audit(context, "Register", items, admitted);
    Finish(reactor, timer, ToGrpcStatus(admitted));
    return reactor;
  }
  pool_->Schedule([this, context, reactor, request, response, items, timer] {
    auto result = registry_->Register(*request);
    if (result.ok()) *response = std::move(*result);
    Audit(context, "Register", items, result.status());
    Finish(reactor, timer, ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Get(grpc::CallbackServerContext* context,
                                                   const v1::GetRequest* request,
                                                   v1::GetResponse* response) {
  const CallTimer timer(get_calls_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, context, reactor, request, response, timer] {
    auto result = registry_->Get(*request);
    if (result.ok()) *response = std::move(*result);
    Audit(context, "Get", KindCounts(), result.status());
    Finish(reactor, timer, ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Revoke(grpc::CallbackServerContext* context,
                                                      const v1::RevokeRequest* request,
                                                      v1::RevokeResponse* response) {
  const CallTimer timer(revoke_calls_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, context, reactor, request, response, timer] {
    uint64_t version = 0;
    // A wait for min_version (or to catch up before NOT_FOUND) answers
    // UNAVAILABLE a little before the deadline, as a check's does.
    const absl::Status status = registry_->Revoke(
        *request, &version, InterruptOf(context, std::chrono::milliseconds(200)),
        [this, context] { return revoke_catch_up_rate_->Admit(context->peer(), absl::Now()); });
    response->set_version(version);
    Audit(context, "Revoke", KindCounts(), status);
    Finish(reactor, timer, ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryServiceImpl::Verify(grpc::CallbackServerContext* context,
                                                      const v1::VerifyRequest* request,
                                                      v1::VerifyResponse* response) {
  const CallTimer timer(verify_calls_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Status admitted = register_rate_->Admit(context->peer(), absl::Now());
  if (!admitted.ok()) {
    Audit(context, "Verify", KindCounts(), admitted);
    Finish(reactor, timer, ToGrpcStatus(admitted));
    return reactor;
  }
  pool_->Schedule([this, context, reactor, request, response, timer] {
    auto result = registry_->Verify(*request);
    if (result.ok()) *response = std::move(*result);
    Audit(context, "Verify", KindCounts(), result.status());
    Finish(reactor, timer, ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CheckServiceImpl::Check(grpc::CallbackServerContext* context,
                                                  const v1::CheckRequest* request,
                                                  v1::CheckResponse* response) {
  const CallTimer timer(check_calls_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const Caller caller = CallerOf(context);
  absl::StatusOr<std::shared_ptr<SessionPart>> part = SessionPartOf(sessions_, context, caller);
  if (!part.ok()) {
    Finish(reactor, timer, ToGrpcStatus(part.status()));
    return reactor;
  }
  if (*part != nullptr) {
    absl::Status in_order = (*part)->CheckStart(request->session_batch());
    if (!in_order.ok()) {
      Finish(reactor, timer, ToGrpcStatus(in_order));
      return reactor;
    }
  }
  absl::StatusOr<CheckAdmission> admitted = access_->AdmitCheck(caller, "Check", *request);
  if (!admitted.ok()) {
    Finish(reactor, timer, ToGrpcStatus(admitted.status()));
    return reactor;
  }
  // A check that must wait for min_version answers UNAVAILABLE a little
  // before the deadline, and waits on a worker thread, never on gRPC's.
  const bool must_wait =
      request->min_version() != 0 &&
      !registry_->mutation_log().AwaitApplied(request->min_version(), absl::InfinitePast());
  auto run = [this, context, reactor, request, response, timer, admission = *admitted,
              early = std::chrono::milliseconds(must_wait ? 200 : 0), part = *std::move(part)] {
    const uint64_t version =
        part != nullptr ? registry_->mutation_log().Progress().applied_version : 0;
    absl::Status status = registry_->Check(*request, response, InterruptOf(context, early));
    access_->CheckDone(admission, *response, status);
    // Unary calls of one part are fed in the order they complete.
    if (part != nullptr && status.ok()) {
      status = part->Add(*request, MatchesOf(*response), version, absl::Now());
    }
    if (!status.ok()) response->Clear();
    Finish(reactor, timer, ToGrpcStatus(status));
  };
  if (!must_wait && CheckWorkUnits(*request) <= kInlineCheckItems) {
    run();
    return reactor;
  }
  absl::Status queued = workers_->TrySchedule(std::move(run));
  if (!queued.ok()) {
    access_->CheckDone(*admitted, *response, queued);
    Finish(reactor, timer, ToGrpcStatus(queued));
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::CheckRequest, v1::CheckResponse>* CheckServiceImpl::CheckStream(
    grpc::CallbackServerContext* context) {
  return new CheckStreamReactor(registry_, workers_, access_, context, stream_limits_, sessions_);
}

grpc::ServerUnaryReactor* CheckServiceImpl::GetInfo(grpc::CallbackServerContext* context,
                                                    const v1::GetInfoRequest* /*request*/,
                                                    v1::GetInfoResponse* response) {
  const CallTimer timer(get_info_calls_);
  *response = registry_->Info();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, timer, grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* CheckServiceImpl::GetPublicSuffixList(
    grpc::CallbackServerContext* context, const v1::GetPublicSuffixListRequest* /*request*/,
    v1::GetPublicSuffixListResponse* response) {
  const CallTimer timer(get_psl_calls_);
  // A copy of ~230 KB; clients ask only when their own list differs.
  *response = registry_->PublicSuffixListInUse();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, timer, grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* CheckServiceImpl::OpenCheckSession(
    grpc::CallbackServerContext* context, const v1::OpenCheckSessionRequest* /*request*/,
    v1::OpenCheckSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (sessions_ == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "check sessions are off"));
    return reactor;
  }
  absl::StatusOr<v1::OpenCheckSessionResponse> opened =
      OpenSessionFor(*sessions_, *access_, *registry_, CallerOf(context));
  if (opened.ok()) *response = *std::move(opened);
  const absl::Status status = opened.status();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* CheckServiceImpl::CloseCheckSession(
    grpc::CallbackServerContext* context, const v1::CloseCheckSessionRequest* request,
    v1::CloseCheckSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (sessions_ == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "check sessions are off"));
    return reactor;
  }
  absl::StatusOr<v1::CheckReceipt> receipt =
      sessions_->Close(request->session_id(), SessionOwnerOf(CallerOf(context)));
  if (receipt.ok()) *response->mutable_receipt() = *std::move(receipt);
  reactor->Finish(ToGrpcStatus(receipt.status()));
  return reactor;
}

}  // namespace optout::service
