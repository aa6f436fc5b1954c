// optout-admin: the operator's command for optoutd's admin service
// (optout.admin.v1), reached only through the admin listener: by default the
// unix socket <data_dir>/admin.sock (mode 0600, so only optoutd's user may
// use it), never the public port.
//
//   optout-admin [--admin ADDRESS | --data-dir DIR] [--json]
//       [--tls-ca FILE --tls-cert FILE --tls-key FILE] keys create --name NAME
//       [--items-per-minute N] [--items-per-day N] [--pdq-per-day N] [--methods check,check_pdq]
//       [--cert-subject SUBJECT]
//   optout-admin keys list | keys revoke NAME | keys usage [NAME]
//   optout-admin backup --to DIR
//   optout-admin restore --from DIR --data_dir D
//   optout-admin rotate-keys [--new-secret-file F] [--no-wait] | rotate-keys --status
//
// `backup` asks the running optoutd for an online, consistent backup into
// DIR (on its machine). `restore` works offline, on files: it restores the
// newest backup in DIR into the empty folder D, where optoutd can then
// start with the registry's secret (which no backup holds).
//
// `rotate-keys` starts moving every stored opt-out to a new key version
// (of the secret in use, or of the new secret file F on optoutd's machine)
// and follows it with a progress line every few seconds until it is done;
// optoutd does the work, so stopping this command stops nothing: run it
// again (or with --status) to follow the rotation, and again after a failure
// to resume it.
//
// `keys create` prints the new key once (stdout, alone on its line); the
// registry keeps only a keyed hash of it. With --cert-subject, a client
// certificate of that subject (RFC 2253, e.g. "CN=crawler,O=Acme") stands
// for the key on optoutd's mutual-TLS listener. A TCP admin listener off loopback
// requires mutual TLS: --tls-ca names the CA of optoutd's certificate and
// --tls-cert/--tls-key the operator's client certificate.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "client/channel.h"
#include "optout/admin/v1/admin.grpc.pb.h"
#include "storage/opt_out_store.h"

namespace {

namespace admin = optout::admin::v1;

struct Context {
  std::string admin_address;  // --admin, else $OPTOUT_ADMIN, else from --data-dir
  std::string data_dir = "./data";
  bool json = false;
  optout::client::TlsFiles tls_files;
  optout::client::TlsOptions tls;  // read from tls_files before any command runs
  int exit_code = 0;
};

std::unique_ptr<admin::Admin::Stub> Connect(const Context& ctx) {
  const std::string address =
      ctx.admin_address.empty() ? absl::StrCat("unix:", ctx.data_dir, "/admin.sock")
                                : ctx.admin_address;
  return admin::Admin::NewStub(optout::client::CreateChannel(address, ctx.tls, 4 << 20));
}

std::unique_ptr<grpc::ClientContext> CallContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return context;
}

// One line on stderr, exit 1; like `optout`.
void Report(Context& ctx, const std::string& command, const grpc::Status& status) {
  std::cout << std::flush;
  const absl::Status explained = optout::client::ExplainTransportError(
      absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message()),
      ctx.tls);
  std::fprintf(stderr, "optout-admin %s: %s [%s]\n", command.c_str(),
               std::string(explained.message()).c_str(),
               absl::StatusCodeToString(explained.code()).c_str());
  ctx.exit_code = 1;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json << "\n";
}

std::string Limit(int64_t n) { return n == 0 ? "unlimited" : absl::StrCat(n); }

std::string Methods(const admin::KeyLimits& limits) {
  return limits.methods().empty() ? "check,check_pdq" : absl::StrJoin(limits.methods(), ",");
}

struct CreateArgs {
  std::string name;
  std::optional<int64_t> items_per_minute, items_per_day, pdq_per_day;
  std::vector<std::string> methods;
  std::string cert_subject;
};

void RunCreate(Context& ctx, const CreateArgs& args) {
  admin::CreateKeyRequest request;
  request.set_name(args.name);
  admin::KeyLimits* limits = request.mutable_limits();
  if (args.items_per_minute) limits->set_items_per_minute(*args.items_per_minute);
  if (args.items_per_day) limits->set_items_per_day(*args.items_per_day);
  if (args.pdq_per_day) limits->set_pdq_per_day(*args.pdq_per_day);
  for (const std::string& method : args.methods) limits->add_methods(method);
  request.set_cert_subject(args.cert_subject);
  admin::CreateKeyResponse response;
  grpc::Status status = Connect(ctx)->CreateKey(CallContext().get(), request, &response);
  if (!status.ok()) return Report(ctx, "keys create", status);
  if (ctx.json) return PrintJson(response);
  std::cout << response.key() << "\n";
  std::fprintf(stderr,
               "optout-admin keys create: key %s created (%s items/min, %s items/day, %s PDQ/day, "
               "methods %s%s); it is shown only this once\n",
               response.info().name().c_str(), Limit(response.info().limits().items_per_minute()).c_str(),
               Limit(response.info().limits().items_per_day()).c_str(),
               Limit(response.info().limits().pdq_per_day()).c_str(),
               Methods(response.info().limits()).c_str(),
               response.info().cert_subject().empty()
                   ? ""
                   : absl::StrCat(", certificate ", response.info().cert_subject()).c_str());
}

void RunList(Context& ctx) {
  admin::ListKeysResponse response;
  grpc::Status status =
      Connect(ctx)->ListKeys(CallContext().get(), admin::ListKeysRequest(), &response);
  if (!status.ok()) return Report(ctx, "keys list", status);
  if (ctx.json) return PrintJson(response);
  std::printf("%-24s %12s %12s %12s %-16s %-20s %s\n", "NAME", "ITEMS/MIN", "ITEMS/DAY",
              "PDQ/DAY", "METHODS", "CREATED", "CERT SUBJECT");
  for (const admin::KeyInfo& key : response.keys()) {
    std::printf("%-24s %12s %12s %12s %-16s %-20s %s\n", key.name().c_str(),
                Limit(key.limits().items_per_minute()).c_str(),
                Limit(key.limits().items_per_day()).c_str(),
                Limit(key.limits().pdq_per_day()).c_str(), Methods(key.limits()).c_str(),
                absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                 absl::FromUnixSeconds(key.created_unix_seconds()),
                                 absl::UTCTimeZone())
                    .c_str(),
                key.cert_subject().empty() ? "-" : key.cert_subject().c_str());
  }
}

void RunRevoke(Context& ctx, const std::string& name) {
  admin::RevokeKeyRequest request;
  request.set_name(name);
  admin::RevokeKeyResponse response;
  grpc::Status status = Connect(ctx)->RevokeKey(CallContext().get(), request, &response);
  if (!status.ok()) return Report(ctx, "keys revoke", status);
  if (ctx.json) return PrintJson(response);
  std::printf("revoked %s\n", name.c_str());
}

void RunUsage(Context& ctx, const std::string& name) {
  admin::GetKeyUsageRequest request;
  request.set_name(name);
  admin::GetKeyUsageResponse response;
  grpc::Status status = Connect(ctx)->GetKeyUsage(CallContext().get(), request, &response);
  if (!status.ok()) return Report(ctx, "keys usage", status);
  if (ctx.json) return PrintJson(response);
  for (const admin::KeyUsage& usage : response.usage()) {
    std::string matches;
    for (const char* kind : {"MATCH_KIND_URL", "MATCH_KIND_SCOPE", "MATCH_KIND_PDQ",
                             "MATCH_KIND_SHA256", "MATCH_KIND_MD5"}) {
      auto it = usage.matches_by_kind().find(kind);
      const int64_t n = it == usage.matches_by_kind().end() ? 0 : it->second;
      absl::StrAppend(&matches, " ", absl::AsciiStrToLower(std::string(kind).substr(11)), "=", n);
    }
    std::printf("%s: calls=%lld items=%lld pdq_items=%lld rejections=%lld matches:%s\n",
                usage.name().c_str(), static_cast<long long>(usage.calls()),
                static_cast<long long>(usage.items()), static_cast<long long>(usage.pdq_items()),
                static_cast<long long>(usage.rejections()), matches.c_str());
  }
}

// DIR as the server must see it: relative paths are taken from here.
std::string AbsolutePath(const std::string& dir) {
  if (dir.empty() || dir.front() == '/') return dir;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return dir;
  return absl::StrCat(cwd, "/", dir);
}

void RunBackup(Context& ctx, const std::string& to_dir) {
  admin::BackupRequest request;
  request.set_to_dir(AbsolutePath(to_dir));
  admin::BackupResponse response;
  auto context = std::make_unique<grpc::ClientContext>();
  // Copying a large database takes a while; the call is not retried.
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(6)));
  grpc::Status status = Connect(ctx)->Backup(context.get(), request, &response);
  if (!status.ok()) return Report(ctx, "backup", status);
  if (ctx.json) return PrintJson(response);
  std::printf("backup %u in %s: %llu opt-outs, %u files, %.1f MB\n", response.backup_id(),
              request.to_dir().c_str(), static_cast<unsigned long long>(response.opt_outs()),
              response.files(), static_cast<double>(response.bytes()) / (1 << 20));
  std::fprintf(stderr,
               "optout-admin backup: the registry secret is not in the backup; keep a copy of "
               "optoutd's --secret_file apart from it (without it no backup can match again)\n");
}

void RunRestore(Context& ctx, const std::string& from_dir, const std::string& data_dir) {
  // The restored files are as private as optoutd's own (folders 0700,
  // files 0600).
  ::umask(077);
  const absl::Status status = optout::storage::OptOutStore::RestoreLatestBackup(from_dir, data_dir);
  if (!status.ok()) {
    std::fprintf(stderr, "optout-admin restore: %s [%s]\n", std::string(status.message()).c_str(),
                 absl::StatusCodeToString(status.code()).c_str());
    ctx.exit_code = 1;
    return;
  }
  std::printf("restored the newest backup of %s into %s; start optoutd with --data_dir=%s and "
              "the registry's --secret_file\n",
              from_dir.c_str(), data_dir.c_str(), data_dir.c_str());
}

const char* RotationStateName(admin::KeyRotationStatus::State state) {
  switch (state) {
    case admin::KeyRotationStatus::STATE_IDLE: return "idle";
    case admin::KeyRotationStatus::STATE_RUNNING: return "running";
    case admin::KeyRotationStatus::STATE_FAILED: return "failed";
    case admin::KeyRotationStatus::STATE_DONE: return "done";
    default: return "unknown";
  }
}

void PrintRotation(const admin::KeyRotationStatus& s) {
  std::printf("key rotation: %s, version %u -> %u%s%s, %.1f%% scanned, %llu records re-keyed, "
              "%llu opt-outs",
              RotationStateName(s.state()), s.from_version(), s.to_version(),
              s.secret_file().empty() ? "" : " of ", s.secret_file().c_str(),
              100.0 * s.fraction_done(), static_cast<unsigned long long>(s.rekeyed()),
              static_cast<unsigned long long>(s.opt_outs()));
  if (s.records_per_second() > 0) std::printf(", %.0f records/s", s.records_per_second());
  if (!s.error().empty()) std::printf(" (%s)", s.error().c_str());
  std::printf("\n");
  // Cluster mode: each node's own progress, as it last told the others.
  for (const admin::KeyRotationStatus& node : s.nodes()) {
    const int64_t age = absl::ToUnixSeconds(absl::Now()) - node.reported_unix_seconds();
    std::printf("  node %s: %s, version %u -> %u, %.1f%% scanned, %llu records re-keyed, %llu "
                "opt-outs%s%s (%lld s ago)\n",
                node.node_name().c_str(), RotationStateName(node.state()), node.from_version(),
                node.to_version(), 100.0 * node.fraction_done(),
                static_cast<unsigned long long>(node.rekeyed()),
                static_cast<unsigned long long>(node.opt_outs()), node.error().empty() ? "" : ": ",
                node.error().c_str(), static_cast<long long>(age));
  }
}

struct RotateArgs {
  std::string new_secret_file;
  bool no_wait = false;
  bool status_only = false;
};

void RunRotateKeys(Context& ctx, const RotateArgs& args) {
  auto stub = Connect(ctx);
  admin::KeyRotationStatus status;
  grpc::Status rpc;
  if (args.status_only) {
    rpc = stub->GetKeyRotation(CallContext().get(), admin::GetKeyRotationRequest(), &status);
  } else {
    admin::RotateKeysRequest request;
    request.set_new_secret_file(AbsolutePath(args.new_secret_file));
    rpc = stub->RotateKeys(CallContext().get(), request, &status);
  }
  if (!rpc.ok()) return Report(ctx, "rotate-keys", rpc);
  const absl::Time start = absl::Now();
  // Progress on stderr while optoutd works; the outcome on stdout.
  while (!args.no_wait && !args.status_only &&
         status.state() == admin::KeyRotationStatus::STATE_RUNNING) {
    std::fprintf(stderr, "optout-admin rotate-keys: version %u -> %u: %.1f%% scanned, %llu "
                 "records re-keyed, %.0f records/s\n",
                 status.from_version(), status.to_version(), 100.0 * status.fraction_done(),
                 static_cast<unsigned long long>(status.rekeyed()), status.records_per_second());
    absl::SleepFor(absl::Seconds(2));
    rpc = stub->GetKeyRotation(CallContext().get(), admin::GetKeyRotationRequest(), &status);
    if (!rpc.ok()) return Report(ctx, "rotate-keys", rpc);
  }
  if (ctx.json) {
    PrintJson(status);
  } else {
    PrintRotation(status);
  }
  if (status.state() == admin::KeyRotationStatus::STATE_FAILED) {
    std::fprintf(stderr, "optout-admin rotate-keys: the rotation stopped: %s; run "
                 "optout-admin rotate-keys again to resume it [FAILED_PRECONDITION]\n",
                 status.error().c_str());
    ctx.exit_code = 1;
  } else if (status.state() == admin::KeyRotationStatus::STATE_DONE && !args.status_only &&
             !status.secret_file().empty()) {
    std::fprintf(stderr,
                 "optout-admin rotate-keys: the registry now needs %s; point optoutd's "
                 "--secret_file at it and keep it with your backups (%.0f s)\n",
                 status.secret_file().c_str(), absl::ToDoubleSeconds(absl::Now() - start));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Context ctx;
  if (const char* env = std::getenv("OPTOUT_ADMIN"); env != nullptr) ctx.admin_address = env;
  CLI::App app{"optout-admin: administer an optoutd through its admin listener (API keys, "
               "backups, key rotation)"};
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--admin", ctx.admin_address,
                 "admin address, e.g. unix:/srv/optout/data/admin.sock (env OPTOUT_ADMIN; "
                 "default unix:<data-dir>/admin.sock)");
  app.add_option("--data-dir", ctx.data_dir, "optoutd's --data_dir, to find its admin socket")
      ->capture_default_str();
  app.add_flag("--json", ctx.json, "machine-readable JSON output");
  app.add_option("--tls-ca", ctx.tls_files.ca_file,
                 "connect to a TCP --admin with TLS, trusting the CA certificates in this PEM file");
  app.add_option("--tls-cert", ctx.tls_files.cert_file,
                 "PEM client certificate (mutual TLS; needed off loopback)");
  app.add_option("--tls-key", ctx.tls_files.key_file, "PEM private key of --tls-cert");
  app.parse_complete_callback([&ctx] {
    auto tls = optout::client::LoadTlsOptions(ctx.tls_files);
    if (!tls.ok()) {
      std::fprintf(stderr, "optout-admin: %s [%s]\n", std::string(tls.status().message()).c_str(),
                   absl::StatusCodeToString(tls.status().code()).c_str());
      throw CLI::RuntimeError(1);
    }
    ctx.tls = *std::move(tls);
  });

  CLI::App* keys = app.add_subcommand("keys", "API keys of checkers");
  keys->require_subcommand(1);

  CreateArgs create;
  CLI::App* create_cmd = keys->add_subcommand("create", "create a key and print it (once)");
  create_cmd->add_option("--name", create.name, "unique name, [A-Za-z0-9._-]{1,64}")->required();
  create_cmd->add_option("--items-per-minute", create.items_per_minute,
                         "items checked per minute, all kinds (0: no limit; default 60000)");
  create_cmd->add_option("--items-per-day", create.items_per_day,
                         "items checked per day, all kinds (0: no limit; default 10000000)");
  create_cmd->add_option("--pdq-per-day", create.pdq_per_day,
                         "PDQ items checked per day (0: no limit; default 10000)");
  create_cmd->add_option("--methods", create.methods,
                         "method classes allowed: check, check_pdq (default both)")
      ->delimiter(',');
  create_cmd->add_option("--cert-subject", create.cert_subject,
                         "a client certificate with this subject (RFC 2253, as `openssl x509 "
                         "-noout -subject -nameopt RFC2253` prints it, e.g. CN=crawler,O=Acme) "
                         "stands for the key under mutual TLS");
  create_cmd->callback([&] { RunCreate(ctx, create); });

  keys->add_subcommand("list", "list keys and their limits")->callback([&] { RunList(ctx); });

  std::string revoke_name;
  CLI::App* revoke_cmd = keys->add_subcommand("revoke", "revoke a key; it stops working at once");
  revoke_cmd->add_option("NAME", revoke_name, "key name")->required();
  revoke_cmd->callback([&] { RunRevoke(ctx, revoke_name); });

  std::string usage_name;
  CLI::App* usage_cmd =
      keys->add_subcommand("usage", "counts per key since optoutd started (never the values)");
  usage_cmd->add_option("NAME", usage_name, "key name (default: every key)");
  usage_cmd->callback([&] { RunUsage(ctx, usage_name); });

  std::string backup_to;
  CLI::App* backup_cmd = app.add_subcommand(
      "backup", "online, consistent backup of the running registry's database into DIR");
  backup_cmd->add_option("--to", backup_to,
                         "folder on optoutd's machine, outside its data folder (created 0700)")
      ->required();
  backup_cmd->callback([&] { RunBackup(ctx, backup_to); });

  std::string restore_from, restore_data_dir;
  CLI::App* restore_cmd = app.add_subcommand(
      "restore", "restore the newest backup in DIR into an empty data folder (optoutd stopped)");
  restore_cmd->add_option("--from", restore_from, "backup folder")->required();
  restore_cmd->add_option("--data_dir", restore_data_dir,
                          "new data folder for optoutd (must not hold a database)")
      ->required();
  restore_cmd->callback([&] { RunRestore(ctx, restore_from, restore_data_dir); });

  RotateArgs rotate;
  CLI::App* rotate_cmd = app.add_subcommand(
      "rotate-keys",
      "move every stored opt-out to a new key version while the registry serves (resumable)");
  rotate_cmd->add_option("--new-secret-file", rotate.new_secret_file,
                         "rotate to a new registry secret in this file on optoutd's machine "
                         "(created, mode 0600, when missing); default: the next version of the "
                         "secret in use");
  rotate_cmd->add_flag("--no-wait", rotate.no_wait,
                       "start (or resume) and return; optoutd carries on in the background");
  rotate_cmd->add_flag("--status", rotate.status_only,
                       "only report where the last or current rotation is");
  rotate_cmd->callback([&] { RunRotateKeys(ctx, rotate); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // already reported
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "optout-admin: %s (see optout-admin --help) [INVALID_ARGUMENT]\n",
                 e.what());
    return 1;
  }
  return ctx.exit_code;
}
