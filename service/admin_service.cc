#include "service/admin_service.h"

#include "absl/time/clock.h"
#include "absl/strings/str_cat.h"
#include "service/backup_dir.h"
#include "service/log.h"
#include "service/snapshot_files.h"
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

CallTimer AdminServiceImpl::Timed(absl::string_view method) const {
  return CallTimer(rpc_metrics_ != nullptr
                       ? rpc_metrics_->Find(admin::v1::Admin::service_full_name(), method)
                       : nullptr);
}

grpc::Status AdminServiceImpl::CreateKey(grpc::ServerContext* context,
                                         const admin::v1::CreateKeyRequest* request,
                                         admin::v1::CreateKeyResponse* response) {
  const CallTimer timer = Timed("CreateKey");
  auto result = keys_->Create(*request, absl::Now());
  if (result.ok()) *response = std::move(*result);
  Audit(context, "admin.CreateKey", request->name(), result.status());
  return Done(timer, ToGrpcStatus(result.status()));
}

grpc::Status AdminServiceImpl::ListKeys(grpc::ServerContext* /*context*/,
                                        const admin::v1::ListKeysRequest* /*request*/,
                                        admin::v1::ListKeysResponse* response) {
  const CallTimer timer = Timed("ListKeys");
  *response = keys_->List();
  return Done(timer, grpc::Status::OK);
}

grpc::Status AdminServiceImpl::RevokeKey(grpc::ServerContext* context,
                                         const admin::v1::RevokeKeyRequest* request,
                                         admin::v1::RevokeKeyResponse* /*response*/) {
  const CallTimer timer = Timed("RevokeKey");
  const absl::Status status = keys_->Revoke(request->name());
  Audit(context, "admin.RevokeKey", request->name(), status);
  return Done(timer, ToGrpcStatus(status));
}

grpc::Status AdminServiceImpl::GetKeyUsage(grpc::ServerContext* /*context*/,
                                           const admin::v1::GetKeyUsageRequest* request,
                                           admin::v1::GetKeyUsageResponse* response) {
  const CallTimer timer = Timed("GetKeyUsage");
  auto result = keys_->Usage(request->name());
  if (result.ok()) *response = std::move(*result);
  return Done(timer, ToGrpcStatus(result.status()));
}

grpc::Status AdminServiceImpl::Backup(grpc::ServerContext* context,
                                      const admin::v1::BackupRequest* request,
                                      admin::v1::BackupResponse* response) {
  const CallTimer timer = Timed("Backup");
  const size_t opt_outs = registry_->opt_out_count();
  absl::StatusOr<std::string> dir = PrepareBackupDir(request->to_dir(), data_dir_);
  absl::StatusOr<storage::BackupSummary> backup =
      dir.ok() ? store_->Backup(*dir) : absl::StatusOr<storage::BackupSummary>(dir.status());
  if (backup.ok()) {
    response->set_backup_id(backup->id);
    response->set_created_unix_seconds(backup->unix_seconds);
    response->set_bytes(backup->bytes);
    response->set_files(backup->files);
    response->set_opt_outs(opt_outs);
    Log(LogLevel::kInfo, absl::StrCat("backup ", backup->id, " written: ", backup->files,
                                      " files, ", backup->bytes, " bytes"));
  }
  Audit(context, "admin.Backup", "", backup.status());
  return Done(timer, ToGrpcStatus(backup.status()));
}

grpc::Status AdminServiceImpl::GetSnapshot(grpc::ServerContext* context,
                                           const admin::v1::GetSnapshotRequest* /*request*/,
                                           grpc::ServerWriter<admin::v1::SnapshotChunk>* writer) {
  const CallTimer timer = Timed("GetSnapshot");
  uint64_t bytes = 0;
  absl::Status sent = SendSnapshot(store_, data_dir_, [&](const admin::v1::SnapshotChunk& chunk) {
    bytes += chunk.data().size();
    return !context->IsCancelled() && writer->Write(chunk);
  });
  Log(sent.ok() ? LogLevel::kInfo : LogLevel::kWarning,
      absl::StrCat("snapshot for ", context->peer(), ": ",
                   sent.ok() ? absl::StrCat(bytes, " bytes sent") : sent.ToString()));
  Audit(context, "admin.GetSnapshot", "", sent);
  return Done(timer, ToGrpcStatus(sent));
}

admin::v1::KeyRotationStatus KeyRotationStatusProto(const RotationProgress& p) {
  admin::v1::KeyRotationStatus out;
  switch (p.state) {
    case RotationProgress::State::kIdle: out.set_state(admin::v1::KeyRotationStatus::STATE_IDLE); break;
    case RotationProgress::State::kRunning: out.set_state(admin::v1::KeyRotationStatus::STATE_RUNNING); break;
    case RotationProgress::State::kFailed: out.set_state(admin::v1::KeyRotationStatus::STATE_FAILED); break;
    case RotationProgress::State::kDone: out.set_state(admin::v1::KeyRotationStatus::STATE_DONE); break;
  }
  out.set_from_version(p.from_version);
  out.set_to_version(p.to_version);
  out.set_secret_file(p.secret_file);
  out.set_rekeyed(p.rekeyed);
  out.set_fraction_done(p.fraction_done);
  out.set_opt_outs(p.opt_outs);
  out.set_started_unix_seconds(p.started_unix_seconds);
  out.set_finished_unix_seconds(p.finished_unix_seconds);
  out.set_records_per_second(p.records_per_second);
  out.set_error(p.error);
  return out;
}

namespace {

// This node's status, with every node's from the cluster's status board
// (server.cc shares this node's part there).
admin::v1::KeyRotationStatus WithNodes(admin::v1::KeyRotationStatus status,
                                       const Registry& registry) {
  const LogProgress progress = registry.mutation_log().Progress();
  status.set_node_name(progress.node_name);
  for (const NodeStatus& node : registry.mutation_log().SharedStatuses()) {
    admin::v1::KeyRotationStatus* part = status.add_nodes();
    if (!part->ParseFromString(node.status)) {
      part->Clear();
      part->set_error("status does not parse (another optoutd version?)");
    }
    part->set_node_name(node.node_name);
    part->set_reported_unix_seconds(absl::ToUnixSeconds(node.reported));
  }
  return status;
}

}  // namespace

grpc::Status AdminServiceImpl::RotateKeys(grpc::ServerContext* context,
                                          const admin::v1::RotateKeysRequest* request,
                                          admin::v1::KeyRotationStatus* response) {
  const CallTimer timer = Timed("RotateKeys");
  absl::StatusOr<RotationProgress> started = rotation_->Start(
      request->new_secret_file(), static_cast<size_t>(keys_->List().keys_size()));
  if (started.ok()) *response = WithNodes(KeyRotationStatusProto(*started), *registry_);
  Audit(context, "admin.RotateKeys", "", started.status());
  return Done(timer, ToGrpcStatus(started.status()));
}

grpc::Status AdminServiceImpl::GetKeyRotation(grpc::ServerContext* /*context*/,
                                              const admin::v1::GetKeyRotationRequest* /*request*/,
                                              admin::v1::KeyRotationStatus* response) {
  const CallTimer timer = Timed("GetKeyRotation");
  *response = WithNodes(KeyRotationStatusProto(rotation_->Status()), *registry_);
  return Done(timer, grpc::Status::OK);
}

}  // namespace optout::service
