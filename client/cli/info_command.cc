// optout info: what the server reports about itself (GetInfo): its version,
// match settings and Public Suffix List, and in cluster mode the registry
// version this node has applied, its lag and running digest (nodes at the
// same version with different digests have diverged), and the public key
// that signs check receipts.
#include <iostream>

#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/common/digest/digest.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

void RunInfo(CommandContext& ctx) {
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "info", connected.status());
  absl::StatusOr<v1::GetInfoResponse> info = (*connected)->GetInfo();
  if (!info.ok()) return ReportError(ctx, "info", info.status());
  const nlohmann::ordered_json out = {
      {"server_version", info->server_version()},
      {"psl_version", info->psl_version()},
      {"psl_sha256", info->psl_sha256()},
      {"pdq_threshold", info->pdq_threshold()},
      {"max_batch_items", info->max_batch_items()},
      {"min_pdq_quality", info->min_pdq_quality()},
      {"low_quality_pdq_floor", info->low_quality_pdq_floor()},
      {"low_quality_pdq_distance", info->low_quality_pdq_distance()},
      {"pdq_region_tiers", info->pdq_region_tiers()},
      {"pdq_region_mirrors", info->pdq_region_mirrors()},
      {"node_name", info->node_name()},
      {"applied_version", info->applied_version()},
      {"version_lag", info->version_lag()},
      {"applied_digest", info->applied_digest()},
      // The key that signs check receipts (keep it to verify old receipts
      // after a key rotation: optout verify-receipt --registry-key).
      {"receipt_public_key", digest::ToHex(info->receipt_public_key())},
      {"receipt_key_fingerprint", info->receipt_key_fingerprint()}};
  if (ctx.json) {
    std::cout << out.dump() << std::endl;
    return;
  }
  for (const auto& [name, value] : out.items()) {
    std::cout << name << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
              << "\n";
  }
}

}  // namespace

void AddInfoCommand(CLI::App& app, CommandContext& ctx) {
  CLI::App* info = app.add_subcommand(
      "info",
      "what the server reports: version, match settings, Public Suffix List and, in cluster "
      "mode, its node name, applied registry version, lag and running digest");
  info->callback([&ctx] { RunInfo(ctx); });
}

}  // namespace optout::cli
