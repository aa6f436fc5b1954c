#include "service/snapshot_bootstrap.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "optout/admin/v1/admin.grpc.pb.h"
#include "service/cluster/progress.h"
#include "service/log.h"
#include "service/snapshot_files.h"
#include "storage/opt_out_store.h"

namespace optout::service {
namespace {

absl::StatusOr<std::string> ReadWhole(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> PeerCredentials(
    const std::string& peer, const TlsServerOptions& tls) {
  if (absl::StartsWith(peer, "unix:") || !tls.enabled()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  OPTOUT_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadWhole(tls.cert_file, "--tls_cert_file"));
  OPTOUT_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadWhole(tls.key_file, "--tls_key_file"));
  if (!tls.client_ca_file.empty()) {
    OPTOUT_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                            ReadWhole(tls.client_ca_file, "--tls_client_ca_file"));
  }
  return grpc::SslCredentials(ssl);
}

// Streams one peer's snapshot into <data_dir>/snapshot.incoming.
absl::Status Fetch(const std::string& peer, const TlsServerOptions& tls,
                   const std::string& data_dir, absl::Duration patience, uint64_t* bytes) {
  OPTOUT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                          PeerCredentials(peer, tls));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);
  auto stub = admin::v1::Admin::NewStub(grpc::CreateCustomChannel(peer, credentials, args));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + patience));
  std::unique_ptr<grpc::ClientReader<admin::v1::SnapshotChunk>> reader =
      stub->GetSnapshot(&context, admin::v1::GetSnapshotRequest());
  SnapshotReceiver receiver(data_dir);
  OPTOUT_RETURN_IF_ERROR(receiver.Begin());
  admin::v1::SnapshotChunk chunk;
  absl::Status received = absl::DataLossError("the snapshot stream ended without its last message");
  while (reader->Read(&chunk)) {
    if (chunk.done()) {
      received = receiver.Finish(chunk);
      break;
    }
    *bytes += chunk.data().size();
    received = receiver.Add(chunk);
    if (!received.ok()) break;
    received = absl::DataLossError("the snapshot stream ended without its last message");
  }
  if (!received.ok()) context.TryCancel();
  const grpc::Status finished = reader->Finish();
  if (!finished.ok()) {
    return absl::UnavailableError(
        absl::StrCat("GetSnapshot from ", peer, ": ", finished.error_message()));
  }
  return received;
}

// Opens the received copy as the store it will be: it must open and name
// the stream sequence it applied.
absl::StatusOr<uint64_t> CheckReceived(const std::string& dir) {
  OPTOUT_ASSIGN_OR_RETURN(std::unique_ptr<storage::OptOutStore> store,
                          storage::OptOutStore::Open(dir, storage::StoreOptions()));
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> stored, store->GetProgress());
  if (!stored.has_value()) {
    return absl::FailedPreconditionError("the peer's snapshot holds no cluster progress");
  }
  OPTOUT_ASSIGN_OR_RETURN(cluster::Progress progress, cluster::Progress::Decode(*stored));
  return progress.sequence;
}

}  // namespace

absl::StatusOr<uint64_t> BootstrapFromPeerSnapshot(const std::vector<std::string>& peers,
                                                   const TlsServerOptions& tls,
                                                   const std::string& data_dir,
                                                   absl::Duration patience) {
  absl::Status last = absl::UnavailableError("no peer named in --cluster_snapshot_from");
  for (const std::string& peer : peers) {
    const absl::Time start = absl::Now();
    uint64_t bytes = 0;
    absl::Status fetched = Fetch(peer, tls, data_dir, patience, &bytes);
    absl::StatusOr<uint64_t> sequence =
        fetched.ok() ? CheckReceived(SnapshotReceiver(data_dir).incoming_dir())
                     : absl::StatusOr<uint64_t>(fetched);
    if (sequence.ok()) {
      OPTOUT_RETURN_IF_ERROR(MarkSnapshotComplete(data_dir));
      OPTOUT_RETURN_IF_ERROR(InstallPendingSnapshot(data_dir));
      Log(LogLevel::kInfo,
          absl::StrCat("cluster: installed the snapshot of ", peer, " (", bytes, " bytes in ",
                       absl::FormatDuration(absl::Now() - start), ", stream sequence ", *sequence,
                       ")"));
      return *sequence;
    }
    last = sequence.status();
    Log(LogLevel::kWarning,
        absl::StrCat("cluster: no snapshot from ", peer, ": ", last.ToString()));
    (void)InstallPendingSnapshot(data_dir);  // discards the incomplete copy
  }
  return absl::UnavailableError(
      absl::StrCat("cluster: no peer in --cluster_snapshot_from gave a snapshot; last: ",
                   last.message()));
}

}  // namespace optout::service
