// File: service/admin_service.h
//
// optout.admin.v1.Admin over ApiKeys: the operator's API, registered only on
// the admin listener (--admin_listen), never on the public port. Synchronous
// handlers: calls are rare and each is one small store write at most. Calls
// are counted in the per-call metrics like the public services' (service
// optout.admin.v1.Admin).
#ifndef OPTOUT_SERVICE_ADMIN_SERVICE_H_
#define OPTOUT_SERVICE_ADMIN_SERVICE_H_

#include "optout/admin/v1/admin.grpc.pb.h"
#include "service/api_keys.h"
#include "service/audit_log.h"
#include "service/key_rotation.h"
#include "service/registry.h"
#include "service/rpc_metrics.h"
#include "storage/opt_out_store.h"

namespace optout::service {

// A rotation's progress as the admin API reports it (also this node's part
// of a cluster's status board).
admin::v1::KeyRotationStatus KeyRotationStatusProto(const RotationProgress& progress);

class AdminServiceImpl final : public admin::v1::Admin::Service {
 public:
  // `keys`, `audit` (nullptr: none), `store` and `registry` must outlive
  // the gRPC server; `data_dir` is the store's folder (backups may not go
  // inside it). Calls that change keys are audited (the key name, never
  // the key), and so are backups.
  AdminServiceImpl(ApiKeys* keys, AuditLog* audit, storage::OptOutStore* store,
                   const Registry* registry, KeyRotation* rotation, std::string data_dir,
                   const RpcMetrics* rpc_metrics = nullptr)
      : keys_(keys),
        audit_(audit),
        store_(store),
        registry_(registry),
        rotation_(rotation),
        data_dir_(std::move(data_dir)),
        rpc_metrics_(rpc_metrics) {}

  grpc::Status CreateKey(grpc::ServerContext* context, const admin::v1::CreateKeyRequest* request,
                         admin::v1::CreateKeyResponse* response) override;
  grpc::Status ListKeys(grpc::ServerContext* context, const admin::v1::ListKeysRequest* request,
                        admin::v1::ListKeysResponse* response) override;
  grpc::Status RevokeKey(grpc::ServerContext* context, const admin::v1::RevokeKeyRequest* request,
                         admin::v1::RevokeKeyResponse* response) override;
  grpc::Status GetKeyUsage(grpc::ServerContext* context,
                           const admin::v1::GetKeyUsageRequest* request,
                           admin::v1::GetKeyUsageResponse* response) override;
  grpc::Status Backup(grpc::ServerContext* context, const admin::v1::BackupRequest* request,
                      admin::v1::BackupResponse* response) override;
  grpc::Status RotateKeys(grpc::ServerContext* context,
                          const admin::v1::RotateKeysRequest* request,
                          admin::v1::KeyRotationStatus* response) override;
  grpc::Status GetKeyRotation(grpc::ServerContext* context,
                              const admin::v1::GetKeyRotationRequest* request,
                              admin::v1::KeyRotationStatus* response) override;
  grpc::Status GetSnapshot(grpc::ServerContext* context,
                           const admin::v1::GetSnapshotRequest* request,
                           grpc::ServerWriter<admin::v1::SnapshotChunk>* writer) override;

 private:
  void Audit(const grpc::ServerContext* context, absl::string_view method,
             absl::string_view target_key, const absl::Status& status) const;
  // Starts timing a call of `method` into the per-call metrics (none when
  // they are off); Timed(...).Done(status) at its end.
  CallTimer Timed(absl::string_view method) const;
  static grpc::Status Done(const CallTimer& timer, grpc::Status status) {
    timer.Done(status.error_code());
    return status;
  }

  ApiKeys* const keys_;
  AuditLog* const audit_;
  storage::OptOutStore* const store_;
  const Registry* const registry_;
  KeyRotation* const rotation_;
  const std::string data_dir_;
  const RpcMetrics* const rpc_metrics_;  // null: no metrics
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_ADMIN_SERVICE_H_
