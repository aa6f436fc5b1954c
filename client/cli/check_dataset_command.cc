// optout check-dataset INPUT... --out DIR: checks a whole dataset release and
// writes a filtered copy of each input plus DIR/report.json (see
// client/dataset/dataset_checker.h). Exit status: 0 when every row of every
// input was checked (whatever it found); 2 when the run completed but some
// input was refused or some rows or files could not be checked (each named
// on stderr or in report.json); 130 when interrupted (a re-run resumes);
// 1, with one line on stderr, when the run could not complete.
#include <signal.h>

#include <atomic>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/cli/streaming_heap.h"
#include "client/common/protocol/match_kind.h"
#include "client/dataset/dataset_checker.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

std::string SummaryLine(const dataset::DatasetResult& r, bool keep_unchecked) {
  std::string by_kind;
  for (int k = 1; k < protocol::kMatchKindCount; ++k) {
    if (r.total.removed_by_kind[k] == 0) continue;
    absl::StrAppend(&by_kind, by_kind.empty() ? "" : ", ", protocol::MatchKindName(k), " ",
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
  if (r.total.unchecked > 0) {
    absl::StrAppend(&line, keep_unchecked ? " (kept, as --keep-unchecked asks)" : " (not copied)");
  }
  if (r.total.low_quality > 0) {
    absl::StrAppend(&line, "; ", r.total.low_quality,
                    " low-quality image(s) checked by file digest only");
  }
  if (!r.refused.empty()) absl::StrAppend(&line, "; ", r.refused.size(), " input(s) refused");
  if (r.resumed > 0) absl::StrAppend(&line, "; ", r.resumed, " input(s) already done, skipped");
  absl::StrAppend(&line, "; report: ", r.report_path);
  return line;
}

// Ctrl-C (or SIGTERM) asks the run to stop between chunks, so that what is
// finished stays finished and the state in --out allows a resume. A second
// Ctrl-C kills at once.
std::atomic<bool> g_stop{false};

extern "C" void OnInterrupt(int signal_number) {
  g_stop.store(true);
  ::signal(signal_number, SIG_DFL);
}

std::string Quoted(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./:=@+,") == std::string::npos) {
    return arg;
  }
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The command that resumes an interrupted run (the options that decide
// whether finished inputs are reused, and where).
std::string ResumeCommand(const CommandContext& ctx, const dataset::DatasetOptions& o) {
  std::string cmd = absl::StrCat("optout --server ", Quoted(ctx.server), " check-dataset");
  for (const std::string& input : o.inputs) absl::StrAppend(&cmd, " ", Quoted(input));
  absl::StrAppend(&cmd, " --out ", Quoted(o.out_dir));
  if (!o.url_column.empty()) absl::StrAppend(&cmd, " --url-column ", Quoted(o.url_column));
  if (o.keep_unchecked) absl::StrAppend(&cmd, " --keep-unchecked");
  if (o.shard_count > 1) absl::StrAppend(&cmd, " --shard ", o.shard_index, "/", o.shard_count);
  return cmd;
}

void RunCheckDataset(CommandContext& ctx, dataset::DatasetOptions options) {
  TuneHeapForStreaming();
  options.server_label = ctx.server;
  options.stop = &g_stop;
  ::signal(SIGINT, OnInterrupt);
  ::signal(SIGTERM, OnInterrupt);
  options.on_retry = [](const absl::Status& cause, absl::Duration wait) {
    ReportNote("check-dataset",
               absl::StrCat("lost the server (", cause.message(), " [",
                            absl::StatusCodeToString(cause.code()), "]); reconnecting in ",
                            absl::FormatDuration(wait)));
  };
  options.on_note = [](const std::string& note) { ReportNote("check-dataset", note); };
  auto client = ConnectRegistry(ctx);
  if (!client.ok()) return ReportError(ctx, "check-dataset", client.status());
  auto result = dataset::CheckDataset(options, **client);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  if (!result.ok() && result.status().code() == absl::StatusCode::kCancelled) {
    std::fprintf(stderr, "optout check-dataset: %s; to resume, run: %s\n",
                 std::string(result.status().message()).c_str(), ResumeCommand(ctx, options).c_str());
    ctx.exit_code = 130;
    return;
  }
  if (!result.ok()) return ReportError(ctx, "check-dataset", result.status());
  for (const dataset::RefusedInput& refused : result->refused) {
    std::fprintf(stderr, "optout check-dataset: %s: %s\n", refused.input.c_str(), refused.reason.c_str());
  }
  if (!result->refused.empty() || result->total.unchecked > 0) ctx.exit_code = 2;
  // A receipt that does not cover what was sent is worth a line; a good one
  // is in report.json.
  if (!result->receipt_ok && !result->receipt_note.empty()) {
    ReportNote("check-dataset", result->receipt_note);
  }
  if (!result->receipt_key_note.empty()) ReportNote("check-dataset", result->receipt_key_note);
  if (ctx.json) {
    nlohmann::json by_kind;
    for (int k = 1; k < protocol::kMatchKindCount; ++k) {
      by_kind[protocol::MatchKindName(k)] = result->total.removed_by_kind[k];
    }
    nlohmann::json refused = nlohmann::json::array();
    for (const dataset::RefusedInput& r : result->refused) {
      refused.push_back({{"input", r.input}, {"reason", r.reason}});
    }
    nlohmann::json out = {{"rows", result->total.rows},
                          {"kept", result->total.kept},
                          {"removed", result->total.removed},
                          {"unchecked", result->total.unchecked},
                          {"removed_by_match", by_kind},
                          {"inputs", result->inputs.size() + result->refused.size()},
                          {"refused", refused},
                          {"resumed", result->resumed},
                          {"seconds", result->seconds},
                          {"report", result->report_path}};
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  } else {
    std::cout << "optout check-dataset: " << SummaryLine(*result, options.keep_unchecked) << std::endl;
  }
}

}  // namespace

void AddCheckDatasetCommand(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<dataset::DatasetOptions>();
  auto progress_seconds = std::make_shared<double>(10);
  CLI::App* cmd = app.add_subcommand(
      "check-dataset",
      "check a dataset release (CSV, TSV, JSONL, URL lists, each also .gz / .zst; Parquet; "
      "webdataset .tar shards; img2dataset folders, each shard's .tar, .parquet and _stats.json "
      "kept consistent; folders of these and of images); write filtered copies (same "
      "format and compression) and report.json into --out. Inputs it cannot read (zip, bzip2, "
      "Arrow, corrupt Parquet, non-UTF-8 text, ...) are refused, never copied. Exit 0: all "
      "checked; 2: some input refused or rows/files unchecked (see report.json); 130: "
      "interrupted (re-run to resume); 1: failed");
  cmd->add_option("inputs", options->inputs, "input files or folders")->required();
  cmd->add_option("--out", options->out_dir,
                  "output folder (not inside an input folder; one run at a time): filtered "
                  "copies, report.json; re-running into it resumes")
      ->required();
  cmd->add_option("--url-column", options->url_column,
                  "name of the URL column, JSONL key or shard .json key, any case (default: url, "
                  "image_url, ... found by name, any case)");
  cmd->add_flag("--keep-unchecked", options->keep_unchecked,
                "keep rows and files that could not be checked in the output (they are always "
                "reported)");
  cmd->add_flag("--quiet", options->quiet, "no progress output");
  cmd->add_option("--progress-interval", *progress_seconds,
                  "seconds between plain progress lines when stderr is not a terminal");
  cmd->add_option("--jobs", options->jobs, "threads hashing images and digesting URLs (0: cores)");
  cmd->add_option("--in-flight", options->max_in_flight, "batches in flight on the check stream");
  cmd->add_option("--psl-file", options->psl_file,
                  "this machine's Public Suffix List file (default: the system's); when it "
                  "differs from the server's, the server's is fetched and cached under "
                  "~/.cache/optout/");
  options->retry_for = absl::Minutes(1);
  AddDurationOption(*cmd, "--retry-for", &options->retry_for,
                    "after a server restart or outage, keep reconnecting this long (re-sending "
                    "the unanswered chunks); 0: fail at once");
  auto no_receipt = std::make_shared<bool>(false);
  cmd->add_flag("--no-receipt", *no_receipt,
                "do not open a check session: report.json gets no signed receipt (see "
                "optout verify-receipt)");
  auto shard = std::make_shared<std::string>();
  cmd->add_option("--shard", *shard,
                  "I/N: check only shard I (0-based) of N: Parquet row groups and other inputs "
                  "are dealt out in input order, so N machines split one release; combine their "
                  "reports with optout merge-reports");
  cmd->callback([&ctx, options, progress_seconds, shard, no_receipt] {
    dataset::DatasetOptions o = *options;
    o.receipt = !*no_receipt;
    if (!shard->empty()) {
      const std::vector<std::string> parts = absl::StrSplit(*shard, '/');
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &o.shard_index) ||
          !absl::SimpleAtoi(parts[1], &o.shard_count)) {
        return ReportError(ctx, "check-dataset",
                           absl::InvalidArgumentError(absl::StrCat("--shard ", *shard, ": want I/N, e.g. 0/4")));
      }
    }
    o.progress_interval = absl::Seconds(std::max(0.1, *progress_seconds));
    RunCheckDataset(ctx, std::move(o));
  });
}

}  // namespace optout::cli
