// File: service/server_options.h
//
// Everything optoutd needs to start; main.cc fills it from flags.
#ifndef OPTOUT_SERVICE_SERVER_OPTIONS_H_
#define OPTOUT_SERVICE_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "service/check_sessions.h"
#include "service/cluster/cluster_options.h"
#include "service/pdq_probe_detector.h"
#include "service/registry_options.h"
#include "service/tls_options.h"
#include "service/verify/verify_options.h"

namespace optout::service {

struct ServerOptions {
  // HOST:PORT to listen on; port 0 picks a free port (see port_file).
  // Default: 127.0.0.1:50051.
  std::string listen = "127.0.0.1:50051";
  // Address of the admin service (optout.admin.v1), never the public port.
  // Empty: unix:<data_dir>/admin.sock. A unix socket is made mode 0600, so
  // only the user running optoutd can administer it.
  std::string admin_listen;
  // TLS of the admin listener alone (--admin_tls_cert_file,
  // --admin_tls_key_file, --admin_tls_client_ca_file), e.g. mutual TLS
  // between cluster nodes for snapshots while the public port is plaintext
  // behind a TLS-terminating proxy. Empty: the admin listener uses `tls`.
  TlsServerOptions admin_tls;
  // Items an anonymous peer (IPv4 address or IPv6 /64) may check per minute;
  // 0 refuses anonymous checks. Default: 600.
  int anonymous_items_per_minute = 600;
  // Throttling of PDQ probing per key and anonymous peer
  // (service/pdq_probe_detector.h); limit 0 turns it off.
  PdqProbeOptions pdq_probe;
  // Append-only JSON-lines audit of every call (service/audit_log.h); empty:
  // none. Rotated to FILE.1 .. FILE.<audit_log_keep> at audit_log_max_mb.
  std::string audit_log;
  int audit_log_max_mb = 100;
  int audit_log_keep = 5;
  // HOST:PORT serving Prometheus metrics (GET /metrics) under the same TLS
  // rules as `listen`; port 0 picks a free port. Default: empty (no metrics).
  std::string metrics_listen;
  // RocksDB directory, created if missing. Default: ./data.
  std::string data_dir = "./data";
  // Registry secret (32 bytes, mode 0600), created on first start. Kept
  // apart from the data directory so backups of one do not include the other.
  // Default: DefaultRegistrySecretPath (under $XDG_CONFIG_HOME or ~/.config).
  std::string secret_file;
  // Public Suffix List file; clients sending URL digests need the same one.
  // Default: /usr/share/publicsuffix/public_suffix_list.dat (Debian publicsuffix).
  std::string psl_file;
  // When set, the bound port is written here once the server listens.
  // Default: empty (none).
  std::string port_file;
  // Key rotation (optout-admin rotate-keys): records per synced batch, and
  // a pause between batches to leave the disk to the registry. Defaults:
  // 2000, 0 ms.
  int key_rotation_batch = 2000;
  int key_rotation_pause_ms = 0;
  // Threads running durable writes; more threads = bigger commit groups.
  // Default: 32.
  int write_threads = 32;
  // Threads running checks; <= 0 means one per core. Default: 0.
  int check_threads = 0;
  // Checks that may wait for a check thread; one more is refused with
  // RESOURCE_EXHAUSTED at once. Default: 64.
  int max_queued_checks = 64;
  // Registrations per minute per client address (IPv4, or IPv6 /64), with
  // as many at once; <= 0: unlimited. Default: 60.
  int register_rate_per_peer = 60;
  // Cluster mode: revokes per minute per client address (IPv4, or IPv6 /64)
  // that ask the stream's leader for its last sequence (of an opt-out this
  // node does not hold, before NOT_FOUND; or with a min_version it has not
  // applied), with as many at once; more are refused with
  // RESOURCE_EXHAUSTED. Other revokes, and every revoke on a single node,
  // are not counted. <= 0: unlimited. Default: 60.
  int revoke_catch_up_rate_per_peer = 60;
  // Below this much free space on the data disk, Register is refused;
  // <= 0: no floor. Default: 1024 MB.
  int64_t min_free_disk_mb = 1024;
  // Client connections open at once; more are closed as soon as accepted.
  // 0: derived from RLIMIT_NOFILE (raised to its hard limit at start) minus
  // a reserve. Default: 0.
  int max_connections = 0;
  // A connection with no call for this long is closed. Default: 300.
  int idle_timeout_seconds = 300;
  // Every connection is closed (gracefully, calls get shutdown_grace) after
  // this long, so none is held forever. Default: 3600.
  int max_connection_age_seconds = 3600;
  // Idle connections are pinged this often and closed when no answer comes
  // within 20 s; clients pinging more often than every 10 s are cut off.
  // Default: 60.
  int keepalive_seconds = 60;
  // Concurrent calls (streams) per connection. Default: 100.
  int max_streams_per_connection = 100;
  // Memory gRPC may use for connections and messages in flight (its
  // ResourceQuota), in MiB. Answers waiting for a slow reader are not
  // counted yet: they are bounded per stream and by the idle timeout.
  // Default: 1024.
  int max_memory_mb = 1024;
  // A CheckStream whose answer the client has not taken for this long is
  // cancelled. Default: 30.
  int stream_idle_timeout_seconds = 30;
  // Check sessions and signed receipts (issue 14): how many may be open and
  // how long an idle one lives (--max_check_sessions,
  // --check_session_idle_seconds).
  CheckSessionOptions check_sessions;
  // Largest message received (and sent), in bytes; a larger request is
  // refused by gRPC with RESOURCE_EXHAUSTED before it is parsed. A full
  // 10,000-item batch needs well under 1 MiB (dihedral PDQ: 2.9 MiB).
  // Default: 16 MiB (--max_message_mb).
  int max_message_bytes = 16 << 20;
  // HOST:PORT of the HTTP listener (JSON API and web page, service/http/),
  // with the TLS settings and the loopback rule of `listen`; port 0 picks a
  // free port (see http_port_file). Default: empty (no HTTP listener).
  std::string http_listen;
  // When set, the bound HTTP port is written here. Default: empty (none).
  std::string http_port_file;
  // Folder whose files the HTTP listener serves as the page, read once at
  // start. Default: empty (the page built into optoutd).
  std::string web_root;
  RegistryOptions registry;
  TlsServerOptions tls;
  // Cluster mode (service/cluster/): with NATS URLs, every change goes
  // through a replicated JetStream stream that every node applies. Default:
  // no URLs, a single node.
  cluster::ClusterOptions cluster;
  // How scope challenges are checked (timeouts; the test-only redirections
  // main.cc accepts only with --testing).
  verify::VerifyOptions verify;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SERVER_OPTIONS_H_
