// File: service/cluster/cluster_options.h
//
// How an optoutd node joins a cluster (--cluster_nats and friends).
#ifndef OPTOUT_SERVICE_CLUSTER_CLUSTER_OPTIONS_H_
#define OPTOUT_SERVICE_CLUSTER_CLUSTER_OPTIONS_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace optout::service::cluster {

struct ClusterOptions {
  // NATS server URLs (nats://HOST:PORT); empty: single node, no cluster.
  std::vector<std::string> nats_urls;
  // JetStream stream holding the mutations (letters, digits, - and _).
  // Default: OPTOUT_MUTATIONS.
  std::string stream = "OPTOUT_MUTATIONS";
  // This node's name in logs and GetInfo. Default: the host name.
  std::string node_name;
  // Replicas of the stream when this node creates it (1..5; JetStream
  // needs that many servers). Default: 3.
  int replicas = 3;
  // Messages the stream keeps (oldest dropped beyond it); 0: unlimited. A
  // node further behind than this cannot catch up from the stream.
  // Default: 0.
  int64_t max_messages = 0;
  // PEM CA bundle to verify the NATS servers' TLS certificates; empty: the
  // URLs decide (tls:// uses the system roots). Default: empty.
  std::string nats_ca_file;
  // NATS credentials file (JWT and NKey seed); empty: none. Default: empty.
  std::string nats_creds_file;
  // Admin addresses of peers (e.g. unix:/var/lib/optout/admin.sock or
  // HOST:PORT of their --admin_listen) to take a snapshot from when the
  // stream no longer holds the history this node needs; tried in order.
  // Empty: such a node refuses to start. Default: empty.
  std::vector<std::string> snapshot_from;
  // How long a write may wait for the stream's acknowledgement and for
  // this node to apply it before it fails with UNAVAILABLE. Default: 10 s.
  absl::Duration commit_timeout = absl::Seconds(10);
  // Raised by optoutd when a signal asks it to stop during start-up: the
  // waits for NATS, the stream and the catch-up give up with CANCELLED
  // instead of holding the process for up to a minute. Null: never.
  const std::atomic<bool>* stop_starting = nullptr;
};

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_CLUSTER_OPTIONS_H_
