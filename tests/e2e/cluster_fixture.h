// File: tests/e2e/cluster_fixture.h
//
// OptoutCluster: a 3-node JetStream cluster (NatsCluster) and N optoutd
// nodes in cluster mode on it, all on free loopback ports and sharing one
// registry secret, with gRPC stubs to each node. Everything is killed and
// removed when it goes.
#ifndef OPTOUT_TESTS_E2E_CLUSTER_FIXTURE_H_
#define OPTOUT_TESTS_E2E_CLUSTER_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/nats_cluster.h"
#include "tests/e2e/optoutd_process.h"

namespace optout::testing {

class OptoutCluster final {
 public:
  // `extra_flags` go to every node (e.g. --cluster_max_messages).
  explicit OptoutCluster(int nodes = 3, std::string stream = "OPTOUT_TEST",
                         std::vector<std::string> extra_flags = {});
  ~OptoutCluster();

  // Starts the NATS servers, then the optoutd nodes (in parallel).
  absl::Status Start();
  // Starts node i again (same data and port) after Kill/Stop. Its stubs
  // stay the same (other threads may be calling through them): their
  // channel reconnects within half a second once the node listens.
  absl::Status StartNode(int i);
  // Flags of node i (for a node started by hand on the same cluster).
  std::vector<std::string> NodeFlags(int i, const std::string& secret_file) const;

  NatsCluster& nats() { return *nats_; }
  OptoutdProcess& node(int i) { return *nodes_[i]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  v1::Registry::Stub& registry(int i) { return *registry_stubs_[i]; }
  v1::Check::Stub& check(int i) { return *check_stubs_[i]; }
  const std::string& secret_file() const { return secret_file_; }

  // Register / Revoke / Check / GetInfo on node i with a deadline.
  absl::StatusOr<v1::RegisterResponse> Register(int i, const v1::RegisterRequest& request,
                                                absl::Duration deadline = absl::Seconds(15));
  absl::StatusOr<v1::RevokeResponse> Revoke(int i, const std::string& id, const std::string& token,
                                            absl::Duration deadline = absl::Seconds(15),
                                            uint64_t min_version = 0);
  // Whether `url` matches on node i (waiting for min_version when not 0).
  absl::StatusOr<bool> Matches(int i, const std::string& url, uint64_t min_version = 0,
                               absl::Duration deadline = absl::Seconds(10));
  absl::StatusOr<v1::GetInfoResponse> Info(int i);
  // Node i's admin address (its default unix socket), for --cluster_snapshot_from.
  std::string AdminAddress(int i) { return "unix:" + nodes_[i]->data_dir() + "/admin.sock"; }
  // Before Start: a node that finds its history diverged from the stream's
  // exits and, restarted, takes a snapshot from one of its peers
  // (--cluster_snapshot_from naming every node's admin address).
  void RepairFromPeers();
  // Waits until node i has applied `version`; false after `patience`.
  bool WaitApplied(int i, uint64_t version, absl::Duration patience);

 private:
  void Connect(int i);

  std::unique_ptr<NatsCluster> nats_;
  std::string stream_;
  std::vector<std::string> extra_flags_;
  std::string root_;
  std::string secret_file_;
  std::vector<int> node_ports_;  // below the ephemeral range (QuietLoopbackPorts)
  std::vector<std::unique_ptr<OptoutdProcess>> nodes_;
  std::vector<std::unique_ptr<v1::Registry::Stub>> registry_stubs_;
  std::vector<std::unique_ptr<v1::Check::Stub>> check_stubs_;
};

// grpc::Status as absl::Status (code and message).
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_CLUSTER_FIXTURE_H_
