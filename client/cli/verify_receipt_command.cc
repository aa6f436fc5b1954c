// optout verify-receipt REPORT [--registry-key FILE]: checks the signed
// check receipt in a check-dataset report.json (issue 14) in four steps,
// each failing with a message naming what differs:
//   1. the registry key: from FILE (hex, raw or PEM), else the server's
//      GetInfo; a receipt naming another key fingerprint is "wrong key";
//   2. the Ed25519 signature over the receipt's fields ("bad signature":
//      the receipt was altered);
//   3. the report against the receipt: the client's digest and item counts
//      equal the signed ones, and the removed rows are consistent with the
//      signed matches ("report altered");
//   4. the inputs: every request the run would send is rebuilt from the
//      inputs (the report's paths, or --input) and digested; a different
//      digest means the receipt is for other inputs (or they changed).
//      With --from-output, from the filtered outputs and the removed rows
//      the report lists instead (client/dataset/output_digest.h); for a
//      merged report, each shard's from its folder (merged_from), whose
//      report.json must hold the receipt section the merged report has.
// A merged report (merge-reports) carries one receipt per shard: each is
// checked so, against its shard's inputs, and together they must cover
// shards 0..N-1 once each and account for the merged removed rows
// (client/dataset/shard_receipts.h).
// Exit 0 when all hold; 1, with one line on stderr, otherwise.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "client/common/base/status_macros.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/common/digest/digest.h"
#include "client/common/receipt/check_receipt.h"
#include "client/common/receipt/items_digest.h"
#include "client/common/url/public_suffix_list.h"
#include "client/dataset/dataset_checker.h"
#include "client/dataset/output_digest.h"
#include "client/dataset/receipt_section.h"
#include "client/dataset/shard_receipts.h"
#include "client/psl_sync.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

namespace fs = std::filesystem;

struct VerifyOptions {
  std::string report;
  std::string registry_key;
  std::vector<std::string> inputs;  // overrides the report's paths
  std::string psl_file;
  int jobs = 0;
  bool from_output = false;  // rebuild from the filtered outputs (output_digest.h)
};

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status Failed(absl::string_view what) { return absl::FailedPreconditionError(what); }

std::string Hex(const std::string& bytes) { return digest::ToHex(bytes); }

// Step 3: what the report says against what the registry signed;
// `removed`: the rows the report removed from the inputs the receipt covers.
absl::Status CheckReportAgainstReceipt(const dataset::ReceiptSection& s, uint64_t removed) {
  const v1::CheckReceipt& r = s.receipt;
  const std::string client_digest(s.client_digest.begin(), s.client_digest.end());
  if (client_digest != r.items_digest()) {
    return Failed(absl::StrCat("report altered or run incomplete: client_items_digest ",
                               Hex(client_digest), " is not the signed items_digest ",
                               Hex(r.items_digest())));
  }
  const receipt::ItemCounts signed_items{r.url_items(), r.pdq_items(), r.sha256_items(),
                                         r.md5_items()};
  if (!(s.client_items == signed_items)) {
    return Failed(absl::StrCat("report altered: client_items (url ", s.client_items.url, ", pdq ",
                               s.client_items.pdq, ", sha256 ", s.client_items.sha256, ", md5 ",
                               s.client_items.md5, ") are not the signed counts (url ",
                               r.url_items(), ", pdq ", r.pdq_items(), ", sha256 ",
                               r.sha256_items(), ", md5 ", r.md5_items(), ")"));
  }
  // A removed row is at least one matched item; a matched item removes its
  // row. Rows of inputs an earlier run finished are outside the receipt.
  if (removed > r.matched_items() || (r.matched_items() > 0 && removed == 0)) {
    return Failed(absl::StrCat("report altered: it removes ", removed,
                               " row(s) of the inputs the receipt covers, but the registry "
                               "signed ", r.matched_items(), " matched item(s)"));
  }
  return absl::OkStatus();
}

// A merged report: its shards' receipts must account for its removed rows.
absl::Status CheckMergedTotals(const std::vector<dataset::ShardReceipt>& shards,
                               const nlohmann::json& report) {
  uint64_t by_shards = 0;
  bool all_covered = true;
  for (const dataset::ShardReceipt& s : shards) {
    by_shards += s.removed;
    all_covered = all_covered && s.section.not_covered.empty();
  }
  const uint64_t merged = dataset::RemovedRowsCovered(report, {});
  if (all_covered ? merged != by_shards : merged < by_shards) {
    return Failed(absl::StrCat("report altered: the merged report removes ", merged,
                               " row(s), its shards' receipts account for ", by_shards));
  }
  return absl::OkStatus();
}

// Step 4: the digest of what a run over the inputs would send.
absl::StatusOr<receipt::Digest32> DigestInputs(const dataset::ReceiptSection& s,
                                               const VerifyOptions& o,
                                               client::RegistryClient& client,
                                               const v1::GetInfoResponse* offline_info) {
  std::vector<std::string> inputs = o.inputs.empty() ? s.inputs : o.inputs;
  if (inputs.size() != s.inputs.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--input given ", inputs.size(), " time(s), the report names ", s.inputs.size(),
        " input(s); give each, in the report's order"));
  }
  for (const std::string& path : inputs) {
    if (!fs::exists(path)) {
      return absl::NotFoundError(absl::StrCat(
          "cannot recompute the row digest: input ", path,
          " not found (pass the inputs with --input, in the report's order)"));
    }
  }
  char tmpl[] = "/tmp/optout-verify-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return absl::UnavailableError("cannot create a temp folder");
  const std::string temp = tmpl;
  receipt::ItemsDigest digest(s.min_pdq_quality);
  dataset::DatasetOptions d;
  d.inputs = inputs;
  d.out_dir = temp + "/out";
  d.url_column = s.url_column;
  d.quiet = true;
  d.jobs = o.jobs;
  d.psl_file = o.psl_file;
  d.receipt = false;
  d.digest_only = &digest;
  d.info = offline_info;
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    if (std::find(s.not_covered.begin(), s.not_covered.end(), s.inputs[i]) != s.not_covered.end()) {
      d.skip_inputs.push_back(inputs[i]);
    }
  }
  if (!s.shard.empty()) {
    const std::vector<std::string> parts = absl::StrSplit(s.shard, '/');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &d.shard_index) ||
        !absl::SimpleAtoi(parts[1], &d.shard_count)) {
      return absl::InvalidArgumentError(absl::StrCat("report.json: receipt_inputs.shard ", s.shard));
    }
  }
  auto result = dataset::CheckDataset(d, client);
  std::error_code ec;
  fs::remove_all(temp, ec);
  if (!result.ok()) return result.status();
  return receipt::CombineParts({{0, digest.Finish()}});
}

// A shard's folder as merge-reports named it (merged_from), holding the
// report.json whose receipt section the merged report carries for it.
struct ShardFolder {
  std::string dir;
  nlohmann::json report;
};

absl::StatusOr<ShardFolder> ShardFolderOf(const nlohmann::json& merged,
                                          const std::string& merged_dir,
                                          const std::string& shard) {
  nlohmann::json entry;
  for (const nlohmann::json& e : merged.value("receipts", nlohmann::json::array())) {
    if (e.is_object() && e.value("shard", "") == shard) entry = e;
  }
  for (const nlohmann::json& from : merged.value("merged_from", nlohmann::json::array())) {
    if (!from.is_string()) continue;
    // As given to merge-reports, or relative to the merged report.
    for (const std::string& dir : {from.get<std::string>(),
                                   merged_dir + "/" + from.get<std::string>()}) {
      std::error_code ec;
      if (!fs::exists(dir + "/report.json", ec)) continue;
      absl::StatusOr<std::string> text = ReadWhole(dir + "/report.json");
      if (!text.ok()) continue;
      nlohmann::json report = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (report.is_discarded()) continue;
      absl::StatusOr<nlohmann::json> own = dataset::ShardReceiptEntry(report);
      if (own.ok() && *own == entry) return ShardFolder{dir, std::move(report)};
    }
  }
  return Failed(absl::StrCat(
      "--from-output reads each shard's outputs and removed rows from its folder, and no folder "
      "the merged report names (merged_from) holds a report.json with shard ", shard,
      "'s receipt as merged"));
}

absl::Status Verify(CommandContext& ctx, const VerifyOptions& o, std::string* summary) {
  std::string report_path = o.report;
  if (fs::is_directory(report_path)) report_path += "/report.json";
  OPTOUT_ASSIGN_OR_RETURN(const std::string text, ReadWhole(report_path));
  const nlohmann::json report = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(report_path, " is not JSON (report altered?)"));
  }
  // A merged report (merge-reports) carries one receipt per shard.
  const bool merged = report.contains("merged_from") || report.contains("receipts");
  std::vector<dataset::ShardReceipt> shards;
  if (merged) {
    OPTOUT_ASSIGN_OR_RETURN(shards, dataset::ParseShardReceipts(report));
  } else {
    OPTOUT_ASSIGN_OR_RETURN(dataset::ReceiptSection only, dataset::ParseReceiptSection(report));
    const uint64_t removed = dataset::RemovedRowsCovered(report, only.not_covered);
    shards.push_back({0, std::move(only), removed});
  }
  // Shards share inputs and options (ParseShardReceipts checks).
  const dataset::ReceiptSection& section = shards.front().section;

  // 1. The key.
  std::string public_key;
  v1::GetInfoResponse offline_info;
  std::unique_ptr<url::PublicSuffixList> psl;  // the check's list
  std::unique_ptr<client::RegistryClient> client;
  if (!o.registry_key.empty()) {
    OPTOUT_ASSIGN_OR_RETURN(const std::string file, ReadWhole(o.registry_key));
    OPTOUT_ASSIGN_OR_RETURN(public_key, receipt::ParsePublicKey(file));
    // No server: the list this machine has must be the one the check used.
    offline_info.set_min_pdq_quality(section.min_pdq_quality);
    offline_info.set_low_quality_pdq_floor(section.low_quality_pdq_floor);
    OPTOUT_ASSIGN_OR_RETURN(
        psl, url::PublicSuffixList::Load(o.psl_file.empty() ? url::PublicSuffixList::kDefaultPath
                                                            : o.psl_file));
    if (psl->sha256_hex() != section.psl_sha256) {
      return Failed(absl::StrCat("the check used Public Suffix List ", section.psl_sha256,
                                 ", this machine's is ", psl->sha256_hex(),
                                 "; pass that list with --psl-file, or verify against the server"));
    }
  }
  OPTOUT_ASSIGN_OR_RETURN(client, ConnectRegistry(ctx));
  if (o.registry_key.empty()) {
    OPTOUT_ASSIGN_OR_RETURN(const v1::GetInfoResponse info, client->GetInfo());
    if (info.receipt_public_key().empty()) {
      return Failed("the registry publishes no receipt key (GetInfo); pass --registry-key FILE");
    }
    public_key = info.receipt_public_key();
    // Items are rebuilt with the server's list and quality floor: they must
    // be those of the check.
    const protocol::PdqQualityFloors floors = protocol::PdqFloors(info);
    const int low_floor = floors.low < floors.min ? floors.low : 0;
    if (info.psl_sha256() != section.psl_sha256 ||
        info.min_pdq_quality() != section.min_pdq_quality ||
        low_floor != section.low_quality_pdq_floor) {
      return Failed(absl::StrCat(
          "the registry's Public Suffix List or PDQ quality floors changed since the check (",
          section.psl_sha256, ", ", section.min_pdq_quality, "/", section.low_quality_pdq_floor,
          " then; ", info.psl_sha256(), ", ", info.min_pdq_quality(), "/", low_floor,
          " now); verify offline with --registry-key and --psl-file"));
    }
    if (o.from_output) {
      client::PslSyncOptions psl_options;
      psl_options.local_path = o.psl_file;
      OPTOUT_ASSIGN_OR_RETURN(client::SyncedPsl synced,
                              client::PublicSuffixListForServer(*client, info, psl_options));
      psl = std::move(synced.list);
    }
  }
  // 2. and 3. for every shard, then the merged totals: the cheap checks
  // before the inputs are read.
  auto in_shard = [&](const dataset::ShardReceipt& shard, const absl::Status& st) {
    if (!merged) return st;
    return absl::Status(st.code(), absl::StrCat("shard ", shard.section.shard, ": ", st.message()));
  };
  uint64_t items = 0, matched = 0;
  for (const dataset::ShardReceipt& shard : shards) {
    const v1::CheckReceipt& r = shard.section.receipt;
    // 2. The signature (and that the key is the one named).
    absl::Status signature = receipt::VerifyReceipt(r, public_key);
    if (!signature.ok()) {
      if (o.registry_key.empty() && absl::StrContains(signature.message(), "wrong key")) {
        signature = Failed(absl::StrCat(
            signature.message(),
            " (the server's current key; after a key rotation pass the key "
            "published at the time of the check with --registry-key)"));
      }
      return in_shard(shard, signature);
    }
    // 3. The report.
    absl::Status consistent = CheckReportAgainstReceipt(shard.section, shard.removed);
    if (!consistent.ok()) return in_shard(shard, consistent);
    items += r.url_items() + r.pdq_items() + r.sha256_items() + r.md5_items();
    matched += r.matched_items();
  }
  if (merged) OPTOUT_RETURN_IF_ERROR(CheckMergedTotals(shards, report));
  // 4. The inputs, once per shard.
  const bool offline = !o.registry_key.empty();
  for (const dataset::ShardReceipt& shard : shards) {
    const dataset::ReceiptSection& s = shard.section;
    const std::string report_dir = fs::path(report_path).parent_path().string();
    absl::StatusOr<receipt::Digest32> recomputed;
    if (!o.from_output) {
      recomputed = DigestInputs(s, o, *client, offline ? &offline_info : nullptr);
    } else if (!merged) {
      recomputed = dataset::DigestFilteredOutputs(report, report_dir, s, *psl, *client, o.jobs);
    } else {
      // Each shard's outputs and removed rows are in its own folder.
      absl::StatusOr<ShardFolder> folder = ShardFolderOf(report, report_dir, s.shard);
      recomputed = !folder.ok() ? absl::StatusOr<receipt::Digest32>(folder.status())
                                : dataset::DigestFilteredOutputs(folder->report, folder->dir, s,
                                                                 *psl, *client, o.jobs);
    }
    if (!recomputed.ok()) return in_shard(shard, recomputed.status());
    if (std::string(recomputed->begin(), recomputed->end()) != s.receipt.items_digest()) {
      return in_shard(shard, Failed(absl::StrCat(
          o.from_output ? "the filtered output and removed rows are not what the registry "
                          "checked: their items digest "
                        : "the receipt is for other inputs: the inputs' items digest ",
          receipt::ToHex(*recomputed), " is not the signed ", Hex(s.receipt.items_digest()),
          !o.from_output ? " (inputs changed since the check, or another release)"
          : report.value("refused", nlohmann::json::array()).empty()
              ? " (output or removed rows list altered)"
              : " (output or removed rows list altered, or an input refused part-way sent "
                "rows no output holds: verify from the inputs)")));
    }
  }
  if (merged) {
    *summary = absl::StrCat("receipts verified: registry key ", section.receipt.key_fingerprint(),
                            " signed all ", shards.size(), " shards, once each (", items,
                            " items checked, ", matched,
                            " matched); each shard's inputs' digest matches");
    return absl::OkStatus();
  }
  const v1::CheckReceipt& r = section.receipt;
  *summary = absl::StrCat(
      "receipt verified: registry key ", r.key_fingerprint(), " signed session ", r.session_id(),
      " (versions ", r.min_version(), "..", r.max_version(), "): ",
      r.url_items() + r.pdq_items() + r.sha256_items() + r.md5_items(), " items checked, ",
      r.matched_items(), " matched; the inputs' digest ", Hex(r.items_digest()), " matches");
  return absl::OkStatus();
}

}  // namespace

void AddVerifyReceiptCommand(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify-receipt",
      "check the signed receipt in a check-dataset report.json: the registry's signature "
      "(key from GetInfo, or --registry-key), the report against it, and that the inputs "
      "are the rows the registry checked (recomputed). A merge-reports report: every shard's "
      "receipt so, and that they cover shards 0..N-1 once each. Exit 0: verified; 1: not, "
      "with the reason");
  cmd->add_option("report", options->report, "report.json, or the --out folder holding it")
      ->required();
  cmd->add_option("--registry-key", options->registry_key,
                  "the registry's receipt public key (64 hex characters as `optout info` "
                  "prints, 32 raw bytes, or PEM); default: ask the server (GetInfo)");
  cmd->add_option("--input", options->inputs,
                  "the inputs, when not at the paths the report names (all of them, in its order)");
  cmd->add_option("--psl-file", options->psl_file,
                  "Public Suffix List the check used, with --registry-key (default: the system's)");
  cmd->add_option("--jobs", options->jobs, "threads hashing images and digesting URLs (0: cores)");
  cmd->add_flag("--from-output", options->from_output,
                "recompute the row digest from the filtered outputs next to the report and the "
                "removed rows it lists (with their items) instead of the inputs: detects an "
                "altered output or removed rows list (tables, Parquet files also split by "
                "--shard, webdataset tars, image folders and img2dataset shards, whose images "
                "are hashed again; a merged report: each shard's, from the folders "
                "merge-reports read)");
  cmd->callback([&ctx, options] {
    std::string summary;
    absl::Status s = Verify(ctx, *options, &summary);
    if (!s.ok()) return ReportError(ctx, "verify-receipt", s);
    if (ctx.json) {
      std::cout << nlohmann::json{{"verified", true}, {"summary", summary}}.dump() << std::endl;
    } else {
      std::cout << "optout verify-receipt: " << summary << std::endl;
    }
  });
}

}  // namespace optout::cli
