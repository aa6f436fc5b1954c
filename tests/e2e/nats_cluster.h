// File: tests/e2e/nats_cluster.h
//
// NatsCluster runs real nats-server processes (Debian's nats-server 2.9)
// as one JetStream cluster on free loopback ports, each with its own store
// folder under one temp directory, for cluster-mode tests. A server killed
// with Kill() restarts with Start(i) on the same ports and store, as a
// crashed machine would come back.
#ifndef OPTOUT_TESTS_E2E_NATS_CLUSTER_H_
#define OPTOUT_TESTS_E2E_NATS_CLUSTER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace optout::testing {

// Path of nats-server, or "" when it is not installed.
std::string NatsServerBinary();

class NatsCluster final {
 public:
  // size 1: a single JetStream server, not clustered.
  explicit NatsCluster(int size = 3);
  ~NatsCluster();  // kills every server and removes the directory
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts every server; returns once each accepts client connections
  // (JetStream elects its leaders a few seconds later).
  absl::Status StartAll();
  absl::Status Start(int i);
  void Kill(int i);  // SIGKILL and reap
  bool running(int i) const { return pids_[i] > 0; }
  int size() const { return static_cast<int>(pids_.size()); }

  // Index of the server leading JetStream stream `stream` now, -1 when no
  // server answers within a second or none leads (an election).
  int StreamLeader(const std::string& stream) const;

  // "nats://127.0.0.1:P1,nats://127.0.0.1:P2,...", for --cluster_nats.
  std::string Urls() const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::vector<int> client_ports_;
  std::vector<int> route_ports_;
  std::vector<pid_t> pids_;
};

// A loopback TCP port nobody listens on now (bound, then released).
std::vector<int> FreeLoopbackPorts(int count);
// Like FreeLoopbackPorts, but below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), so that no outgoing connection takes one as
// its source port while its server is down: a server killed and restarted
// on the same port can always bind it again.
std::vector<int> QuietLoopbackPorts(int count);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_NATS_CLUSTER_H_
