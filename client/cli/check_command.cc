// optout check: check URLs, images (hashed here), PDQ hashes and file digests
// in one batch, one result per item in command-line order, each naming its
// item; or, with --stdin, stream URLs through the registry one JSON line per
// input line (client/dataset/url_stream.h).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/cli/item_flags.h"
#include "client/cli/request_builder.h"
#include "client/common/protocol/match_kind.h"
#include "client/common/url/url.h"
#include "client/dataset/url_stream.h"
#include "client/psl_sync.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

struct CheckArgs {
  ItemFlags items;
  bool stdin_urls = false;
  std::string psl_file;
  absl::Duration retry_for = absl::Minutes(1);
  uint64_t min_version = 0;
};

// How strong the evidence of an image's match is, strongest (0) first: the
// file bytes themselves (SHA-256, then MD5) before a near-duplicate (PDQ),
// so a byte-identical copy is reported as sha256, not pdq.
int EvidenceRank(v1::MatchKind kind) {
  switch (kind) {
    case v1::MATCH_KIND_SHA256: return 0;
    case v1::MATCH_KIND_MD5: return 1;
    case v1::MATCH_KIND_PDQ: return 2;
    default: return 3;
  }
}

// The result of one command-line item: its request item's, or for an image
// the strongest of its items' (SHA-256 > MD5 > PDQ) with all their ids.
v1::ItemResult ResultOf(const v1::CheckResponse& response, const CheckPlan::Span& span) {
  if (span.count == 1) return response.results(span.first);
  v1::ItemResult out;
  // Strongest evidence first, so the first id is that of the item whose
  // kind the result names (each registered hash has its own match id).
  std::vector<int> order;
  for (int i = span.first; i < span.first + span.count; ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return EvidenceRank(response.results(a).kind()) < EvidenceRank(response.results(b).kind());
  });
  for (int i : order) {
    const v1::ItemResult& r = response.results(i);
    if (!r.matched()) continue;
    if (!out.matched() || EvidenceRank(r.kind()) < EvidenceRank(out.kind())) {
      out.set_kind(r.kind());
    }
    out.set_matched(true);
    for (const auto& id : r.match_ids()) {
      if (std::find(out.match_ids().begin(), out.match_ids().end(), id) ==
          out.match_ids().end()) {
        out.add_match_ids(id);
      }
    }
  }
  return out;
}

void RunStdin(CommandContext& ctx, const std::vector<ItemArg>& items, const CheckArgs& args) {
  if (!items.empty()) {
    return ReportError(ctx, "check",
                       absl::InvalidArgumentError("--stdin reads URLs from stdin only; give no "
                                                  "--url, --image, --pdq, --sha256 or --md5"));
  }
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "check", connected.status());
  client::RegistryClient* client = connected->get();
  // URLs are sent as digests computed here, with the server's Public Suffix
  // List (fetched and cached when this machine's differs).
  auto info = client->GetInfo();
  if (!info.ok()) return ReportError(ctx, "check", info.status());
  client::PslSyncOptions psl_options;
  psl_options.local_path = args.psl_file;
  auto psl = client::PublicSuffixListForServer(*client, *info, psl_options);
  if (!psl.ok()) return ReportError(ctx, "check", psl.status());
  if (!psl->note.empty()) ReportNote("check", psl->note);
  dataset::UrlStreamOptions options;
  dataset::UrlStreamStats stats;
  options.retry_for = args.retry_for;
  options.on_retry = [&stats](const absl::Status& cause, absl::Duration wait) {
    ReportNote("check", absl::StrCat("lost the server (", cause.message(), " [",
                                     absl::StatusCodeToString(cause.code()), "]); reconnecting in ",
                                     absl::FormatDuration(wait), ", ", stats.answered,
                                     " lines answered so far"));
  };
  absl::Status s = dataset::CheckUrlStream(stdin, stdout, *client, *psl->list, options, &stats);
  if (!s.ok()) {
    return ReportError(
        ctx, "check",
        absl::Status(s.code(), absl::StrCat(s.message(), "; ", stats.answered,
                                            " lines were answered (on stdout), the rest were "
                                            "not checked")));
  }
  if (stats.unchecked > 0) {
    ReportNote("check", absl::StrCat(stats.unchecked, " of ", stats.answered,
                                     " lines could not be checked (\"matched\": null)"));
    ctx.exit_code = kExitUnchecked;
  }
}

// One result per command-line item; an item that could not be checked says
// so ("matched": null and its error; ERROR in text), never "clear".
void PrintResults(const CommandContext& ctx, const std::vector<ItemArg>& items,
                  const std::vector<CheckPlan::Span>& spans,
                  const std::vector<v1::ItemResult>& results) {
  if (ctx.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      const v1::ItemResult& r = results[i];
      nlohmann::ordered_json result;
      result["item"] = ItemName(items[i]);
      if (!spans[i].error.ok()) {
        result["matched"] = nullptr;
        result["match"] = nullptr;
        result["ids"] = nlohmann::ordered_json::array();
        result["error"] = std::string(spans[i].error.message());
      } else {
        result["matched"] = r.matched();
        result["match"] = protocol::MatchKindName(r.kind());
        result["ids"] = std::vector<std::string>(r.match_ids().begin(), r.match_ids().end());
      }
      out.push_back(std::move(result));
    }
    // Paths and URLs need not be UTF-8; replace rather than throw.
    std::cout << nlohmann::ordered_json({{"results", std::move(out)}})
                     .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << std::endl;
    return;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!spans[i].error.ok()) {
      std::cout << "ERROR     -\t-\t" << ItemName(items[i]) << "\t" << spans[i].error.message()
                << "\n";
      continue;
    }
    const v1::ItemResult& r = results[i];
    std::string ids;
    for (const auto& id : r.match_ids()) ids += (ids.empty() ? "" : ",") + id;
    std::cout << (r.matched() ? "OPTED-OUT " : "clear     ")
              << protocol::MatchKindName(r.kind()) << "\t" << (ids.empty() ? "-" : ids) << "\t"
              << ItemName(items[i]) << "\n";
  }
}

void RunCheck(CommandContext& ctx, const CLI::App& cmd, const CheckArgs& args) {
  const std::vector<ItemArg> items = args.items.InOrder(cmd);
  if (args.stdin_urls) {
    if (args.min_version != 0) {
      return ReportError(ctx, "check", absl::InvalidArgumentError(
                                           "--min-version applies to item checks, not --stdin"));
    }
    return RunStdin(ctx, items, args);
  }
  if (items.empty()) {
    return ReportError(ctx, "check",
                       absl::InvalidArgumentError(
                           "nothing to check: give --url, --image, --pdq, --sha256, --md5 or --stdin"));
  }
  auto connected = ConnectRegistry(ctx);
  if (!connected.ok()) return ReportError(ctx, "check", connected.status());
  client::RegistryClient* client = connected->get();
  auto plan = BuildCheckRequest(
      items, [&client] { return ServerPdqFloors(*client); }, args.items.max_pixels());
  if (!plan.ok()) return ReportError(ctx, "check", plan.status());
  plan->request.set_min_version(args.min_version);
  v1::CheckResponse checked;
  if (plan->request.items_size() > 0) {
    auto answer = client->Check(plan->request);
    if (!answer.ok()) return ReportError(ctx, "check", answer.status());
    checked = *std::move(answer);
  }
  if (checked.results_size() != plan->request.items_size()) {
    return ReportError(ctx, "check",
                       absl::InternalError(absl::StrCat("the server answered ",
                                                        checked.results_size(), " results for ",
                                                        plan->request.items_size(), " items")));
  }
  std::vector<v1::ItemResult> results;
  results.reserve(items.size());
  int unchecked = 0;
  for (const CheckPlan::Span& span : plan->spans) {
    results.push_back(span.error.ok() ? ResultOf(checked, span) : v1::ItemResult());
    unchecked += span.error.ok() ? 0 : 1;
  }
  PrintResults(ctx, items, plan->spans, results);
  if (unchecked > 0) {
    std::cout << std::flush;
    ReportNote("check", absl::StrCat(unchecked, " of ", items.size(),
                                     " items could not be checked (ERROR / \"matched\": null)"));
    ctx.exit_code = kExitUnchecked;
  }
}

}  // namespace

void AddCheckCommand(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* check = app.add_subcommand(
      "check",
      "check URLs, images, PDQ hashes or file digests against the registry: one result per item, "
      "in command-line order. Exit 0 when every item was checked (matched or not), 2 when some "
      "could not be (ERROR, \"matched\": null), 1 when the check failed");
  args->items.Add(*check, ItemKind::kUrl, "URL to check (repeatable)");
  args->items.Add(*check, ItemKind::kPdq, "PDQ hash, 64 hex digits (repeatable)");
  args->items.Add(*check, ItemKind::kSha256, "SHA-256 of file bytes, hex (repeatable)");
  args->items.Add(*check, ItemKind::kMd5, "MD5 of file bytes, hex (repeatable)");
  args->items.Add(*check, ItemKind::kImage,
                  "image file: hashed here (PDQ with rotations/flips and with borders and "
                  "caption bars trimmed, SHA-256, MD5), only the hashes are sent; one combined "
                  "result per image (repeatable)");
  check->add_flag("--stdin", args->stdin_urls,
                  "read one URL per line from stdin, write one JSON line per URL to stdout, in "
                  "order, streaming");
  check->add_option("--psl-file", args->psl_file,
                    "with --stdin: this machine's Public Suffix List file (default: the "
                    "system's); when it differs from the server's, the server's is fetched and "
                    "cached under ~/.cache/optout/");
  check->add_option("--min-version", args->min_version,
                    "read your writes: the \"version\" a register or revoke printed (--json); a "
                    "server that has not applied it yet waits until --timeout, then the check "
                    "fails (UNAVAILABLE)");
  AddDurationOption(*check, "--retry-for", &args->retry_for,
                    "with --stdin: after a server restart or outage, keep reconnecting this long "
                    "(re-sending the unanswered lines); 0: fail at once");
  check->callback([&ctx, args, check] { RunCheck(ctx, *check, *args); });
}

}  // namespace optout::cli
