// optout register / get / revoke.
//
// `register --image FILE` hashes the image here (PDQ, SHA-256, MD5); only the
// hashes are sent. Every registration leaves a receipt file (mode 0600)
// holding the manage token, because the registry keeps only the token's hash.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/receipt.h"
#include "client/common/digest/digest.h"
#include "client/pdq/image_hasher.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

// Used when the server does not say (GetInfo unavailable).
constexpr int kDefaultMinPdqQuality = 50;

struct RegisterArgs {
  std::vector<std::string> urls, scopes, pdq, sha256, md5, images;
  std::string request_id;
  std::string receipt_path;
  bool dihedral = false;
  bool no_receipt = false;
};

std::string Bytes(const std::array<uint8_t, 32>& b) { return std::string(b.begin(), b.end()); }

absl::StatusOr<v1::RegisterRequest> BuildRegisterRequest(const RegisterArgs& args,
                                                         nlohmann::ordered_json* registered) {
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
  (*registered)["urls"] = args.urls;
  (*registered)["scopes"] = args.scopes;
  (*registered)["pdq"] = args.pdq;
  (*registered)["sha256"] = args.sha256;
  (*registered)["md5"] = args.md5;
  return request;
}

// Hashes each image and adds its hashes to `request`. Images whose PDQ
// quality is below the server's minimum are registered by file digests only
// (the server would refuse the hash), with a note on stderr.
absl::Status AddImages(const RegisterArgs& args, int min_quality, v1::RegisterRequest* request,
                       nlohmann::ordered_json* registered) {
  pdq::HashOptions options;
  options.dihedral = args.dihedral;
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  for (const std::string& file : args.images) {
    auto hashes = pdq::HashImageFile(file, options);
    if (!hashes.ok()) {
      return absl::Status(hashes.status().code(),
                          absl::StrCat("--image ", hashes.status().message()));
    }
    nlohmann::ordered_json image;
    image["file"] = file;
    image["pdq"] = hashes->pdq.ToHex();
    image["quality"] = hashes->quality;
    image["sha256"] = digest::ToHex(hashes->sha256);
    image["md5"] = digest::ToHex(hashes->md5);
    const bool pdq_ok = hashes->quality >= min_quality;
    image["pdq_registered"] = pdq_ok;
    if (pdq_ok) {
      // The plain hash first, then the distinct rotations/flips of it.
      std::set<std::string> seen;
      nlohmann::ordered_json variants = nlohmann::ordered_json::array();
      auto add = [&](const pdq::PdqHash& h, bool variant) {
        if (!seen.insert(Bytes(h.bytes)).second) return;
        v1::PdqHash* out = request->add_pdq();
        out->set_hash(Bytes(h.bytes));
        out->set_quality(hashes->quality);
        if (variant) variants.push_back(h.ToHex());
      };
      add(hashes->pdq, false);
      if (args.dihedral) {
        for (const pdq::PdqHash& h : hashes->dihedral) add(h, true);
        image["dihedral"] = variants;
      }
    } else {
      std::fprintf(stderr,
                   "optout register: note: %s has PDQ quality %d (< %d, too flat or small): "
                   "registered by its file digests only, near-duplicates will not match\n",
                   file.c_str(), hashes->quality, min_quality);
    }
    request->add_sha256(Bytes(hashes->sha256));
    request->add_md5(std::string(hashes->md5.begin(), hashes->md5.end()));
    images.push_back(std::move(image));
  }
  (*registered)["images"] = std::move(images);
  (*registered)["dihedral"] = args.dihedral;
  return absl::OkStatus();
}

void RunRegister(CommandContext& ctx, const RegisterArgs& args) {
  auto client = client::RegistryClient::Create(ctx.server);
  nlohmann::ordered_json registered;
  auto request = BuildRegisterRequest(args, &registered);
  if (!request.ok()) return ReportError(ctx, "register", request.status());
  if (!args.images.empty()) {
    auto info = client->GetInfo();
    if (!info.ok()) return ReportError(ctx, "register", info.status());
    const int min_quality =
        info->min_pdq_quality() > 0 ? info->min_pdq_quality() : kDefaultMinPdqQuality;
    absl::Status added = AddImages(args, min_quality, &*request, &registered);
    if (!added.ok()) return ReportError(ctx, "register", added);
  }
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
  if (!response.ok()) return ReportError(ctx, "register", response.status());

  absl::Status saved = absl::OkStatus();
  if (!args.no_receipt) {
    if (receipt_path.empty()) receipt_path = *DefaultReceiptPath(response->opt_out_id());
    Receipt receipt;
    receipt.id = response->opt_out_id();
    receipt.token = response->manage_token();
    receipt.server = ctx.server;
    receipt.created = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
    receipt.registered = std::move(registered);
    saved = WriteReceipt(receipt_path, receipt);
  }
  if (ctx.json) {
    nlohmann::json out = {{"id", response->opt_out_id()}, {"token", response->manage_token()}};
    if (!args.no_receipt && saved.ok()) out["receipt"] = receipt_path;
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << "opt-out id:   " << response->opt_out_id() << "\n"
              << "manage token: " << response->manage_token() << "\n";
    if (!args.no_receipt && saved.ok()) {
      std::cout << "receipt:      " << receipt_path << " (mode 0600)\n";
    }
    std::cout << "Keep the token safe: it is the only way to see or revoke this opt-out,\n"
              << "and the registry cannot recover it.\n";
  }
  // The token was printed above, so a failed receipt write loses nothing.
  if (!saved.ok()) ReportError(ctx, "register", saved);
}

struct ManageArgs {
  std::string id, token, receipt;
};

// Resolves id/token (and, when neither --server nor $OPTOUT_SERVER chose one,
// the server) from --receipt or from --id/--token.
absl::Status ResolveManageArgs(CLI::App& sub, CommandContext& ctx, ManageArgs* args) {
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
  args->id = receipt->id;
  args->token = receipt->token;
  const char* env = std::getenv("OPTOUT_SERVER");
  const bool server_chosen = sub.get_parent()->get_option("--server")->count() > 0 ||
                             (env != nullptr && *env != '\0');
  if (!server_chosen && !receipt->server.empty()) ctx.server = receipt->server;
  return absl::OkStatus();
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
      "register",
      "register an opt-out: images (hashed locally), URLs, scopes, PDQ hashes, file digests");
  reg->add_option("--image", args->images,
                  "image file to opt out; hashed here, only PDQ/SHA-256/MD5 are sent (repeatable)");
  reg->add_flag("--dihedral", args->dihedral,
                "with --image: also register the rotated and mirrored PDQ hashes");
  reg->add_option("--url", args->urls, "exact URL to opt out (repeatable)");
  reg->add_option("--scope", args->scopes,
                  "host or directory scope, e.g. https://example.com/photos/ (repeatable)");
  reg->add_option("--pdq", args->pdq, "PDQ hash, 64 hex digits (repeatable)");
  reg->add_option("--sha256", args->sha256, "SHA-256 of image file bytes, hex (repeatable)");
  reg->add_option("--md5", args->md5, "MD5 of image file bytes, hex (repeatable)");
  reg->add_option("--request-id", args->request_id,
                  "idempotency key; a retry with the same id returns the same opt-out "
                  "(default: random)");
  reg->add_option("--receipt", args->receipt_path,
                  "where to save the receipt with the manage token, mode 0600, never overwritten "
                  "(default: ~/.optout/receipt-<opt-out id>.json)");
  reg->add_flag("--no-receipt", args->no_receipt,
                "save no receipt (the token is only printed)");
  reg->callback([&ctx, args] { RunRegister(ctx, *args); });

  for (const char* name : {"get", "revoke"}) {
    auto margs = std::make_shared<ManageArgs>();
    const bool is_get = std::string(name) == "get";
    CLI::App* sub = app.add_subcommand(
        name, is_get ? "show what an opt-out holds (needs its manage token)"
                     : "revoke an opt-out for good (needs its manage token)");
    sub->add_option("--id", margs->id, "opt-out id");
    sub->add_option("--token", margs->token, "manage token returned by register");
    sub->add_option("--receipt", margs->receipt,
                    "receipt file written by register (instead of --id/--token)");
    sub->callback([&ctx, margs, sub, is_get] {
      ManageArgs resolved = *margs;
      absl::Status s = ResolveManageArgs(*sub, ctx, &resolved);
      if (!s.ok()) return ReportError(ctx, is_get ? "get" : "revoke", s);
      if (is_get) {
        RunGet(ctx, resolved.id, resolved.token);
      } else {
        RunRevoke(ctx, resolved.id, resolved.token);
      }
    });
  }
}

}  // namespace optout::cli
