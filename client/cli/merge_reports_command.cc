// optout merge-reports OUT DIR...: combines the report.json of each shard
// of a `check-dataset --shard I/N` run (client/dataset/merge_reports.h).
// Exit 0 when merged; 1, with one line on stderr, when a shard is missing,
// given twice, from other options, or a report cannot be read.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/dataset/merge_reports.h"
#include "nlohmann/json.hpp"

namespace optout::cli {

void AddMergeReportsCommand(CLI::App& app, CommandContext& ctx) {
  auto out = std::make_shared<std::string>();
  auto dirs = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "merge-reports",
      "combine the report.json of every shard of a check-dataset --shard I/N run into one "
      "report, as one run over the whole release would have written it, keeping every "
      "shard's signed receipt for optout verify-receipt (no server needed)");
  cmd->add_option("out", *out, "merged report: a .json file, or a folder to hold report.json")->required();
  cmd->add_option("dirs", *dirs, "the --out folders of shards 0..N-1, each once")->required();
  cmd->callback([&ctx, out, dirs] {
    auto merged = dataset::MergeReports(*out, *dirs);
    if (!merged.ok()) return ReportError(ctx, "merge-reports", merged.status());
    if (ctx.json) {
      std::cout << nlohmann::json{{"report", merged->path}, {"shards", merged->shards},
                                  {"rows", merged->rows}, {"kept", merged->kept},
                                  {"removed", merged->removed}, {"unchecked", merged->unchecked},
                                  {"refused", merged->refused}, {"receipts", merged->receipts}}
                       .dump()
                << std::endl;
    } else {
      std::cout << "optout merge-reports: " << merged->shards << " shards, " << merged->rows << " rows: "
                << merged->kept << " kept, " << merged->removed << " removed, " << merged->unchecked
                << " unchecked, " << merged->refused << " input(s) refused; " << merged->receipts
                << " signed receipt(s) kept; report: " << merged->path << std::endl;
    }
  });
}

}  // namespace optout::cli
