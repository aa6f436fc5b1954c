// File: service/snapshot_bootstrap.h
//
// A cluster node whose needed history the stream no longer holds takes a
// peer's snapshot (Admin.GetSnapshot) before it starts (issue 13): the
// peers' admin addresses come from --cluster_snapshot_from and are reached
// as the admin surface is everywhere (unix socket, loopback, or mutual TLS
// with this node's --tls_cert_file/--tls_key_file as client certificate and
// --tls_client_ca_file as the CA of the peers' certificates).
#ifndef OPTOUT_SERVICE_SNAPSHOT_BOOTSTRAP_H_
#define OPTOUT_SERVICE_SNAPSHOT_BOOTSTRAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/tls_options.h"

namespace optout::service {

// Fetches a snapshot from the first peer that gives one, checks that it
// opens and holds applied cluster progress, and installs it in place of the
// database in `data_dir` (which must not be open). Returns the stream
// sequence the snapshot holds. Each peer gets `patience`; Unavailable when
// none gave a whole snapshot (the old database is then left as it was).
absl::StatusOr<uint64_t> BootstrapFromPeerSnapshot(const std::vector<std::string>& peers,
                                                   const TlsServerOptions& tls,
                                                   const std::string& data_dir,
                                                   absl::Duration patience);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SNAPSHOT_BOOTSTRAP_H_
