// optout register / get / revoke.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

struct RegisterArgs {
  std::vector<std::string> urls, scopes, pdq, sha256, md5;
  std::string request_id;
};

absl::StatusOr<v1::RegisterRequest> BuildRegisterRequest(const RegisterArgs& args) {
  v1::RegisterRequest request;
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  for (const auto& u : args.urls) request.add_urls(u);
  for (const auto& s : args.scopes) request.add_scopes(s);
  for (const auto& hex : args.pdq) {
    auto bytes = PdqWireBytesFromHex(hex);
    if (!bytes.ok()) return bytes.status();
    request.add_pdq()->set_hash(*bytes);
  }
  for (const auto& hex : args.sha256) {
    auto bytes = DigestFromHex("--sha256", hex, 32);
    if (!bytes.ok()) return bytes.status();
    request.add_sha256(*bytes);
  }
  for (const auto& hex : args.md5) {
    auto bytes = DigestFromHex("--md5", hex, 16);
    if (!bytes.ok()) return bytes.status();
    request.add_md5(*bytes);
  }
  return request;
}

void RunRegister(CommandContext& ctx, const RegisterArgs& args) {
  auto request = BuildRegisterRequest(args);
  if (!request.ok()) return ReportError(ctx, "register", request.status());
  auto client = client::RegistryClient::Create(ctx.server);
  auto response = client->Register(*request);
  if (!response.ok()) return ReportError(ctx, "register", response.status());
  if (ctx.json) {
    nlohmann::json out = {{"id", response->opt_out_id()}, {"token", response->manage_token()}};
    std::cout << out.dump() << std::endl;
    return;
  }
  std::cout << "opt-out id:   " << response->opt_out_id() << "\n"
            << "manage token: " << response->manage_token() << "\n"
            << "Keep the token safe: it is the only way to see or revoke this opt-out,\n"
            << "and the registry cannot recover it.\n";
}

void RunGet(CommandContext& ctx, const std::string& id, const std::string& token) {
  auto client = client::RegistryClient::Create(ctx.server);
  auto response = client->Get(id, token);
  if (!response.ok()) return ReportError(ctx, "get", response.status());
  const std::string created = absl::FormatTime(
      absl::RFC3339_sec, absl::FromUnixSeconds(response->created_unix_seconds()),
      absl::UTCTimeZone());
  if (ctx.json) {
    nlohmann::json out = {{"id", response->opt_out_id()},   {"created", created},
                          {"urls", response->url_count()},  {"scopes", response->scope_count()},
                          {"pdq", response->pdq_count()},   {"sha256", response->sha256_count()},
                          {"md5", response->md5_count()}};
    std::cout << out.dump() << std::endl;
    return;
  }
  std::cout << "opt-out id: " << response->opt_out_id() << "\n"
            << "created:    " << created << "\n"
            << "holds:      " << response->url_count() << " url(s), " << response->scope_count()
            << " scope(s), " << response->pdq_count() << " pdq hash(es), "
            << response->sha256_count() << " sha256, " << response->md5_count() << " md5\n";
}

void RunRevoke(CommandContext& ctx, const std::string& id, const std::string& token) {
  auto client = client::RegistryClient::Create(ctx.server);
  absl::Status s = client->Revoke(id, token);
  if (!s.ok()) return ReportError(ctx, "revoke", s);
  if (ctx.json) {
    std::cout << nlohmann::json({{"id", id}, {"revoked", true}}).dump() << std::endl;
  } else {
    std::cout << "revoked " << id << "\n";
  }
}

}  // namespace

void AddRegistryCommands(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<RegisterArgs>();
  CLI::App* reg = app.add_subcommand(
      "register", "register an opt-out: URLs, scopes, PDQ hashes, file digests (one opt-out)");
  reg->add_option("--url", args->urls, "exact URL to opt out (repeatable)");
  reg->add_option("--scope", args->scopes,
                  "host or directory scope, e.g. https://example.com/photos/ (repeatable)");
  reg->add_option("--pdq", args->pdq, "PDQ hash, 64 hex digits (repeatable)");
  reg->add_option("--sha256", args->sha256, "SHA-256 of image file bytes, hex (repeatable)");
  reg->add_option("--md5", args->md5, "MD5 of image file bytes, hex (repeatable)");
  reg->add_option("--request-id", args->request_id,
                  "idempotency key; a retry with the same id returns the same opt-out "
                  "(default: random)");
  reg->callback([&ctx, args] { RunRegister(ctx, *args); });

  for (const char* name : {"get", "revoke"}) {
    auto id = std::make_shared<std::string>();
    auto token = std::make_shared<std::string>();
    const bool is_get = std::string(name) == "get";
    CLI::App* sub = app.add_subcommand(
        name, is_get ? "show what an opt-out holds (needs its manage token)"
                     : "revoke an opt-out for good (needs its manage token)");
    sub->add_option("--id", *id, "opt-out id")->required();
    sub->add_option("--token", *token, "manage token returned by register")->required();
    sub->callback([&ctx, id, token, is_get] {
      if (is_get) {
        RunGet(ctx, *id, *token);
      } else {
        RunRevoke(ctx, *id, *token);
      }
    });
  }
}

}  // namespace optout::cli
