// optout check-dataset INPUT... --out DIR: checks a whole dataset release and
// writes a filtered copy of each input plus DIR/report.json (see
// client/dataset/dataset_checker.h). Exit 0 when the check completed,
// whatever it found; non-zero, with one line on stderr, when it could not.
#include <malloc.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/dataset/dataset_checker.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

constexpr const char* kKindNames[] = {"none", "url", "scope", "pdq", "sha256", "md5"};

std::string SummaryLine(const dataset::DatasetResult& r) {
  std::string by_kind;
  for (int k = 1; k < 6; ++k) {
    if (r.total.removed_by_kind[k] == 0) continue;
    absl::StrAppend(&by_kind, by_kind.empty() ? "" : ", ", kKindNames[k], " ",
                    r.total.removed_by_kind[k]);
  }
  // The rate counts only rows checked by this run, not resumed ones.
  uint64_t fresh_rows = 0;
  for (const auto& input : r.inputs) fresh_rows += input.resumed ? 0 : input.rows;
  std::string line = absl::StrFormat(
      "checked %d rows in %d input(s) in %.1f s (%.0f rows/s): %d kept, %d removed%s, "
      "%d unchecked",
      r.total.rows, r.inputs.size(), r.seconds, fresh_rows / std::max(1e-3, r.seconds),
      r.total.kept, r.total.removed, by_kind.empty() ? "" : absl::StrCat(" (", by_kind, ")"),
      r.total.unchecked);
  if (r.total.low_quality > 0) {
    absl::StrAppend(&line, "; ", r.total.low_quality,
                    " low-quality image(s) checked by file digest only");
  }
  if (r.resumed > 0) absl::StrAppend(&line, "; ", r.resumed, " input(s) already done, skipped");
  absl::StrAppend(&line, "; report: ", r.report_path);
  return line;
}

// Chunks allocate and free megabyte-sized buffers (records, requests) many
// times a second; by default glibc serves those with mmap/munmap, and the
// page faults of fresh mappings cost ~30% of the client's CPU. Keep them on
// the heap instead (memory stays bounded by the chunks in flight).
void TuneAllocatorForStreaming() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

void RunCheckDataset(CommandContext& ctx, dataset::DatasetOptions options) {
  TuneAllocatorForStreaming();
  options.server_label = ctx.server;
  client::ClientOptions client_options;
  auto client = client::RegistryClient::Create(ctx.server, client_options);
  auto result = dataset::CheckDataset(options, *client);
  if (!result.ok()) return ReportError(ctx, "check-dataset", result.status());
  if (ctx.json) {
    nlohmann::json by_kind;
    for (int k = 1; k < 6; ++k) by_kind[kKindNames[k]] = result->total.removed_by_kind[k];
    nlohmann::json out = {{"rows", result->total.rows},
                          {"kept", result->total.kept},
                          {"removed", result->total.removed},
                          {"unchecked", result->total.unchecked},
                          {"removed_by_match", by_kind},
                          {"inputs", result->inputs.size()},
                          {"resumed", result->resumed},
                          {"seconds", result->seconds},
                          {"report", result->report_path}};
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << "optout check-dataset: " << SummaryLine(*result) << std::endl;
  }
}

}  // namespace

void AddCheckDatasetCommand(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<dataset::DatasetOptions>();
  auto progress_seconds = std::make_shared<double>(10);
  CLI::App* cmd = app.add_subcommand(
      "check-dataset",
      "check a dataset release (CSV, TSV, JSONL, URL lists, image folders, webdataset .tar "
      "shards); write filtered copies and report.json into --out");
  cmd->add_option("inputs", options->inputs, "input files or folders")->required();
  cmd->add_option("--out", options->out_dir,
                  "output folder: filtered copies, report.json; re-running into it resumes")
      ->required();
  cmd->add_option("--url-column", options->url_column,
                  "name of the URL column or JSON key (default: url, image_url, ... found by name)");
  cmd->add_flag("--keep-unchecked", options->keep_unchecked,
                "keep rows that could not be checked in the output (they are always reported)");
  cmd->add_flag("--quiet", options->quiet, "no progress output");
  cmd->add_option("--progress-interval", *progress_seconds,
                  "seconds between plain progress lines when stderr is not a terminal");
  cmd->add_option("--jobs", options->jobs, "threads hashing images and digesting URLs (0: cores)");
  cmd->add_option("--in-flight", options->max_in_flight, "batches in flight on the check stream");
  cmd->add_option("--psl-file", options->psl_file,
                  "Public Suffix List file (default: the system's, which must match the server's)");
  cmd->callback([&ctx, options, progress_seconds] {
    dataset::DatasetOptions o = *options;
    o.progress_interval = absl::Seconds(std::max(0.1, *progress_seconds));
    RunCheckDataset(ctx, std::move(o));
  });
}

}  // namespace optout::cli
