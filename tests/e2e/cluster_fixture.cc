#include "tests/e2e/cluster_fixture.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace optout::testing {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

OptoutCluster::OptoutCluster(int nodes, std::string stream, std::vector<std::string> extra_flags)
    : nats_(std::make_unique<NatsCluster>(3)),
      stream_(std::move(stream)),
      extra_flags_(std::move(extra_flags)) {
  char tmpl[] = "/tmp/optout-cluster-XXXXXX";
  root_ = mkdtemp(tmpl);
  secret_file_ = root_ + "/registry.secret";
  std::random_device rd;
  std::string secret(32, '\0');
  for (char& c : secret) c = static_cast<char>(rd());
  const int fd = ::open(secret_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  (void)!::write(fd, secret.data(), secret.size());
  ::close(fd);
  node_ports_ = QuietLoopbackPorts(nodes);
  for (int i = 0; i < nodes; ++i) {
    nodes_.push_back(std::make_unique<OptoutdProcess>(NodeFlags(i, secret_file_)));
  }
  registry_stubs_.resize(nodes);
  check_stubs_.resize(nodes);
}

OptoutCluster::~OptoutCluster() {
  nodes_.clear();  // optoutd first: they would only wait for NATS
  nats_.reset();
  std::system(("rm -rf '" + root_ + "'").c_str());
}

std::vector<std::string> OptoutCluster::NodeFlags(int i, const std::string& secret_file) const {
  std::vector<std::string> flags = {"--secret_file=" + secret_file, "--cluster_nats=" + nats_->Urls(),
          "--cluster_stream=" + stream_, absl::StrCat("--node_name=node", i),
          // Fewer threads than a server would use: the test machine runs
          // three nodes and three NATS servers on two cores.
          "--check_threads=2",
          // Fixed ports outside the ephemeral range: a restarted node binds
          // the same port again (the last --listen given wins).
          absl::StrCat("--listen=127.0.0.1:",
                       i < static_cast<int>(node_ports_.size()) ? node_ports_[i] : 0)};
  flags.insert(flags.end(), extra_flags_.begin(), extra_flags_.end());
  return flags;
}

void OptoutCluster::RepairFromPeers() {
  std::string peers;
  for (int i = 0; i < size(); ++i) absl::StrAppend(&peers, i == 0 ? "" : ",", AdminAddress(i));
  for (int i = 0; i < size(); ++i) node(i).AddFlag("--cluster_snapshot_from=" + peers);
}

absl::Status OptoutCluster::Start() {
  absl::Status started = nats_->StartAll();
  if (!started.ok()) return started;
  std::vector<absl::Status> results(nodes_.size());
  std::vector<std::thread> threads;
  for (int i = 0; i < size(); ++i) {
    threads.emplace_back([this, i, &results] { results[i] = nodes_[i]->Start(); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < size(); ++i) {
    if (!results[i].ok()) return results[i];
    Connect(i);
  }
  return absl::OkStatus();
}

absl::Status OptoutCluster::StartNode(int i) {
  absl::Status s = nodes_[i]->Start(/*same_port=*/true);
  if (s.ok() && registry_stubs_[i] == nullptr) Connect(i);
  return s;
}

void OptoutCluster::Connect(int i) {
  // gRPC's reconnect backoff grows to two minutes; a node killed and
  // restarted again and again would then be unreachable long after it is
  // back. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: it is also the connect
  // timeout, and a loaded machine needs more than a few hundred ms.)
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto channel = grpc::CreateCustomChannel(nodes_[i]->address(),
                                           grpc::InsecureChannelCredentials(), args);
  registry_stubs_[i] = v1::Registry::NewStub(channel);
  check_stubs_[i] = v1::Check::NewStub(channel);
}

absl::StatusOr<v1::RegisterResponse> OptoutCluster::Register(int i,
                                                             const v1::RegisterRequest& request,
                                                             absl::Duration deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::RegisterResponse response;
  grpc::Status s = registry_stubs_[i]->Register(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::RevokeResponse> OptoutCluster::Revoke(int i, const std::string& id,
                                                         const std::string& token,
                                                         absl::Duration deadline,
                                                         uint64_t min_version) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::RevokeRequest request;
  request.set_opt_out_id(id);
  request.set_manage_token(token);
  request.set_min_version(min_version);
  v1::RevokeResponse response;
  grpc::Status s = registry_stubs_[i]->Revoke(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<bool> OptoutCluster::Matches(int i, const std::string& url, uint64_t min_version,
                                            absl::Duration deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  v1::CheckRequest request;
  request.add_items()->set_url(url);
  request.set_min_version(min_version);
  v1::CheckResponse response;
  grpc::Status s = check_stubs_[i]->Check(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  if (response.results_size() != 1) return absl::InternalError("one result expected");
  return response.results(0).matched();
}

absl::StatusOr<v1::GetInfoResponse> OptoutCluster::Info(int i) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::GetInfoResponse response;
  grpc::Status s = check_stubs_[i]->GetInfo(&context, v1::GetInfoRequest(), &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

bool OptoutCluster::WaitApplied(int i, uint64_t version, absl::Duration patience) {
  const absl::Time give_up = absl::Now() + patience;
  while (absl::Now() < give_up) {
    absl::StatusOr<v1::GetInfoResponse> info = Info(i);
    if (info.ok() && info->applied_version() >= version) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

}  // namespace optout::testing
