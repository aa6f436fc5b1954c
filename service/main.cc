// optoutd: the opt-out registry server.
//
//   optoutd [--listen=127.0.0.1:50051] [--data_dir=./data]
//           [--secret_file=~/.config/optoutd/registry.secret] [--pdq_threshold=31]
//           [--max_batch_items=10000] [limits: see --help]
//           [--tls_cert_file=F --tls_key_file=F [--tls_client_ca_file=F]]
//           [--metrics_listen=127.0.0.1:9464]
//           [--http_listen=127.0.0.1:8080 [--web_root=DIR]]
//           [--cluster_nats=nats://H1:P1,... [--cluster_stream=NAME] [--node_name=NAME]]
//
// Serves optout.v1.Registry and optout.v1.Check over gRPC (plus the standard
// health service and server reflection) from an embedded RocksDB in
// --data_dir, and the operator's optout.admin.v1.Admin (API keys) on its own
// --admin_listen (default: unix socket <data_dir>/admin.sock, mode 0600).
// Checks need an API key (authorization: Bearer KEY) beyond a small
// anonymous budget per peer (--anonymous_items_per_minute); PDQ checks of a
// key or peer found probing for stored hashes pause (--pdq_probe_*);
// --audit_log keeps one JSON line per call. With --http_listen the same methods are
// served as JSON over HTTP, with the web page. The registry secret is created on first
// start; back it up separately, since without it the stored data can never
// match again.
// Every file optoutd creates is private (umask 077: folders 0700, files
// 0600). Plaintext only on loopback unless --allow_insecure; otherwise TLS,
// with client certificates when --tls_client_ca_file is set. SIGHUP re-reads
// the TLS files without dropping connections. SIGTERM / SIGINT: graceful
// shutdown. Logs go to stderr and never contain URLs, hashes or tokens.
// --metrics_listen serves Prometheus metrics over HTTP(S) at /metrics.
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/time/time.h"
#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/common/base/version.h"
#include "client/common/protocol/pdq_quality.h"
#include "service/log.h"
#include "service/huge_pages.h"
#include "service/server.h"
#include "service/startup_signal_watcher.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "address to serve on, HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, admin_listen, "", "address of the admin service optout.admin.v1 (optout-admin), never the public port (default: unix:<data_dir>/admin.sock, mode 0600)");
ABSL_FLAG(int, anonymous_items_per_minute, 600, "items a peer (IPv4 address or IPv6 /64) may check per minute without an API key; 0 refuses anonymous checks");
ABSL_FLAG(int, pdq_probe_limit, 64, "PDQ probing: a key or anonymous peer whose PDQ queries lying within --pdq_probe_distance bits of one another grow by more than this many per --pdq_probe_window is probing for a stored hash; its PDQ checks are refused for --pdq_probe_throttle (RESOURCE_EXHAUSTED, audit event pdq_probing); 0: no detection");
ABSL_FLAG(int, pdq_probe_distance, 64, "PDQ probing: queries within this many bits of one another count as one group (about 2 x --pdq_threshold + 2), 1..128");
ABSL_FLAG(absl::Duration, pdq_probe_window, absl::Hours(24), "PDQ probing: a group of near queries may grow by --pdq_probe_limit per this long");
ABSL_FLAG(absl::Duration, pdq_probe_throttle, absl::Hours(1), "PDQ probing: how long a key or peer found probing may not check PDQ hashes");
ABSL_FLAG(std::string, audit_log, "", "append one JSON line per call to this file (time, key name or peer, method, items and matches by kind, status; never a URL, hash or token); default: no audit log");
ABSL_FLAG(int, audit_log_max_mb, 100, "rotate --audit_log at this size, MiB (FILE.1 is the newest old file)");
ABSL_FLAG(int, audit_log_keep, 5, "rotated --audit_log files kept (FILE.1 .. FILE.N)");
ABSL_FLAG(std::string, metrics_listen, "", "HOST:PORT serving Prometheus metrics at /metrics, with the same TLS and loopback rules as --listen (port 0: any free port; empty: no metrics)");
ABSL_FLAG(std::string, data_dir, "./data", "RocksDB data directory (created if missing)");
ABSL_FLAG(int, key_rotation_batch, 2000, "key rotation (optout-admin rotate-keys): records re-keyed per synced batch");
ABSL_FLAG(int, key_rotation_pause_ms, 0, "key rotation: pause between batches, to leave the disk to the registry (0: none)");
ABSL_FLAG(std::string, secret_file, "", "registry secret file, 32 bytes, mode 0600, created on first start (default: $XDG_CONFIG_HOME or ~/.config, then /optoutd/registry.secret; apart from the data)");
ABSL_FLAG(int, token_retry_hours, 24, "a sealed copy of each manage token is kept this long so that retried registrations get the same token, then erased");
ABSL_FLAG(absl::Duration, pending_scope_expiry, absl::Hours(7 * 24), "a host or directory scope matches nothing until its host is proven (HTTPS file or DNS TXT record, `optout verify`); unproven scopes expire this long after registration");
ABSL_FLAG(absl::Duration, scope_recheck_interval, absl::Hours(30 * 24), "proven scopes are checked again this often; a scope whose proof is gone lapses (stops matching) until verified again");
ABSL_FLAG(absl::Duration, verify_timeout, absl::Seconds(5), "bound on one scope challenge check (HTTPS, then DNS), connection to answer");
ABSL_FLAG(bool, testing, false, "allow the test-only flags below; never in production (also lets challenge checks reach loopback and private addresses)");
ABSL_FLAG(std::vector<std::string>, verify_resolve, {}, "test only (needs --testing): HOST=IP:PORT, fetch HOST's HTTPS challenge from IP:PORT; comma-separated");
ABSL_FLAG(std::string, verify_dns, "", "test only (needs --testing): IP:PORT of the DNS server asked for TXT challenges (default: first nameserver of /etc/resolv.conf)");
ABSL_FLAG(std::string, verify_ca, "", "test only (needs --testing): PEM CA file trusted for HTTPS challenges instead of the system store");
ABSL_FLAG(int, pdq_threshold, 31, "PDQ match distance, 0..63 bits of 256");
ABSL_FLAG(int, max_batch_items, 10000, "largest number of items in one Check batch or registration");
ABSL_FLAG(int, min_pdq_quality, optout::protocol::kDefaultMinPdqQuality,
          "PDQ hashes with a lower reported quality are refused, unless at least "
          "--low_quality_pdq_floor (then low-quality)");
ABSL_FLAG(int, low_quality_pdq_floor, optout::protocol::kDefaultLowQualityPdqFloor,
          "PDQ hashes of quality from this up to --min_pdq_quality - 1 form the low-quality "
          "tier (registered and checked, matched within --low_quality_pdq_distance); lower "
          "ones are refused; 1..100 (>= --min_pdq_quality: no such tier)");
ABSL_FLAG(int, low_quality_pdq_distance, optout::protocol::kDefaultLowQualityPdqDistance,
          "PDQ match distance of pairs with a low-quality side, 0..--pdq_threshold bits");
ABSL_FLAG(std::string, psl_file, "", "Public Suffix List file (default: Debian's /usr/share/publicsuffix/public_suffix_list.dat)");
ABSL_FLAG(int, check_threads, 0, "threads running checks (0: one per core)");
ABSL_FLAG(int, max_queued_checks, 64, "checks that may wait for a check thread; more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, register_rate_per_peer, 60, "registrations per minute per client address (IPv4, or IPv6 /64), as many at once; 0: unlimited");
ABSL_FLAG(int, revoke_catch_up_rate_per_peer, 60, "cluster mode: revokes per minute per client address (IPv4, or IPv6 /64) that ask the stream's leader for its last sequence (of an opt-out this node does not hold, before NOT_FOUND; or with a min_version it has not applied), as many at once; more are refused with RESOURCE_EXHAUSTED; 0: unlimited");
ABSL_FLAG(int64_t, min_free_disk_mb, 1024, "below this free space (MB) on the data disk, Register is refused with RESOURCE_EXHAUSTED; checks go on; 0: no floor");
ABSL_FLAG(int, max_connections, 0, "client connections open at once, more are closed at once (0: RLIMIT_NOFILE, raised to its hard limit, minus a reserve)");
ABSL_FLAG(int, idle_timeout_seconds, 300, "close a connection that has had no call for this long");
ABSL_FLAG(int, max_connection_age_seconds, 3600, "close every connection (gracefully) after this long");
ABSL_FLAG(int, keepalive_seconds, 60, "ping idle connections this often, close them when no answer comes in 20 s; clients may ping at most every 10 s");
ABSL_FLAG(int, max_streams_per_connection, 100, "concurrent calls (HTTP/2 streams) per connection");
ABSL_FLAG(int, max_memory_mb, 1024, "memory budget, MiB: two fifths for connections and messages being read (gRPC ResourceQuota), two fifths for answers waiting for their reader, one fifth for untracked overhead");
ABSL_FLAG(int, stream_idle_timeout_seconds, 30, "cancel a CheckStream whose answer the client has not read for this long");
ABSL_FLAG(int, max_check_sessions, 256, "check sessions (signed receipts) open at once; each caller may hold 8");
ABSL_FLAG(int, check_session_idle_seconds, 600, "forget a check session nothing was checked in for this long");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once listening");
ABSL_FLAG(int, max_message_mb, 16, "largest request message accepted, in MiB (1..1024)");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate chain: serve TLS (with --tls_key_file); re-read on SIGHUP");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file; re-read on SIGHUP");
ABSL_FLAG(std::string, admin_tls_cert_file, "", "TLS certificate chain (PEM) of the admin listener alone; with --admin_tls_key_file and --admin_tls_client_ca_file: mutual TLS on --admin_listen whatever the public port uses (default: the --tls_* files)");
ABSL_FLAG(std::string, admin_tls_key_file, "", "private key (PEM) for --admin_tls_cert_file");
ABSL_FLAG(std::string, admin_tls_client_ca_file, "", "PEM CA bundle the admin listener's clients need certificates from (and, in cluster mode, that signs the peers' admin certificates for --cluster_snapshot_from)");
ABSL_FLAG(std::string, tls_client_ca_file, "", "PEM CA bundle: require client certificates signed by it (mutual TLS); re-read on SIGHUP");
ABSL_FLAG(bool, allow_insecure, false, "serve plaintext on a --listen address reachable from the network");
ABSL_FLAG(std::string, log_format, "text", "log lines on stderr: text (for people) or json (one object per line)");
ABSL_FLAG(std::string, http_listen, "", "also serve the JSON API and the web page over HTTP on HOST:PORT (same TLS flags and loopback rule as --listen; port 0: any free port); off when empty");
ABSL_FLAG(std::string, http_port_file, "", "write the bound HTTP port to this file once listening");
ABSL_FLAG(std::string, web_root, "", "serve the web page from this folder (read at start) instead of the copy built into optoutd");
ABSL_FLAG(std::string, cluster_nats, "", "cluster mode: comma-separated NATS server URLs (nats://HOST:PORT,...); every Register and Revoke goes through a replicated JetStream stream that every node applies; empty: a single node");
ABSL_FLAG(std::string, cluster_stream, "OPTOUT_MUTATIONS", "cluster mode: name of the JetStream stream of mutations (created with 3 replicas if missing)");
ABSL_FLAG(std::string, node_name, "", "cluster mode: this node's name in logs and GetInfo (default: the host name)");
ABSL_FLAG(int, cluster_replicas, 3, "cluster mode: replicas of the stream when this node creates it (JetStream needs that many servers)");
ABSL_FLAG(int64_t, cluster_max_messages, 0, "cluster mode: mutations the stream keeps, oldest dropped first (0: all); a node further behind takes a peer's snapshot (--cluster_snapshot_from)");
ABSL_FLAG(std::string, cluster_snapshot_from, "", "cluster mode: comma-separated admin addresses of peers (unix:PATH or HOST:PORT of their --admin_listen) to take a snapshot from when the stream no longer holds the history this node needs; empty: such a node refuses to start");
ABSL_FLAG(std::string, cluster_nats_ca_file, "", "cluster mode: PEM CA bundle to verify the NATS servers' TLS certificates (turns TLS on)");
ABSL_FLAG(std::string, cluster_nats_creds_file, "", "cluster mode: NATS credentials file (user JWT and NKey seed)");
ABSL_FLAG(int, shutdown_grace_seconds, 10, "on SIGTERM, how long in-flight calls may take to finish");

int main(int argc, char** argv) {
  optout::service::UseHugePagesForMalloc(argv);
  optout::service::KeepCheckBuffersOnHeap();
  // --help lists the flags defined in this file (absl would look for a file
  // named after the binary, and find none); --version prints the project's.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "service/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] { return absl::StrCat("optoutd ", optout::kVersion, "\n"); };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "the opt-out registry server.\n\n"
      "  optoutd [--listen=127.0.0.1:50051] [--data_dir=./data] [flags below]\n\n"
      "--helpfull also lists the flags of the libraries it is built on.");
  absl::ParseCommandLine(argc, argv);
  // RocksDB creates its files with the process umask; opt-out data is
  // nobody else's business, whatever umask optoutd was started with.
  ::umask(077);
  // A peer that closes its socket while an answer is written must cost an
  // error on that connection (EPIPE), not the process: OpenSSL writes to the
  // HTTP listener's TLS sockets without MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);

  optout::service::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  options.anonymous_items_per_minute = absl::GetFlag(FLAGS_anonymous_items_per_minute);
  options.audit_log = absl::GetFlag(FLAGS_audit_log);
  options.pdq_probe.limit = absl::GetFlag(FLAGS_pdq_probe_limit);
  options.pdq_probe.distance = absl::GetFlag(FLAGS_pdq_probe_distance);
  options.pdq_probe.window = absl::GetFlag(FLAGS_pdq_probe_window);
  options.pdq_probe.throttle = absl::GetFlag(FLAGS_pdq_probe_throttle);
  if (options.pdq_probe.limit < 0 || options.pdq_probe.distance < 1 ||
      options.pdq_probe.distance > 128 || options.pdq_probe.window <= absl::ZeroDuration() ||
      options.pdq_probe.throttle < absl::ZeroDuration()) {
    std::fprintf(stderr,
                 "optoutd: --pdq_probe_limit must be >= 0, --pdq_probe_distance 1..128, "
                 "--pdq_probe_window > 0 and --pdq_probe_throttle >= 0\n");
    return 2;
  }
  options.audit_log_max_mb = absl::GetFlag(FLAGS_audit_log_max_mb);
  options.audit_log_keep = absl::GetFlag(FLAGS_audit_log_keep);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.secret_file = absl::GetFlag(FLAGS_secret_file);
  options.key_rotation_batch = absl::GetFlag(FLAGS_key_rotation_batch);
  options.key_rotation_pause_ms = absl::GetFlag(FLAGS_key_rotation_pause_ms);
  options.psl_file = absl::GetFlag(FLAGS_psl_file);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.http_port_file = absl::GetFlag(FLAGS_http_port_file);
  options.web_root = absl::GetFlag(FLAGS_web_root);
  options.check_threads = absl::GetFlag(FLAGS_check_threads);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.idle_timeout_seconds = absl::GetFlag(FLAGS_idle_timeout_seconds);
  options.max_connection_age_seconds = absl::GetFlag(FLAGS_max_connection_age_seconds);
  options.keepalive_seconds = absl::GetFlag(FLAGS_keepalive_seconds);
  options.max_streams_per_connection = absl::GetFlag(FLAGS_max_streams_per_connection);
  options.max_memory_mb = absl::GetFlag(FLAGS_max_memory_mb);
  options.stream_idle_timeout_seconds = absl::GetFlag(FLAGS_stream_idle_timeout_seconds);
  options.check_sessions.max_open = std::max(1, absl::GetFlag(FLAGS_max_check_sessions));
  options.check_sessions.idle_timeout =
      absl::Seconds(std::max(1, absl::GetFlag(FLAGS_check_session_idle_seconds)));
  options.register_rate_per_peer = absl::GetFlag(FLAGS_register_rate_per_peer);
  options.revoke_catch_up_rate_per_peer = absl::GetFlag(FLAGS_revoke_catch_up_rate_per_peer);
  options.min_free_disk_mb = absl::GetFlag(FLAGS_min_free_disk_mb);
  options.max_queued_checks = absl::GetFlag(FLAGS_max_queued_checks);
  options.registry.token_retry_seconds = int64_t{3600} * absl::GetFlag(FLAGS_token_retry_hours);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.admin_tls.cert_file = absl::GetFlag(FLAGS_admin_tls_cert_file);
  options.admin_tls.key_file = absl::GetFlag(FLAGS_admin_tls_key_file);
  options.admin_tls.client_ca_file = absl::GetFlag(FLAGS_admin_tls_client_ca_file);
  options.tls.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  options.registry.pdq_threshold = absl::GetFlag(FLAGS_pdq_threshold);
  options.registry.max_batch_items = absl::GetFlag(FLAGS_max_batch_items);
  options.registry.min_pdq_quality = absl::GetFlag(FLAGS_min_pdq_quality);
  options.registry.low_quality_pdq_floor = absl::GetFlag(FLAGS_low_quality_pdq_floor);
  options.registry.low_quality_pdq_distance = absl::GetFlag(FLAGS_low_quality_pdq_distance);
  for (absl::string_view url : absl::StrSplit(absl::GetFlag(FLAGS_cluster_nats), ',',
                                              absl::SkipWhitespace())) {
    options.cluster.nats_urls.emplace_back(absl::StripAsciiWhitespace(url));
  }
  options.cluster.stream = absl::GetFlag(FLAGS_cluster_stream);
  options.cluster.node_name = absl::GetFlag(FLAGS_node_name);
  options.cluster.replicas = absl::GetFlag(FLAGS_cluster_replicas);
  options.cluster.max_messages = absl::GetFlag(FLAGS_cluster_max_messages);
  options.cluster.nats_ca_file = absl::GetFlag(FLAGS_cluster_nats_ca_file);
  for (absl::string_view peer : absl::StrSplit(absl::GetFlag(FLAGS_cluster_snapshot_from), ',',
                                               absl::SkipWhitespace())) {
    options.cluster.snapshot_from.emplace_back(absl::StripAsciiWhitespace(peer));
  }
  options.cluster.nats_creds_file = absl::GetFlag(FLAGS_cluster_nats_creds_file);
  options.registry.pending_scope_seconds =
      absl::ToInt64Seconds(absl::GetFlag(FLAGS_pending_scope_expiry));
  options.registry.scope_recheck_seconds =
      absl::ToInt64Seconds(absl::GetFlag(FLAGS_scope_recheck_interval));
  options.verify.timeout = absl::GetFlag(FLAGS_verify_timeout);
  if (options.verify.timeout <= absl::ZeroDuration() || options.verify.timeout > absl::Minutes(1)) {
    std::fprintf(stderr, "optoutd: --verify_timeout must be within (0, 1m]\n");
    return 2;
  }
  const bool testing = absl::GetFlag(FLAGS_testing);
  const std::vector<std::string> resolve = absl::GetFlag(FLAGS_verify_resolve);
  options.verify.dns_server = absl::GetFlag(FLAGS_verify_dns);
  options.verify.ca_file = absl::GetFlag(FLAGS_verify_ca);
  if (!testing && (!resolve.empty() || !options.verify.dns_server.empty() ||
                   !options.verify.ca_file.empty())) {
    std::fprintf(stderr,
                 "optoutd: --verify_resolve, --verify_dns and --verify_ca are test-only; they need "
                 "--testing\n");
    return 2;
  }
  options.verify.allow_private_addresses = testing;
  for (const std::string& entry : resolve) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      std::fprintf(stderr, "optoutd: --verify_resolve wants HOST=IP:PORT, got %s\n", entry.c_str());
      return 2;
    }
    options.verify.resolve[absl::AsciiStrToLower(entry.substr(0, eq))] = entry.substr(eq + 1);
  }
  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  if (log_format != "text" && log_format != "json") {
    std::fprintf(stderr, "optoutd: --log_format must be text or json, got %s\n", log_format.c_str());
    return 2;
  }
  optout::service::SetLogFormat(log_format == "json" ? optout::service::LogFormat::kJson
                                                     : optout::service::LogFormat::kText);
  const int max_message_mb = absl::GetFlag(FLAGS_max_message_mb);
  if (max_message_mb < 1 || max_message_mb > 1024) {
    std::fprintf(stderr, "optoutd: --max_message_mb must be 1..1024, got %d\n", max_message_mb);
    return 2;
  }
  options.max_message_bytes = max_message_mb << 20;

  // Signals are taken synchronously by this thread; every thread started
  // after this inherits the block, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  using optout::service::Log;
  using optout::service::LogLevel;
  Log(LogLevel::kInfo, absl::StrCat("optoutd starting: data_dir ", options.data_dir, ", listen ",
                                    options.listen));
  const absl::Duration grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  optout::service::StartupSignalWatcher startup_signals(signals, grace);
  options.cluster.stop_starting = startup_signals.stop_requested();
  auto server = optout::service::Server::Start(options);
  int signal = startup_signals.Finish();
  if (!server.ok()) {
    if (signal != 0) {
      Log(LogLevel::kInfo, absl::StrCat("start-up stopped by signal ", signal, ": ",
                                        server.status().ToString()));
      return 0;
    }
    Log(LogLevel::kError, absl::StrCat("cannot start: ", server.status().ToString()));
    return 1;
  }
  while (signal == 0 && sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    signal = 0;
    absl::Status reloaded = (*server)->ReloadTlsCertificates();
    Log(reloaded.ok() ? LogLevel::kInfo : LogLevel::kError,
        reloaded.ok() ? "SIGHUP: TLS certificates reloaded; new connections use them"
                      : absl::StrCat("SIGHUP: TLS certificates not reloaded, still using the "
                                     "previous ones: ", reloaded.message()));
  }
  Log(LogLevel::kInfo, absl::StrCat("received signal ", signal));
  (*server)->Shutdown(grace);
  return 0;
}
