// optout register / get / revoke.
//
// `register --image FILE` hashes the image here (PDQ, SHA-256, MD5); only the
// hashes are sent. Every registration leaves a receipt file (mode 0600)
// holding the manage token, because the registry keeps only the token's hash.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/cli/flag_names.h"
#include "client/cli/item_flags.h"
#include "client/cli/receipt.h"
#include "client/cli/request_builder.h"
#include "client/cli/scope_status.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/match_kind.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

struct RegisterArgs {
  ItemFlags items;
  std::string request_id;
  std::string receipt_path;
  bool dihedral = false;
  bool no_receipt = false;
};

// Warns (without stopping) about every image of this registration that an
// active receipt in the receipt folder (~/.optout/) already holds: the user
// may be about to create a second opt-out for the same photo.
void WarnAboutImagesAlreadyRegistered(const nlohmann::ordered_json& registered) {
  if (!registered.contains("images")) return;
  auto default_path = DefaultReceiptPath("x");
  if (!default_path.ok()) return;  // no $HOME: no receipt folder to look in
  const std::string dir = default_path->substr(0, default_path->rfind('/'));
  auto receipts = ReadReceiptFolder(dir);
  if (!receipts.ok()) return;
  for (const auto& image : registered["images"]) {
    for (const auto& [path, receipt] : *receipts) {
      if (!receipt.revoked.empty() || !receipt.registered.contains("images")) continue;
      for (const auto& held : receipt.registered["images"]) {
        if (held.contains("sha256") && held["sha256"] == image["sha256"]) {
          ReportNote("register",
                     absl::StrCat(image["file"].get<std::string>(),
                                  " is already registered (same SHA-256) by opt-out ",
                                  receipt.id, ", receipt ", path));
          break;
        }
      }
    }
  }
}

// Each registered item with the match id checks will name it by, in the
// server's order (urls, scopes, pdq, sha256, md5, url_any_query; request
// order within one).
nlohmann::ordered_json MatchIdsOf(const v1::RegisterRequest& request,
                                  const v1::RegisterResponse& response) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const v1::RegisteredItem& item : response.items()) {
    const int i = item.index();
    std::string value;
    switch (item.kind()) {
      case v1::MATCH_KIND_URL:
        if (i < request.urls_size()) value = request.urls(i);
        break;
      case v1::MATCH_KIND_SCOPE:
        if (i < request.scopes_size()) value = request.scopes(i);
        break;
      case v1::MATCH_KIND_URL_ANY_QUERY:
        if (i < request.url_any_query_size()) value = request.url_any_query(i);
        break;
      case v1::MATCH_KIND_PDQ:
        if (i < request.pdq_size()) value = digest::ToHex(request.pdq(i).hash());
        break;
      case v1::MATCH_KIND_SHA256:
        if (i < request.sha256_size()) value = digest::ToHex(request.sha256(i));
        break;
      case v1::MATCH_KIND_MD5:
        if (i < request.md5_size()) value = digest::ToHex(request.md5(i));
        break;
      default:
        break;
    }
    out.push_back({{"kind", protocol::MatchKindName(item.kind())},
                   {"item", value},
                   {"match_id", item.match_id()}});
  }
  return out;
}

void RunRegister(CommandContext& ctx, const RegisterArgs& args) {
  if (args.items.empty()) {
    return ReportError(ctx, "register", absl::InvalidArgumentError(
        "nothing to register: give --image FILE (a photo, hashed here), --url URL, "
        "--url-any-query URL, --scope URL, --pdq HEX:QUALITY, --sha256 HEX or --md5 HEX"));
  }
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "register", connected.status());
  client::RegistryClient* client = connected->get();
  nlohmann::ordered_json registered;
  auto request = BuildRegisterRequest(
      args.items, args.request_id.empty() ? NewRequestId() : args.request_id, args.dihedral,
      [&client] { return ServerPdqFloors(*client); }, &registered);
  if (!request.ok()) return ReportError(ctx, "register", request.status());
  WarnAboutImagesAlreadyRegistered(registered);
  // The receipt path is settled before registering, so that a bad path never
  // costs a token.
  std::string receipt_path = args.receipt_path;
  if (!args.no_receipt) {
    if (receipt_path.empty()) {
      // Named after the opt-out id once it is known; only $HOME matters now.
      auto path = DefaultReceiptPath("");
      if (!path.ok()) return ReportError(ctx, "register", path.status());
    } else {
      absl::Status free = CheckReceiptPathFree(receipt_path);
      if (!free.ok()) return ReportError(ctx, "register", free);
    }
  }
  auto response = client->Register(*request);
  if (!response.ok()) {
    const ItemFlags& items = args.items;
    const FieldFlag fields[] = {
        {"urls", "--url", &items.Values(ItemKind::kUrl)},
        {"url_any_query", "--url-any-query", &items.Values(ItemKind::kUrlAnyQuery)},
        {"scopes", "--scope", &items.Values(ItemKind::kScope)},
        {"pdq", "--pdq", &items.Values(ItemKind::kPdq)},
        {"sha256", "--sha256", &items.Values(ItemKind::kSha256)},
        {"md5", "--md5", &items.Values(ItemKind::kMd5)},
        {"request_id", "--request-id"}};
    return ReportError(ctx, "register", RenameFieldAsFlag(response.status(), fields));
  }

  const nlohmann::ordered_json match_ids = MatchIdsOf(*request, *response);
  absl::Status saved = absl::OkStatus();
  if (!args.no_receipt) {
    if (receipt_path.empty()) receipt_path = *DefaultReceiptPath(response->opt_out_id());
    Receipt receipt;
    receipt.id = response->opt_out_id();
    receipt.token = response->manage_token();
    receipt.server = ctx.server;
    receipt.created = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
    receipt.registered = std::move(registered);
    receipt.match_ids = match_ids;
    receipt.version = response->version();
    receipt.challenge =
        ChallengeJson(response->challenge_token(), response->scopes());
    saved = WriteReceipt(receipt_path, receipt);
  }
  if (ctx.json) {
    nlohmann::ordered_json out = {{"id", response->opt_out_id()},
                                  {"token", response->manage_token()},
                                  {"match_ids", match_ids},
                                  // check --min-version with it sees the opt-out on any node
                                  {"version", response->version()}};
    if (response->scopes_size() > 0) {
      out["challenge"] =
          ChallengeJson(response->challenge_token(), response->scopes());
      out["scopes"] = ScopeStatusesJson(response->scopes());
    }
    if (!args.no_receipt && saved.ok()) out["receipt"] = receipt_path;
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << "opt-out id:   " << response->opt_out_id() << "\n"
              << "manage token: " << response->manage_token() << "\n";
    if (!args.no_receipt && saved.ok()) {
      std::cout << "receipt:      " << receipt_path << " (mode 0600)\n";
    }
    std::cout << "match ids:    " << match_ids.size()
              << " (one per item: what checks report instead of the opt-out id; "
              << (args.no_receipt ? "--json lists them" : "listed in the receipt") << ")\n";
    std::cout << "Keep the token safe: it is the only way to see or revoke this opt-out,\n"
              << "and the registry cannot recover it.\n";
    PrintChallenge(response->challenge_token(), response->scopes(), std::cout);
  }
  // The token was printed above, so a failed receipt write loses nothing.
  if (!saved.ok()) ReportError(ctx, "register", saved);
}

struct ManageArgs {
  std::string id, token, receipt;
  // revoke: RevokeRequest.min_version (--min-version, else the receipt's).
  uint64_t min_version = 0;
};

// Resolves id/token (and, when neither --server nor $OPTOUT_SERVER chose one,
// the server) from --receipt or from --id/--token.
absl::Status ResolveManageArgs(CLI::App& sub, CommandContext& ctx, ManageArgs* args) {
  // Pasted ids and tokens often carry a space or a newline.
  args->id = std::string(absl::StripAsciiWhitespace(args->id));
  args->token = std::string(absl::StripAsciiWhitespace(args->token));
  if (args->receipt.empty()) {
    if (args->id.empty() || args->token.empty()) {
      return absl::InvalidArgumentError("give --receipt FILE, or both --id and --token");
    }
    return absl::OkStatus();
  }
  if (!args->id.empty() || !args->token.empty()) {
    return absl::InvalidArgumentError("--receipt replaces --id/--token; give one or the other");
  }
  auto receipt = ReadReceipt(args->receipt);
  if (!receipt.ok()) return receipt.status();
  args->id = std::string(absl::StripAsciiWhitespace(receipt->id));
  args->token = std::string(absl::StripAsciiWhitespace(receipt->token));
  if (args->min_version == 0) args->min_version = receipt->version;
  const char* env = std::getenv("OPTOUT_SERVER");
  const bool server_chosen = sub.get_parent()->get_option("--server")->count() > 0 ||
                             (env != nullptr && *env != '\0');
  if (!server_chosen && !receipt->server.empty()) ctx.server = receipt->server;
  return absl::OkStatus();
}

// A Get/Revoke error naming what the user gave: --id / --token, or the
// receipt they came from.
absl::Status NameManageFlags(const absl::Status& status, const ManageArgs& args) {
  if (args.receipt.empty()) return RenameFieldAsFlag(status, ManageFieldFlags());
  const std::string receipt = absl::StrCat("--receipt ", args.receipt);
  const FieldFlag fields[] = {{"opt_out_id", receipt}, {"manage_token", receipt}};
  return RenameFieldAsFlag(status, fields);
}

void RunGet(CommandContext& ctx, const ManageArgs& args) {
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "get", connected.status());
  client::RegistryClient* client = connected->get();
  auto response = client->Get(args.id, args.token);
  if (!response.ok()) return ReportError(ctx, "get", NameManageFlags(response.status(), args));
  const std::string created = absl::FormatTime(
      absl::RFC3339_sec, absl::FromUnixSeconds(response->created_unix_seconds()),
      absl::UTCTimeZone());
  if (ctx.json) {
    nlohmann::json out = {{"id", response->opt_out_id()},   {"created", created},
                          {"urls", response->url_count()},
                          {"url_any_query", response->url_any_query_count()},
                          {"scopes", response->scope_count()},
                          {"pdq", response->pdq_count()},   {"sha256", response->sha256_count()},
                          {"md5", response->md5_count()}};
    out["match_ids"] = nlohmann::json::array();
    for (const v1::RegisteredItem& item : response->items()) {
      out["match_ids"].push_back(
          {{"kind", protocol::MatchKindName(item.kind())}, {"match_id", item.match_id()}});
    }
    if (response->scopes_size() > 0) {
      out["challenge_token"] = response->challenge_token();
      out["scope_states"] = ScopeStatusesJson(response->scopes());
    }
    std::cout << out.dump() << std::endl;
    return;
  }
  std::cout << "opt-out id: " << response->opt_out_id() << "\n"
            << "created:    " << created << "\n"
            << "holds:      " << response->url_count() << " url(s), "
            << response->url_any_query_count() << " any-query url(s), " << response->scope_count()
            << " scope(s), " << response->pdq_count() << " pdq hash(es), "
            << response->sha256_count() << " sha256, " << response->md5_count() << " md5\n";
  for (const v1::RegisteredItem& item : response->items()) {
    std::cout << "match id:   " << item.match_id() << " " << protocol::MatchKindName(item.kind())
              << "\n";
  }
  if (response->scopes_size() > 0) {
    std::cout << "challenge:  " << response->challenge_token() << "\n";
    PrintScopeStatuses(response->scopes(), std::cout);
  }
}

// Exit status 1 when a scope is still not verified after the check: a
// script can wait for its DNS record to spread and try again.
void RunVerify(CommandContext& ctx, const ManageArgs& args) {
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "verify", connected.status());
  auto response = connected->get()->Verify(args.id, args.token);
  if (!response.ok()) return ReportError(ctx, "verify", NameManageFlags(response.status(), args));
  bool all_verified = true;
  for (const v1::ScopeStatus& scope : response->scopes()) {
    all_verified &= scope.state() == v1::SCOPE_STATE_VERIFIED;
  }
  if (ctx.json) {
    std::cout << nlohmann::ordered_json({{"id", args.id},
                                         {"scopes", ScopeStatusesJson(response->scopes())}})
                     .dump()
              << std::endl;
  } else if (response->scopes_size() == 0) {
    std::cout << "opt-out " << args.id << " has no scopes; nothing needs proof\n";
  } else {
    PrintScopeStatuses(response->scopes(), std::cout);
  }
  if (!all_verified) ctx.exit_code = 1;
}

// The day in the server's "already revoked on YYYY-MM-DD" answer to a second
// revoke (FailedPrecondition); empty for any other status.
std::string AlreadyRevokedDate(const absl::Status& status) {
  constexpr absl::string_view kMarker = "already revoked on ";
  if (status.code() != absl::StatusCode::kFailedPrecondition) return "";
  const size_t at = status.message().find(kMarker);
  if (at == absl::string_view::npos) return "";
  return std::string(status.message().substr(at + kMarker.size(), 10));
}

void RunRevoke(CommandContext& ctx, const ManageArgs& args) {
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "revoke", connected.status());
  client::RegistryClient* client = connected->get();
  uint64_t version = 0;
  absl::Status s = client->Revoke(args.id, args.token, &version, args.min_version);
  std::string date = AlreadyRevokedDate(s);
  if (s.ok()) date = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  // The receipt says the opt-out is gone (also after a second revoke), so
  // that it no longer counts as holding its images.
  absl::Status marked = absl::OkStatus();
  if (!args.receipt.empty() && !date.empty()) marked = MarkReceiptRevoked(args.receipt, date);
  if (!s.ok()) {
    ReportError(ctx, "revoke", NameManageFlags(s, args));
  } else if (ctx.json) {
    std::cout << nlohmann::json({{"id", args.id}, {"revoked", true}, {"version", version}}).dump()
              << std::endl;
  } else {
    std::cout << "revoked " << args.id << "\n";
  }
  if (!marked.ok()) ReportError(ctx, "revoke", marked);
}

}  // namespace

void AddRegistryCommands(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<RegisterArgs>();
  CLI::App* reg = app.add_subcommand(
      "register",
      "register an opt-out: images (hashed locally), URLs, scopes, PDQ hashes, file digests");
  args->items.Add(*reg, ItemKind::kImage,
                  "image file to opt out; hashed here, only PDQ (with up to 63 hashes of crops "
                  "and other windows of it)/SHA-256/MD5 are sent (repeatable)");
  reg->add_flag("--dihedral", args->dihedral,
                "with --image: also register the rotated and mirrored PDQ hashes");
  args->items.Add(*reg, ItemKind::kUrl,
                  "exact URL to opt out, query included: ?s=1 does not cover ?s=2 (repeatable)");
  args->items.Add(*reg, ItemKind::kUrlAnyQuery,
                  "URL whose path is opted out with any query or none, e.g. a CDN image whose "
                  "size parameter varies (repeatable)");
  args->items.Add(*reg, ItemKind::kScope,
                  "host or directory scope, e.g. https://example.com/photos/ (repeatable)");
  args->items.Add(*reg, ItemKind::kPdq,
                  "PDQ hash and its quality as HEX:QUALITY, e.g. from `optout hash` (repeatable)");
  args->items.Add(*reg, ItemKind::kSha256, "SHA-256 of image file bytes, hex (repeatable)");
  args->items.Add(*reg, ItemKind::kMd5, "MD5 of image file bytes, hex (repeatable)");
  reg->add_option("--request-id", args->request_id,
                  "idempotency key, a secret of 128+ random bits (32+ hex or 22+ base64url "
                  "characters); a retry with the same id returns the same opt-out and token "
                  "(default: random)");
  reg->add_option("--receipt", args->receipt_path,
                  "where to save the receipt with the manage token, mode 0600, never overwritten "
                  "(default: ~/.optout/receipt-<opt-out id>.json)");
  reg->add_flag("--no-receipt", args->no_receipt,
                "save no receipt (the token is only printed)");
  reg->callback([&ctx, args] { RunRegister(ctx, *args); });

  for (const char* name : {"get", "revoke", "verify"}) {
    auto margs = std::make_shared<ManageArgs>();
    const std::string command = name;
    const bool is_get = command == "get";
    CLI::App* sub = app.add_subcommand(
        name, is_get ? "show what an opt-out holds (needs its manage token)"
              : command == "revoke"
                  ? "revoke an opt-out for good (needs its manage token)"
                  : "ask the registry to check the challenge of the opt-out's pending or lapsed "
                    "scopes now (HTTPS file or DNS TXT record; exit status 1 while one is "
                    "not verified)");
    sub->add_option("--id", margs->id, "opt-out id");
    sub->add_option("--token", margs->token, "manage token returned by register");
    sub->add_option("--receipt", margs->receipt,
                    "receipt file written by register (instead of --id/--token)");
    if (command == "revoke") {
      sub->add_option("--min-version", margs->min_version,
                      "the version register answered: a node that has not applied it yet "
                      "waits for it (default: the receipt's, when it holds one)");
    }
    sub->callback([&ctx, margs, sub, command] {
      ManageArgs resolved = *margs;
      absl::Status s = ResolveManageArgs(*sub, ctx, &resolved);
      if (!s.ok()) return ReportError(ctx, command, s);
      if (command == "get") {
        RunGet(ctx, resolved);
      } else if (command == "revoke") {
        RunRevoke(ctx, resolved);
      } else {
        RunVerify(ctx, resolved);
      }
    });
  }
}

}  // namespace optout::cli
