#include "service/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/resource_quota.h"
#include "service/connection_gate.h"
#include "service/admin_service.h"
#include "service/api_keys.h"
#include "service/answer_budget.h"
#include "service/check_access.h"
#include "service/check_session_journal.h"
#include "service/cluster/jetstream_log.h"
#include "service/descriptor_limit.h"
#include "service/grpc_service.h"
#include "service/http/http_server.h"
#include "service/key_rotation.h"
#include "service/keyring.h"
#include "service/listen_address.h"
#include "service/log.h"
#include "service/metrics_endpoint.h"
#include "service/private_files.h"
#include "service/registry_secret.h"
#include "service/rpc_metrics.h"
#include "service/scope_upkeep.h"
#include "service/verify/scope_verifier.h"
#include "service/server_metrics.h"
#include "service/snapshot_bootstrap.h"
#include "service/snapshot_files.h"
#include "service/tls_credentials.h"
#include "client/common/base/status_macros.h"
#include "storage/opt_out_store.h"

namespace optout::service {

struct Server::Impl {
  // First member: the handlers' counters and every metric family point into it.
  std::unique_ptr<metrics::MetricRegistry> metric_registry;  // null: no metrics
  std::unique_ptr<RpcMetrics> rpc_metrics;                    // null: no metrics
  std::unique_ptr<http::HttpMetrics> http_metrics;            // null: no metrics
  std::unique_ptr<url::PublicSuffixList> psl;
  std::unique_ptr<storage::OptOutStore> store;
  // Asked by the registry for scope proofs; outlives it.
  std::unique_ptr<verify::ScopeVerifier> scope_verifier;
  std::unique_ptr<Registry> registry;
  // Keeps check sessions over restarts; outlives key_rotation, which
  // reseals it at a rotation's end.
  std::unique_ptr<CheckSessionJournal> check_session_journal;
  std::unique_ptr<KeyRotation> key_rotation;  // stops before the registry goes
  std::unique_ptr<ScopeUpkeep> scope_upkeep;  // stopped before the registry goes
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<CheckWorkers> check_workers;
  std::unique_ptr<StreamSweeper> stream_sweeper;
  std::unique_ptr<AnswerBudget> answer_budget;
  std::unique_ptr<PeerRateLimiter> register_rate;
  std::unique_ptr<PeerRateLimiter> revoke_catch_up_rate;
  std::unique_ptr<DiskFloor> disk_floor;
  std::unique_ptr<RegistryServiceImpl> registry_service;
  std::unique_ptr<CheckServiceImpl> check_service;
  std::unique_ptr<ReloadableTlsCredentials> tls;  // null: plaintext; outlives grpc_server
  // For admin_server: the --admin_tls_* files, else the same files as `tls`.
  std::unique_ptr<ReloadableTlsCredentials> admin_tls;
  std::unique_ptr<ApiKeys> api_keys;
  std::unique_ptr<AuditLog> audit;  // null without --audit_log
  std::unique_ptr<PdqProbeGuard> pdq_probes;  // used by check_access
  std::unique_ptr<CheckAccess> check_access;
  std::unique_ptr<CheckSessions> check_sessions;
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<grpc::Server> grpc_server;
  // The admin listener: its own server, so nothing of it is on the public port.
  std::unique_ptr<grpc::Server> admin_server;
  // Declared after what its families read, so it stops before they go.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  // HTTP listener (null without --http_listen); declared last so that it
  // stops before anything it calls is destroyed.
  std::unique_ptr<http::HttpTls> http_tls;
  std::unique_ptr<http::StaticFiles> web_files;
  std::unique_ptr<http::JsonApi> json_api;
  std::unique_ptr<http::HttpServer> http_server;
  // Erases sealed token copies past the retry window: at start, then hourly.
  std::thread token_eraser;
  absl::Notification stop_token_eraser;
  int port = 0;
  bool shut_down = false;

  // Starts the HTTP listener on the objects above (--http_listen).
  absl::Status StartHttp(const ServerOptions& options);

  void StopTokenEraser() {
    if (!token_eraser.joinable()) return;
    stop_token_eraser.Notify();
    token_eraser.join();
  }
  ~Impl() {  // also when Start fails after starting them
    StopTokenEraser();
    // The stream's applying thread may hand the registry a rotation's
    // mutation until the registry (declared before) goes.
    if (registry != nullptr) {
      registry->UseRotationApplier(nullptr);
      registry->mutation_log().ShareStatus(nullptr);
    }
  }
};

namespace {

// How long a node waits for one peer's snapshot: a registry of 10 million
// opt-outs is a few GB.
constexpr absl::Duration kSnapshotPatience = absl::Minutes(30);

// Bytes of one of the two tracked pools (gRPC's quota, waiting answers):
// two fifths of --max_memory_mb each.
size_t TrackedMemoryShare(int max_memory_mb) {
  return (static_cast<size_t>(max_memory_mb) << 20) / 5 * 2;
}

// HTTP calls carry no deadline of their own; a check still running after
// this long stops with DEADLINE_EXCEEDED (504).
constexpr absl::Duration kHttpCheckDeadline = absl::Seconds(30);

void EraseExpiredTokensOnce(Registry* registry) {
  absl::StatusOr<int> erased = registry->EraseExpiredTokens(absl::Now());
  if (!erased.ok()) {
    Log(LogLevel::kError, absl::StrCat("erasing expired token copies: ", erased.status().ToString()));
  } else if (*erased > 0) {
    Log(LogLevel::kInfo, absl::StrCat("erased the token copies of ", *erased,
                                      " opt-outs past the retry window"));
  }
  // The same window bounds how long a revoked request id is remembered.
  absl::StatusOr<int> expired = registry->ExpireRevokedRequests(absl::Now());
  if (!expired.ok()) {
    Log(LogLevel::kError,
        absl::StrCat("expiring revoked request ids: ", expired.status().ToString()));
  } else if (*expired > 0) {
    Log(LogLevel::kInfo, absl::StrCat("forgot ", *expired,
                                      " request ids of opt-outs revoked before the retry window"));
  }
}

void EraseExpiredTokensUntil(Registry* registry, absl::Notification* stop) {
  while (!stop->WaitForNotificationWithTimeout(absl::Hours(1))) {
    EraseExpiredTokensOnce(registry);
  }
}

// Connection, stream and memory limits of issue 9 (findings 4 and 5) as
// gRPC channel arguments, plus the connection gate. Returns the effective
// --max_connections.
absl::StatusOr<int> ApplyConnectionLimits(const ServerOptions& options,
                                          grpc::ServerBuilder* builder) {
  for (const auto& [name, value] :
       {std::pair<const char*, int>{"idle_timeout_seconds", options.idle_timeout_seconds},
        {"max_connection_age_seconds", options.max_connection_age_seconds},
        {"keepalive_seconds", options.keepalive_seconds},
        {"max_streams_per_connection", options.max_streams_per_connection},
        {"max_memory_mb", options.max_memory_mb},
        {"stream_idle_timeout_seconds", options.stream_idle_timeout_seconds}}) {
    if (value < 1) return absl::InvalidArgumentError(absl::StrCat(name, " must be >= 1"));
  }
  const int limit = RaiseDescriptorLimit();
  const int in_use = LowestFreeDescriptor();
  int max_connections = options.max_connections;
  if (max_connections == 0) {
    max_connections = DefaultMaxConnections(limit, in_use);
  } else {
    OPTOUT_RETURN_IF_ERROR(CheckMaxConnections(max_connections, limit, in_use));
  }
  InstallConnectionGate(builder, in_use + max_connections);

  constexpr int kMs = 1000;
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, options.idle_timeout_seconds * kMs);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                              options.max_connection_age_seconds * kMs);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30 * kMs);
  // A connection must finish its HTTP/2 (and TLS) handshake within 10 s; a
  // socket that never speaks is closed then, not after gRPC's 120 s.
  builder->AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 10 * kMs);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_seconds * kMs);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * kMs);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * kMs);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_streams_per_connection);
  // Two fifths of --max_memory_mb for what gRPC reads, two fifths for
  // answers waiting for their readers (AnswerBudget, see Server::Start); the
  // last fifth is for what neither counts (allocator slack, thread stacks,
  // parse scratch), so the process as a whole stays within the budget.
  grpc::ResourceQuota quota("optoutd");
  quota.Resize(TrackedMemoryShare(options.max_memory_mb));
  builder->SetResourceQuota(quota);
  return max_connections;
}

// The JSON API and page over HTTP, on the core objects gRPC uses (same
// registry, register rate, disk floor and check workers).
KeyRotation::Options RotationOptions(const ServerOptions& options, CheckSessionJournal* journal) {
  KeyRotation::Options rotation;
  rotation.batch_records = static_cast<size_t>(std::max(options.key_rotation_batch, 1));
  rotation.pause_between_batches = absl::Milliseconds(options.key_rotation_pause_ms);
  // In a cluster every node must switch versions at one place of the
  // stream: a node re-keying alone would write records its peers cannot
  // open, and they would stop applying the stream.
  rotation.ordered_by_log = !options.cluster.nats_urls.empty();
  // Open sessions' entries move to the new version before the old one is
  // forgotten, so they survive a restart after the rotation.
  rotation.before_forgetting_old_version = [journal]() -> absl::Status {
    absl::StatusOr<int> resealed = journal->Reseal();
    if (!resealed.ok()) return resealed.status();
    if (*resealed > 0) {
      Log(LogLevel::kInfo, absl::StrCat("key rotation: ", *resealed,
                                        " check session entries sealed under the new version"));
    }
    return absl::OkStatus();
  };
  return rotation;
}

}  // namespace

absl::Status Server::Impl::StartHttp(const ServerOptions& options) {
  Impl* impl = this;
  OPTOUT_RETURN_IF_ERROR(CheckTransportSecurity(options.http_listen, options.tls, "--http_listen"));
  if (options.tls.enabled()) {
    OPTOUT_ASSIGN_OR_RETURN(impl->http_tls, http::HttpTls::Create(options.tls));
  }
  if (options.web_root.empty()) {
    impl->web_files = std::make_unique<http::StaticFiles>(http::StaticFiles::Embedded());
  } else {
    OPTOUT_ASSIGN_OR_RETURN(http::StaticFiles files,
                            http::StaticFiles::FromDirectory(options.web_root));
    impl->web_files = std::make_unique<http::StaticFiles>(std::move(files));
  }
  http::JsonApi::Core core;
  core.registry = impl->registry.get();
  core.register_rate = impl->register_rate.get();
  core.revoke_catch_up_rate = impl->revoke_catch_up_rate.get();
  core.disk_floor = impl->disk_floor.get();
  core.check_workers = impl->check_workers.get();
  core.check_access = impl->check_access.get();
  core.audit = impl->audit.get();
  core.check_sessions = impl->check_sessions.get();
  impl->json_api = std::make_unique<http::JsonApi>(core, kHttpCheckDeadline);
  http::HttpServerOptions http_options;
  http_options.listen = options.http_listen;
  http_options.max_body_bytes = static_cast<size_t>(options.max_message_bytes);
  http_options.port_file = options.http_port_file;
  http_options.metrics = http_metrics.get();
  OPTOUT_ASSIGN_OR_RETURN(impl->http_server,
                          http::HttpServer::Start(http_options, impl->json_api.get(),
                                                  impl->web_files.get(), impl->http_tls.get()));
  Log(LogLevel::kInfo, absl::StrCat("HTTP (JSON API and web page) on port ",
                                    impl->http_server->port(),
                                    impl->http_tls != nullptr ? " (TLS)" : " (plaintext)"));
  return absl::OkStatus();
}

namespace {

const char* TransportName(const ReloadableTlsCredentials* tls) {
  if (tls == nullptr) return " (plaintext)";
  return tls->requires_client_certificate() ? " (TLS, client certificates required)" : " (TLS)";
}

// The admin listener follows the public one's transport rules, and one
// more: it hands out API keys, so off loopback only clients with a
// certificate from --tls_client_ca_file may reach it (--allow_insecure does
// not loosen that). A unix socket is local by nature and made mode 0600.
absl::Status CheckAdminTransport(const std::string& address, const TlsServerOptions& tls) {
  if (absl::StartsWith(address, "unix:")) return absl::OkStatus();
  OPTOUT_RETURN_IF_ERROR(CheckTransportSecurity(address, tls, "--admin_listen"));
  if (!IsLoopbackListenAddress(address) && tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin_listen ", address, " is reachable from the network: the admin service needs "
        "mutual TLS there (--tls_client_ca_file), or a unix socket or loopback address"));
  }
  return absl::OkStatus();
}

// Starts the admin service on `address` (checked by CheckAdminTransport);
// TLS with `tls` on TCP when it is set. A unix socket is made mode 0600 (the
// umask already keeps others out while it is created).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(const std::string& address,
                                                               AdminServiceImpl* service,
                                                               ReloadableTlsCredentials* tls) {
  std::string socket_path;
  if (absl::StartsWith(address, "unix:")) {
    socket_path = address.substr(5);
    // A socket left by a killed optoutd would block the bind; only a socket
    // is removed, never another kind of file.
    struct stat st {};
    if (::lstat(socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(socket_path.c_str());
    }
  }
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, tls != nullptr && socket_path.empty()
                                        ? tls->server_credentials()
                                        : grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on --admin_listen ", address));
  }
  if (!socket_path.empty() && ::chmod(socket_path.c_str(), 0600) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot make the admin socket ", socket_path,
                                               " mode 0600: ", std::strerror(errno)));
  }
  return server;
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(absl::Seconds(5)); }

int Server::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  const RegistryOptions& r = options.registry;
  if (r.pdq_threshold < 0 || r.pdq_threshold > 63) {
    return absl::InvalidArgumentError("pdq_threshold must be 0..63");
  }
  if (r.low_quality_pdq_distance < 0 || r.low_quality_pdq_distance > r.pdq_threshold) {
    return absl::InvalidArgumentError("low_quality_pdq_distance must be 0..pdq_threshold");
  }
  if (r.low_quality_pdq_floor < 1 || r.low_quality_pdq_floor > 100) {
    return absl::InvalidArgumentError(
        "low_quality_pdq_floor must be 1..100 (flat images hash to quality 0)");
  }
  if (r.max_batch_items < 1) return absl::InvalidArgumentError("max_batch_items must be >= 1");
  if (r.token_retry_seconds < 0) return absl::InvalidArgumentError("token_retry_hours must be >= 0");
  if (r.pending_scope_seconds < 1 || r.scope_recheck_seconds < 1) {
    return absl::InvalidArgumentError("pending_scope_expiry and scope_recheck_interval must be >= 1s");
  }
  if (options.anonymous_items_per_minute < 0) {
    return absl::InvalidArgumentError("anonymous_items_per_minute must be >= 0");
  }
  if (options.max_queued_checks < 1) {
    return absl::InvalidArgumentError("max_queued_checks must be >= 1");
  }
  OPTOUT_RETURN_IF_ERROR(CheckTransportSecurity(options.listen, options.tls));
  const std::string admin_listen = options.admin_listen.empty()
                                       ? absl::StrCat("unix:", options.data_dir, "/admin.sock")
                                       : options.admin_listen;
  // The admin listener has TLS of its own when --admin_tls_* name files.
  const TlsServerOptions& admin_tls = options.admin_tls.enabled() ? options.admin_tls : options.tls;
  OPTOUT_RETURN_IF_ERROR(CheckAdminTransport(admin_listen, admin_tls));
  if (!options.metrics_listen.empty()) {
    OPTOUT_RETURN_IF_ERROR(
        CheckTransportSecurity(options.metrics_listen, options.tls, "--metrics_listen"));
  }

  // Debian's Abseil is built without NDEBUG, so every absl::Mutex lock (ours
  // and gRPC's, whose core mutex is absl::Mutex) would also update a global
  // lock-order graph under a global lock: profiles of single-item checks
  // showed it in every call. It is a debugging aid, so a server turns it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  auto impl = std::make_unique<Impl>();
  if (options.tls.enabled()) {
    OPTOUT_ASSIGN_OR_RETURN(impl->tls, ReloadableTlsCredentials::Create(options.tls));
  }
  if (admin_tls.enabled()) {
    // Its own credentials: each takes up a reload at its own next handshake.
    OPTOUT_ASSIGN_OR_RETURN(impl->admin_tls, ReloadableTlsCredentials::Create(admin_tls));
  }
  std::string secret_file = options.secret_file;
  if (secret_file.empty()) {
    OPTOUT_ASSIGN_OR_RETURN(secret_file, DefaultRegistrySecretPath(options.data_dir));
  }
  OPTOUT_ASSIGN_OR_RETURN(SecretBytes secret, LoadOrCreateRegistrySecret(secret_file));

  const std::string psl_file =
      options.psl_file.empty() ? url::PublicSuffixList::kDefaultPath : options.psl_file;
  OPTOUT_ASSIGN_OR_RETURN(impl->psl, url::PublicSuffixList::Load(psl_file));

  // A snapshot install that a crash interrupted is finished before the
  // store opens (snapshot_files.h).
  if (!options.cluster.nats_urls.empty()) {
    OPTOUT_RETURN_IF_ERROR(InstallPendingSnapshot(options.data_dir));
  }
  impl->scope_verifier = verify::NewNetworkScopeVerifier(options.verify);
  // Opens the store, its key versions, API keys and the registry; again
  // after a peer's snapshot replaced the database.
  auto open_registry = [&]() -> absl::StatusOr<std::unique_ptr<KeyVersions>> {
    storage::StoreOptions store_options;
    OPTOUT_ASSIGN_OR_RETURN(impl->store, storage::OptOutStore::Open(options.data_dir, store_options));
    OPTOUT_RETURN_IF_ERROR(MakeOwnerOnly(options.data_dir));
    // The key versions the database names (two during a key rotation).
    OPTOUT_ASSIGN_OR_RETURN(KeyVersions versions,
                            OpenKeyVersions(*impl->store, secret, secret_file));
    OPTOUT_ASSIGN_OR_RETURN(impl->api_keys, ApiKeys::Open(impl->store.get(), versions.api_keys));
    const absl::Time load_start = absl::Now();
    RegistryOptions registry_options = options.registry;
    registry_options.scope_verifier = impl->scope_verifier.get();
    OPTOUT_ASSIGN_OR_RETURN(impl->registry, Registry::Open(impl->store.get(), versions.keys,
                                                           impl->psl.get(), registry_options));
    // Key changes are ordered with the opt-outs (in a cluster: on the stream).
    impl->registry->UseKeyApplier(impl->api_keys.get());
    impl->api_keys->UseCommitter([registry = impl->registry.get()](const internal::Mutation& m) {
      return registry->mutation_log().Commit(m);
    });
    Log(LogLevel::kInfo, absl::StrCat("loaded ", impl->registry->opt_out_count(), " opt-outs in ",
                                      absl::FormatDuration(absl::Now() - load_start)));
    const Registry* registry = impl->registry.get();
    impl->check_session_journal = std::make_unique<CheckSessionJournal>(
        impl->store.get(), [registry] { return registry->key_set(); });
    // Before the stream is applied: in a cluster a rotation's start and
    // end are mutations of it.
    impl->key_rotation = std::make_unique<KeyRotation>(
        impl->store.get(), impl->registry.get(), versions, secret_file,
        RotationOptions(options, impl->check_session_journal.get()));
    impl->registry->UseRotationApplier(impl->key_rotation.get());
    if (!options.cluster.nats_urls.empty()) {
      // Every version of a cluster is of one secret (a new secret file is
      // refused there), read again for the rare late write of an old one.
      const std::string path = versions.state.current().secret_file().empty()
                                   ? secret_file
                                   : versions.state.current().secret_file();
      impl->registry->UseOlderKeys([path](uint32_t version) -> absl::StatusOr<Keyring> {
        OPTOUT_ASSIGN_OR_RETURN(SecretBytes secret, ReadRegistrySecret(path));
        absl::StatusOr<Keyring> keyring = Keyring::Derive(secret, version);
        secret.fill(0);
        return keyring;
      });
    }
    return std::make_unique<KeyVersions>(std::move(versions));
  };
  absl::StatusOr<std::unique_ptr<KeyVersions>> versions = open_registry();
  if (versions.ok() && !options.cluster.nats_urls.empty()) {
    cluster::ClusterOptions cluster = options.cluster;
    if (cluster.node_name.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof(host) - 1);
      cluster.node_name = host;
    }
    // Returns once this node has applied what the stream held: it serves
    // nothing before it is caught up. The stream is sealed and
    // fingerprinted with version 1 of the secret, which every version of
    // the same secret's rotations keeps (so restarted and new nodes join
    // whatever version the cluster rotated to).
    absl::StatusOr<std::unique_ptr<cluster::JetStreamLog>> log = cluster::JetStreamLog::Start(
        cluster, (*versions)->api_keys, impl->store.get(), impl->registry.get());
    if (!log.ok() && cluster::NeedsSnapshot(log.status()) && !cluster.snapshot_from.empty()) {
      Log(LogLevel::kWarning, absl::StrCat(log.status().message(), "; taking a peer's snapshot"));
      impl->registry->UseRotationApplier(nullptr);
      impl->key_rotation.reset();
      impl->check_session_journal.reset();
      impl->registry.reset();
      impl->api_keys.reset();
      impl->store.reset();
      absl::StatusOr<uint64_t> installed = BootstrapFromPeerSnapshot(
          cluster.snapshot_from, admin_tls, options.data_dir, kSnapshotPatience);
      if (!installed.ok()) {
        secret.fill(0);
        return installed.status();
      }
      versions = open_registry();
      if (versions.ok()) {
        log = cluster::JetStreamLog::Start(cluster, (*versions)->api_keys, impl->store.get(),
                                           impl->registry.get());
      }
    }
    if (versions.ok() && !log.ok()) versions = log.status();
    if (versions.ok()) {
      impl->registry->UseMutationLog(*std::move(log));
      Log(LogLevel::kInfo, absl::StrCat("cluster: caught up; ", impl->registry->opt_out_count(),
                                        " opt-outs"));
    }
  }
  secret.fill(0);
  OPTOUT_RETURN_IF_ERROR(versions.status());
  // A rotation a crash or a stop interrupted goes on from its last batch.
  impl->key_rotation->ResumeIfPending();
  if (!options.cluster.nats_urls.empty()) {
    // Each node's rotation progress, for rotate-keys --status on any node.
    impl->registry->mutation_log().ShareStatus([rotation = impl->key_rotation.get()] {
      return KeyRotationStatusProto(rotation->Status()).SerializeAsString();
    });
  }

  // The first pass runs before the server listens, so that no retry can
  // still find a token copy that is past its window at start.
  EraseExpiredTokensOnce(impl->registry.get());
  impl->token_eraser = std::thread(EraseExpiredTokensUntil, impl->registry.get(),
                                   &impl->stop_token_eraser);
  impl->scope_upkeep = std::make_unique<ScopeUpkeep>(impl->registry.get(),
                                                     ScopeUpkeep::IntervalFor(options.registry));
  if (!options.metrics_listen.empty()) {
    impl->metric_registry = std::make_unique<metrics::MetricRegistry>();
    impl->rpc_metrics = std::make_unique<RpcMetrics>(
        impl->metric_registry.get(),
        std::vector<std::string>{v1::Registry::service_full_name(), v1::Check::service_full_name(),
                                 admin::v1::Admin::service_full_name()});
    impl->http_metrics = std::make_unique<http::HttpMetrics>(impl->metric_registry.get());
  }
  // In cluster mode a write's thread mostly waits for the stream's round
  // trip; more of them keep more writes in flight, and each publish carries
  // all that wait (service/cluster/jetstream_log.h).
  constexpr int kClusterWriteThreads = 128;
  impl->pool = std::make_unique<ThreadPool>(
      options.cluster.nats_urls.empty() ? options.write_threads
                                        : std::max(options.write_threads, kClusterWriteThreads));
  impl->register_rate = std::make_unique<PeerRateLimiter>(options.register_rate_per_peer);
  impl->revoke_catch_up_rate = std::make_unique<PeerRateLimiter>(
      options.revoke_catch_up_rate_per_peer, "revokes of opt-outs this node does not hold",
      "--revoke_catch_up_rate_per_peer");
  impl->disk_floor = std::make_unique<DiskFloor>(options.data_dir, options.min_free_disk_mb);
  if (!options.audit_log.empty()) {
    OPTOUT_ASSIGN_OR_RETURN(
        impl->audit, AuditLog::Open(options.audit_log,
                                    static_cast<int64_t>(options.audit_log_max_mb) << 20,
                                    options.audit_log_keep));
  }
  impl->registry_service = std::make_unique<RegistryServiceImpl>(
      impl->registry.get(), impl->pool.get(), impl->register_rate.get(),
      impl->revoke_catch_up_rate.get(), impl->disk_floor.get(), impl->audit.get(),
      impl->rpc_metrics.get());
  impl->check_workers =
      std::make_unique<CheckWorkers>(options.check_threads, options.max_queued_checks);
  impl->stream_sweeper = std::make_unique<StreamSweeper>();
  StreamLimits stream_limits;
  stream_limits.sweeper = impl->stream_sweeper.get();
  impl->answer_budget = std::make_unique<AnswerBudget>(
      static_cast<int64_t>(TrackedMemoryShare(options.max_memory_mb)));
  stream_limits.answer_budget = impl->answer_budget.get();
  stream_limits.idle_timeout = absl::Seconds(options.stream_idle_timeout_seconds);
  impl->pdq_probes = std::make_unique<PdqProbeGuard>(options.pdq_probe);
  impl->check_access = std::make_unique<CheckAccess>(
      impl->api_keys.get(), options.anonymous_items_per_minute, impl->audit.get(), absl::Now,
      impl->pdq_probes.get());
  {
    const Registry* registry = impl->registry.get();
    CheckSessionOptions session_options = options.check_sessions;
    session_options.min_pdq_quality = options.registry.min_pdq_quality;
    impl->check_sessions = std::make_unique<CheckSessions>(
        session_options,
        // Signed with the key of the version current at the close: a session
        // open across rotate-keys is signed by the new key, which GetInfo
        // then publishes (its journal entries were resealed, see above).
        [registry](v1::CheckReceipt* r) {
          return registry->key_set()->current->receipt_signer().Sign(r);
        },
        [registry] { return registry->mutation_log().Progress().applied_version; });
    const absl::Status restored =
        impl->check_sessions->Restore(impl->check_session_journal.get());
    if (!restored.ok()) {
      Log(LogLevel::kWarning,
          absl::StrCat("check sessions of the last run are lost: ", restored.message()));
    }
  }
  impl->check_service = std::make_unique<CheckServiceImpl>(
      impl->registry.get(), impl->check_workers.get(), impl->check_access.get(), stream_limits,
      impl->rpc_metrics.get(), impl->check_sessions.get());
  impl->admin_service =
      std::make_unique<AdminServiceImpl>(impl->api_keys.get(), impl->audit.get(), impl->store.get(),
                                         impl->registry.get(), impl->key_rotation.get(),
                                         options.data_dir, impl->rpc_metrics.get());

  if (!options.http_listen.empty()) OPTOUT_RETURN_IF_ERROR(impl->StartHttp(options));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second optoutd on a port already in
  // use would then start without error and the kernel would split the checks
  // between two registries. Without it, the bind fails and we refuse to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen,
                           impl->tls != nullptr ? impl->tls->server_credentials()
                                                : grpc::InsecureServerCredentials(),
                           &impl->port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  OPTOUT_ASSIGN_OR_RETURN(const int max_connections, ApplyConnectionLimits(options, &builder));
  builder.RegisterService(impl->registry_service.get());
  builder.RegisterService(impl->check_service.get());
  if (impl->metric_registry != nullptr) {
    ServerMetricSources sources;
    sources.registry = impl->registry.get();
    sources.store = impl->store.get();
    sources.check_workers = impl->check_workers.get();
    sources.write_pool = impl->pool.get();
    sources.register_rate = impl->register_rate.get();
    sources.revoke_catch_up_rate = impl->revoke_catch_up_rate.get();
    sources.disk_floor = impl->disk_floor.get();
    sources.check_access = impl->check_access.get();
    sources.key_rotation = impl->key_rotation.get();
    AddServerMetrics(sources, impl->metric_registry.get());
    // Started before the gRPC server, so that a metrics port in use stops
    // optoutd before it serves anything.
    OPTOUT_ASSIGN_OR_RETURN(impl->metrics_endpoint,
                            MetricsEndpoint::Start(options.metrics_listen, options.tls,
                                                   impl->metric_registry.get()));
    Log(LogLevel::kInfo, absl::StrCat("serving metrics on port ", impl->metrics_endpoint->port(),
                                      TransportName(impl->tls.get()), " at /metrics"));
  }
  impl->grpc_server = builder.BuildAndStart();
  if (impl->grpc_server == nullptr || impl->port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     ": the port is in use (another optoutd?) or the address is not local"));
  }
  auto admin_server =
      StartAdminServer(admin_listen, impl->admin_service.get(), impl->admin_tls.get());
  if (!admin_server.ok()) {
    impl->grpc_server->Shutdown();
    return admin_server.status();
  }
  impl->admin_server = std::move(*admin_server);
  if (!options.port_file.empty()) {
    // Written to a temp name and renamed, so a reader never sees half a number.
    const std::string tmp = options.port_file + ".tmp";
    std::ofstream(tmp) << impl->port << "\n";
    if (std::rename(tmp.c_str(), options.port_file.c_str()) != 0) {
      return absl::UnavailableError("cannot write port file");
    }
  }
  Log(LogLevel::kInfo, absl::StrCat("listening on port ", impl->port, TransportName(impl->tls.get()),
                                    "; PSL ",
                                    impl->psl->version(), "; pdq_threshold ",
                                    r.pdq_threshold, "; max_batch_items ", r.max_batch_items,
                                    "; max_connections ", max_connections,
                                    "; admin on ", admin_listen, "; ",
                                    impl->api_keys->List().keys_size(), " API keys"));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::Status Server::ReloadTlsCertificates() {
  if (impl_->tls == nullptr && impl_->admin_tls == nullptr) {
    return absl::FailedPreconditionError("TLS is off: nothing to reload");
  }
  if (impl_->tls != nullptr) OPTOUT_RETURN_IF_ERROR(impl_->tls->Reload());
  if (impl_->admin_tls != nullptr) OPTOUT_RETURN_IF_ERROR(impl_->admin_tls->Reload());
  if (impl_->tls != nullptr && impl_->metrics_endpoint != nullptr) {
    OPTOUT_RETURN_IF_ERROR(impl_->metrics_endpoint->ReloadTlsCertificates());
  }
  if (impl_->http_tls != nullptr) OPTOUT_RETURN_IF_ERROR(impl_->http_tls->Reload());
  return absl::OkStatus();
}

void Server::Shutdown(absl::Duration deadline) {
  if (impl_ == nullptr || impl_->shut_down) return;
  impl_->shut_down = true;
  Log(LogLevel::kInfo, "shutting down: finishing in-flight calls");
  if (impl_->http_server != nullptr) impl_->http_server->Stop();
  impl_->grpc_server->Shutdown(absl::ToChronoTime(absl::Now() + deadline));
  impl_->grpc_server->Wait();
  impl_->admin_server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  impl_->admin_server->Wait();
  Log(LogLevel::kInfo, "gRPC server stopped; closing the database");
  if (impl_->metrics_endpoint != nullptr) impl_->metrics_endpoint->Stop();
  impl_->StopTokenEraser();
  impl_->key_rotation->Stop();  // after its current batch; resumes at next start
  impl_->registry->mutation_log().ShareStatus(nullptr);
  impl_->scope_upkeep.reset();
  impl_->pool.reset();  // runs any queued durable write to completion
  impl_->check_workers.reset();
  impl_->stream_sweeper.reset();
  impl_->answer_budget.reset();
  impl_->registry.reset();
  impl_->store.reset();  // closes RocksDB
  Log(LogLevel::kInfo, "database closed; bye");
}

}  // namespace optout::service
