// dataset_manifest_gen: writes a URL manifest (CSV: url,caption) for the
// check-dataset benchmark (tests/bench/dataset_bench.sh). Its URLs are
// optout-bench's check URLs (tests/load/workload.h): with --stored N and
// --match-fraction F, a share F of the rows repeat a URL of one of the
// opt-outs `optout-bench --populate N` registers, the rest have the same
// shape but match nothing. Prints the number of rows meant to match.
//
//   dataset_manifest_gen --rows 1000000 --stored 1000000 --match-fraction 0.01 --out m.csv
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "tests/load/workload.h"

int main(int argc, char** argv) {
  uint64_t rows = 1000000, stored = 1000000, seed = 1;
  double match_fraction = 0.01;
  std::string out_path;
  CLI::App app{"writes the URL manifest of the check-dataset benchmark"};
  app.add_option("--rows", rows, "rows to write");
  app.add_option("--stored", stored, "opt-outs 0..N-1 of --seed in the registry");
  app.add_option("--seed", seed, "optout-bench workload seed");
  app.add_option("--match-fraction", match_fraction, "share of rows that repeat a stored URL");
  app.add_option("--out", out_path, "output CSV file")->required();
  CLI11_PARSE(app, argc, argv);

  optout::load::WorkloadOptions options;
  options.seed = seed;
  options.stored = stored;
  options.match_fraction = match_fraction;
  const optout::load::Workload workload(options);
  std::FILE* out = std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "dataset_manifest_gen: cannot create %s\n", out_path.c_str());
    return 1;
  }
  std::fputs("url,caption\n", out);
  uint64_t hits = 0;
  for (uint64_t j = 0; j < rows; ++j) {
    hits += workload.IsHit(j);
    std::fprintf(out, "%s,row %llu\n", workload.CheckUrl(j).c_str(),
                 static_cast<unsigned long long>(j));
  }
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "dataset_manifest_gen: cannot write %s\n", out_path.c_str());
    return 1;
  }
  std::printf("%llu\n", static_cast<unsigned long long>(hits));
  return 0;
}
