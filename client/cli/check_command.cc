// optout check: check URLs, PDQ hashes and file digests in one batch.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

struct CheckArgs {
  std::vector<std::string> urls, pdq, sha256, md5;
};

// Items in flag order: URLs, then PDQ hashes, then SHA-256, then MD5; the
// label says what each result belongs to.
absl::Status BuildCheck(const CheckArgs& args, v1::CheckRequest* request,
                        std::vector<std::string>* labels) {
  for (const auto& u : args.urls) {
    request->add_items()->set_url(u);
    labels->push_back(u);
  }
  for (const auto& hex : args.pdq) {
    auto bytes = PdqWireBytesFromHex(hex);
    if (!bytes.ok()) return bytes.status();
    request->add_items()->mutable_pdq()->set_hash(*bytes);
    labels->push_back("pdq:" + hex);
  }
  for (const auto& hex : args.sha256) {
    auto bytes = DigestFromHex("--sha256", hex, 32);
    if (!bytes.ok()) return bytes.status();
    request->add_items()->set_sha256(*bytes);
    labels->push_back("sha256:" + hex);
  }
  for (const auto& hex : args.md5) {
    auto bytes = DigestFromHex("--md5", hex, 16);
    if (!bytes.ok()) return bytes.status();
    request->add_items()->set_md5(*bytes);
    labels->push_back("md5:" + hex);
  }
  return absl::OkStatus();
}

void RunCheck(CommandContext& ctx, const CheckArgs& args) {
  v1::CheckRequest request;
  std::vector<std::string> labels;
  absl::Status built = BuildCheck(args, &request, &labels);
  if (!built.ok()) return ReportError(ctx, "check", built);
  if (request.items_size() == 0) {
    return ReportError(ctx, "check", absl::InvalidArgumentError(
                                         "nothing to check: give --url, --pdq, --sha256 or --md5"));
  }
  auto client = client::RegistryClient::Create(ctx.server);
  auto response = client->Check(request);
  if (!response.ok()) return ReportError(ctx, "check", response.status());
  if (ctx.json) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& r : response->results()) {
      results.push_back({{"matched", r.matched()},
                         {"match", MatchKindName(r.kind())},
                         {"ids", std::vector<std::string>(r.opt_out_ids().begin(),
                                                          r.opt_out_ids().end())}});
    }
    std::cout << nlohmann::json({{"results", results}}).dump() << std::endl;
    return;
  }
  for (int i = 0; i < response->results_size(); ++i) {
    const auto& r = response->results(i);
    std::string ids;
    for (const auto& id : r.opt_out_ids()) ids += (ids.empty() ? "" : ",") + id;
    std::cout << (r.matched() ? "OPTED-OUT " : "clear     ") << MatchKindName(r.kind()) << "\t"
              << (ids.empty() ? "-" : ids) << "\t" << labels[i] << "\n";
  }
}

}  // namespace

void AddCheckCommand(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* check = app.add_subcommand(
      "check", "check URLs, PDQ hashes or file digests against the registry (exit 0 either way)");
  check->add_option("--url", args->urls, "URL to check (repeatable)");
  check->add_option("--pdq", args->pdq, "PDQ hash, 64 hex digits (repeatable)");
  check->add_option("--sha256", args->sha256, "SHA-256 of file bytes, hex (repeatable)");
  check->add_option("--md5", args->md5, "MD5 of file bytes, hex (repeatable)");
  check->callback([&ctx, args] { RunCheck(ctx, *args); });
}

}  // namespace optout::cli
