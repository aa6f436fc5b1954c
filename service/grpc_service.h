// File: service/grpc_service.h
//
// The thin gRPC layer: each handler converts nothing (the core speaks the
// API's messages), calls Registry, and finishes with ToGrpcStatus. Blocking
// calls (durable writes) run on the ThreadPool; checks run on CheckWorkers
// (bounded queue, stopped by cancellation and deadlines), except the
// smallest, whose bounded cost is below a hand-off to another thread. Every
// check is first admitted by CheckAccess (API key or anonymous budget).
#ifndef OPTOUT_SERVICE_GRPC_SERVICE_H_
#define OPTOUT_SERVICE_GRPC_SERVICE_H_

#include "optout/v1/optout.grpc.pb.h"
#include "service/arena_message_allocator.h"
#include "service/audit_log.h"
#include "service/check_access.h"
#include "service/check_sessions.h"
#include "service/check_stream_reactor.h"
#include "service/check_workers.h"
#include "service/disk_floor.h"
#include "service/peer_rate_limiter.h"
#include "service/registry.h"
#include "service/rpc_metrics.h"
#include "client/common/base/thread_pool.h"

namespace optout::service {

class RegistryServiceImpl final : public v1::Registry::CallbackService {
 public:
  // Every pointer must outlive the gRPC server; `audit` may be nullptr (no
  // audit log), `rpc_metrics` too (calls not counted). Register is refused
  // (RESOURCE_EXHAUSTED) below the disk floor or past the peer's rate; a
  // Revoke that must ask the cluster's stream for its last sequence (see
  // Registry::Revoke), past the peer's `revoke_catch_up_rate`.
  RegistryServiceImpl(Registry* registry, ThreadPool* pool, PeerRateLimiter* register_rate,
                      PeerRateLimiter* revoke_catch_up_rate, DiskFloor* disk_floor,
                      AuditLog* audit, const RpcMetrics* rpc_metrics = nullptr);

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const v1::RegisterRequest* request,
                                     v1::RegisterResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetRequest* request,
                                v1::GetResponse* response) override;
  grpc::ServerUnaryReactor* Revoke(grpc::CallbackServerContext* context,
                                   const v1::RevokeRequest* request,
                                   v1::RevokeResponse* response) override;
  // Makes outbound HTTPS and DNS requests: admitted by the per-peer
  // registration rate like Register.
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const v1::VerifyRequest* request,
                                   v1::VerifyResponse* response) override;

 private:
  // One audit line per call: the caller's address, item counts, status.
  void Audit(grpc::CallbackServerContext* context, absl::string_view method,
             const KindCounts& items, const absl::Status& status) const;

  Registry* const registry_;
  ThreadPool* const pool_;
  PeerRateLimiter* const register_rate_;
  PeerRateLimiter* const revoke_catch_up_rate_;
  DiskFloor* const disk_floor_;
  AuditLog* const audit_;
  const MethodMetrics* register_calls_ = nullptr;
  const MethodMetrics* get_calls_ = nullptr;
  const MethodMetrics* revoke_calls_ = nullptr;
  const MethodMetrics* verify_calls_ = nullptr;
};

class CheckServiceImpl final : public v1::Check::CallbackService {
 public:
  // `registry`, `workers`, `access`, `rpc_metrics`, `sessions` and what
  // `stream_limits` points to must outlive the gRPC server. `rpc_metrics`
  // null: calls are not counted. `sessions` null: check sessions are off
  // (Open/CloseCheckSession answer UNIMPLEMENTED).
  CheckServiceImpl(const Registry* registry, CheckWorkers* workers, CheckAccess* access,
                   const StreamLimits& stream_limits, const RpcMetrics* rpc_metrics = nullptr,
                   CheckSessions* sessions = nullptr);

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const v1::CheckRequest* request,
                                  v1::CheckResponse* response) override;
  grpc::ServerBidiReactor<v1::CheckRequest, v1::CheckResponse>* CheckStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                    const v1::GetInfoRequest* request,
                                    v1::GetInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetPublicSuffixList(
      grpc::CallbackServerContext* context, const v1::GetPublicSuffixListRequest* request,
      v1::GetPublicSuffixListResponse* response) override;
  // Check sessions (issue 14): Open is admitted like a check of no items.
  grpc::ServerUnaryReactor* OpenCheckSession(grpc::CallbackServerContext* context,
                                             const v1::OpenCheckSessionRequest* request,
                                             v1::OpenCheckSessionResponse* response) override;
  grpc::ServerUnaryReactor* CloseCheckSession(grpc::CallbackServerContext* context,
                                              const v1::CloseCheckSessionRequest* request,
                                              v1::CloseCheckSessionResponse* response) override;

 private:
  const Registry* const registry_;
  CheckWorkers* const workers_;
  CheckAccess* const access_;
  CheckSessions* const sessions_;
  ArenaMessageAllocator<v1::CheckRequest, v1::CheckResponse> check_messages_;
  StreamLimits stream_limits_;
  const MethodMetrics* check_calls_ = nullptr;
  const MethodMetrics* get_info_calls_ = nullptr;
  const MethodMetrics* get_psl_calls_ = nullptr;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_GRPC_SERVICE_H_
