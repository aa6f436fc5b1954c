// File: tests/bench/hamming_bench.cc
//
// HammingIndex against a plain scan and FAISS (IndexBinaryFlat,
// IndexBinaryMultiHash), at 1M and 10M codes, uniform and clustered, plus
// PDQ corpus queries. One core: run under `taskset -c 1`; FAISS is limited
// to one OpenMP thread. A ratio table vs the plain scan ends the run.
//
// Usage (names are <data>/<size>/<operation>/<implementation>):
//   taskset -c 1 hamming_bench --benchmark_filter=/1M/     # quick, ~3 min
//   taskset -c 1 hamming_bench --benchmark_filter=/10M/    # ~20 min, 5 GB
//   taskset -c 1 hamming_bench --benchmark_filter='/10M/.*/(index|plain_scan|simd_scan|scan_)'
//                                                  # 10M without FAISS
// With no filter it runs everything (1M then 10M).
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "storage/hamming_index.h"
#include "storage/internal/code_blocks.h"
#include "storage/internal/scan_kernels.h"
#include "storage/testing/code_generators.h"
#include "tests/bench/ratio_reporter.h"

#ifdef OPTOUT_HAVE_FAISS
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>
#endif

namespace optout::storage {
namespace {

using internal::CodeBlocks;
using internal::KernelsFor;
using testing::ClusteredCodes;
using testing::MixedQueries;
using testing::UniformCodes;

constexpr int kRadius = 31;
constexpr size_t kBatch = 256;
// FAISS's flat range search is ~100x slower per comparison; a smaller batch
// keeps its 10M case to seconds and does not change its rate.
constexpr size_t kFaissFlatBatch = 32;

enum class Data { kUniform, kClustered, kPdqCorpus };

const char* DataName(Data d) {
  return d == Data::kUniform ? "uniform" : d == Data::kClustered ? "clustered" : "pdqcorpus";
}

// One data set at a time is alive: benchmarks are registered grouped by data
// set, and switching drops the previous one to bound memory at 10M.
struct Fixture {
  Data data;
  size_t n = 0;
  std::vector<Code256> codes;
  std::vector<Code256> queries;
  std::unique_ptr<HammingIndex> index;
  std::unique_ptr<CodeBlocks> blocks;
  std::map<int, std::vector<size_t>> plain_counts;  // radius -> per query
#ifdef OPTOUT_HAVE_FAISS
  std::unique_ptr<faiss::IndexBinaryFlat> faiss_flat;
  std::unique_ptr<faiss::IndexBinaryMultiHash> faiss_mih;
#endif
};

Fixture& Get(Data data, size_t n) {
  static auto* current = new std::unique_ptr<Fixture>();
  if (*current != nullptr && (*current)->data == data && (*current)->n == n) {
    return **current;
  }
  current->reset();
  auto f = std::make_unique<Fixture>();
  f->data = data;
  f->n = n;
  if (data == Data::kUniform) {
    f->codes = UniformCodes(n, 1);
    f->queries = MixedQueries(f->codes, 4096, 2);
  } else {
    f->codes = ClusteredCodes(n, 3);
    f->queries = MixedQueries(f->codes, 4096, 4);
  }
  if (data == Data::kPdqCorpus) {
    // Real PDQ hashes (and their edited variants) among clustered filler;
    // each corpus hash is a query with true matches in the index.
    absl::StatusOr<std::vector<Code256>> corpus = testing::LoadPdqCorpus();
    if (corpus.ok()) {
      std::copy(corpus->begin(), corpus->end(), f->codes.end() - corpus->size());
      f->queries = *corpus;
    }
  }
  *current = std::move(f);
  return **current;
}

std::vector<std::pair<uint64_t, Code256>> Entries(const std::vector<Code256>& codes) {
  std::vector<std::pair<uint64_t, Code256>> entries(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) entries[i] = {i, codes[i]};
  return entries;
}

HammingIndex& Index(Fixture& f) {
  if (f.index == nullptr) {
    f.index = std::make_unique<HammingIndex>();
    f.index->Build(Entries(f.codes));
  }
  return *f.index;
}

const CodeBlocks& Blocks(Fixture& f) {
  if (f.blocks == nullptr) {
    f.blocks = std::make_unique<CodeBlocks>();
    f.blocks->Reserve(f.codes.size());
    for (const Code256& c : f.codes) f.blocks->Append(c);
  }
  return *f.blocks;
}

size_t PlainScanCount(const std::vector<Code256>& codes, const Code256& q, int r) {
  size_t found = 0;
  for (const Code256& c : codes) {
    const int d = __builtin_popcountll(c[0] ^ q[0]) + __builtin_popcountll(c[1] ^ q[1]) +
                  __builtin_popcountll(c[2] ^ q[2]) + __builtin_popcountll(c[3] ^ q[3]);
    found += d <= r;
  }
  return found;
}

// Every benchmarked implementation must agree with the plain scan on the
// first queries; a disagreement fails the benchmark instead of timing it.
constexpr size_t kCheckedQueries = 8;

template <typename CountFn>
bool AgreesWithPlainScan(Fixture& f, int radius, CountFn count) {
  std::vector<size_t>& want = f.plain_counts[radius];
  const size_t checked = std::min(kCheckedQueries, f.queries.size());
  if (want.empty()) {
    for (size_t i = 0; i < checked; ++i) {
      want.push_back(PlainScanCount(f.codes, f.queries[i], radius));
    }
  }
  for (size_t i = 0; i < checked; ++i) {
    if (count(i) != want[i]) return false;
  }
  return true;
}

// --- build ---------------------------------------------------------------

void BM_BuildIndex(benchmark::State& state, Data data, size_t n) {
  Fixture& f = Get(data, n);
  for (auto _ : state) {
    state.PauseTiming();
    f.index.reset();
    auto entries = Entries(f.codes);
    auto index = std::make_unique<HammingIndex>();
    state.ResumeTiming();
    index->Build(std::move(entries));
    state.PauseTiming();
    f.index = std::move(index);
    state.ResumeTiming();
  }
  state.counters["bytes_per_code"] =
      static_cast<double>(f.index->MemoryBytes()) / static_cast<double>(n);
  state.SetLabel(f.index->isa_name());
}

// --- single queries --------------------------------------------------------

void BM_SingleIndex(benchmark::State& state, Data data, size_t n, int radius) {
  Fixture& f = Get(data, n);
  HammingIndex& index = Index(f);
  if (!AgreesWithPlainScan(f, radius, [&](size_t q) {
        return index.Search(f.queries[q], radius).size();
      })) {
    state.SkipWithError("HammingIndex disagrees with the plain scan");
    return;
  }
  size_t i = 0;
  size_t matches = 0;
  for (auto _ : state) {
    matches += index.Search(f.queries[i++ % f.queries.size()], radius).size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["matches_per_query"] = static_cast<double>(matches) / state.iterations();
  state.counters["bytes_per_code"] =
      static_cast<double>(index.MemoryBytes()) / static_cast<double>(n);
}

void BM_SinglePlainScan(benchmark::State& state, Data data, size_t n) {
  Fixture& f = Get(data, n);
  size_t i = 0;
  size_t matches = 0;
  for (auto _ : state) {
    matches += PlainScanCount(f.codes, f.queries[i++ % f.queries.size()], kRadius);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["matches_per_query"] = static_cast<double>(matches) / state.iterations();
}

void BM_SingleSimdScan(benchmark::State& state, Data data, size_t n) {
  Fixture& f = Get(data, n);
  const CodeBlocks& blocks = Blocks(f);
  const auto& kernels = KernelsFor(ScanIsa::kAuto);
  std::vector<uint32_t> out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    kernels.scan(blocks.words(), blocks.size(), f.queries[i++ % f.queries.size()],
                 kRadius, 0, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kernels.name);
}

// --- batches -----------------------------------------------------------------

void BM_BatchIndex(benchmark::State& state, Data data, size_t n) {
  Fixture& f = Get(data, n);
  HammingIndex& index = Index(f);
  const size_t batch = std::min(kBatch, f.queries.size());
  const auto checked = index.SearchBatch(
      absl::MakeConstSpan(f.queries).subspan(0, std::min(kCheckedQueries, batch)), kRadius);
  if (!AgreesWithPlainScan(f, kRadius, [&](size_t q) { return checked[q].size(); })) {
    state.SkipWithError("SearchBatch disagrees with the plain scan");
    return;
  }
  for (auto _ : state) {
    auto results = index.SearchBatch(absl::MakeConstSpan(f.queries).subspan(0, batch), kRadius);
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// The blocked scan exactly as SearchBatch runs it when it picks scanning,
// forced to one kernel level so the levels can be compared.
void BM_BatchScan(benchmark::State& state, Data data, size_t n, ScanIsa isa) {
  if (!ScanIsaSupported(isa)) {
    state.SkipWithError("CPU lacks this ISA");
    return;
  }
  Fixture& f = Get(data, n);
  const CodeBlocks& blocks = Blocks(f);
  const auto& kernels = KernelsFor(isa);
  const size_t batch = std::min(kBatch, f.queries.size());
  constexpr size_t kTile = 2048;
  std::vector<uint64_t> pairs;
  for (auto _ : state) {
    pairs.clear();
    for (size_t start = 0; start < blocks.size(); start += kTile) {
      kernels.scan_batch(blocks.words() + start / 8 * 32,
                         std::min(kTile, blocks.size() - start), f.queries.data(),
                         batch, kRadius, static_cast<uint32_t>(start), &pairs);
    }
    benchmark::DoNotOptimize(pairs.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["comparisons_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch * n), benchmark::Counter::kIsRate);
}

#ifdef OPTOUT_HAVE_FAISS
faiss::IndexBinaryFlat& FaissFlat(Fixture& f) {
  if (f.faiss_flat == nullptr) {
    f.faiss_flat = std::make_unique<faiss::IndexBinaryFlat>(kCodeBits);
    f.faiss_flat->add(static_cast<faiss::IndexBinary::idx_t>(f.codes.size()),
                      reinterpret_cast<const uint8_t*>(f.codes.data()));
  }
  return *f.faiss_flat;
}

faiss::IndexBinaryMultiHash& FaissMih(Fixture& f) {
  if (f.faiss_mih == nullptr) {
    // 16 tables of 16 bits with 1 flip each: exact for r <= 31.
    f.faiss_mih = std::make_unique<faiss::IndexBinaryMultiHash>(kCodeBits, 16, 16);
    f.faiss_mih->nflip = 1;
    f.faiss_mih->add(static_cast<faiss::IndexBinary::idx_t>(f.codes.size()),
                     reinterpret_cast<const uint8_t*>(f.codes.data()));
  }
  return *f.faiss_mih;
}

void BM_BuildFaissMih(benchmark::State& state, Data data, size_t n) {
  Fixture& f = Get(data, n);
  for (auto _ : state) {
    f.faiss_mih.reset();
    FaissMih(f);
  }
  // Codes (32 B) + one 8-byte id per table, ignoring hash-map overhead.
  state.counters["bytes_per_code_min"] = 32 + 16 * 8;
}

void BM_FaissRange(benchmark::State& state, Data data, size_t n, bool multihash,
                   size_t batch) {
  Fixture& f = Get(data, n);
  const faiss::IndexBinary& index =
      multihash ? static_cast<const faiss::IndexBinary&>(FaissMih(f)) : FaissFlat(f);
  batch = std::min(batch, f.queries.size());
  if (!AgreesWithPlainScan(f, kRadius, [&](size_t q) {
        faiss::RangeSearchResult result(1);
        index.range_search(1, reinterpret_cast<const uint8_t*>(&f.queries[q]),
                           kRadius + 1, &result);
        return static_cast<size_t>(result.lims[1]);
      })) {
    state.SkipWithError("FAISS disagrees with the plain scan");
    return;
  }
  size_t i = 0;
  size_t matches = 0;
  for (auto _ : state) {
    faiss::RangeSearchResult result(static_cast<faiss::IndexBinary::idx_t>(batch));
    const size_t first = batch == 1 ? i++ % f.queries.size() : 0;
    // FAISS returns distances < radius; ours are <= radius.
    index.range_search(static_cast<faiss::IndexBinary::idx_t>(batch),
                       reinterpret_cast<const uint8_t*>(&f.queries[first]),
                       kRadius + 1, &result);
    matches += result.lims[batch];
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["matches_per_query"] =
      static_cast<double>(matches) / (state.iterations() * batch);
  if (!multihash && batch > 1) {
    state.counters["comparisons_per_s"] = benchmark::Counter(
        static_cast<double>(state.iterations() * batch * n), benchmark::Counter::kIsRate);
  }
}
#endif

// --- registration ----------------------------------------

void RegisterAll() {
  const std::vector<std::pair<size_t, const char*>> sizes = {{1000000, "1M"},
                                                             {10000000, "10M"}};
  for (auto [n, size] : sizes) {
    for (Data data : {Data::kUniform, Data::kClustered, Data::kPdqCorpus}) {
      const std::string p = absl::StrCat(DataName(data), "/", size, "/");
      auto reg = [&](const std::string& name, auto fn) {
        return benchmark::RegisterBenchmark((p + name).c_str(), fn);
      };
      const bool all = data != Data::kPdqCorpus;  // corpus: single queries only
      if (all) {
        reg("build/index", [=](benchmark::State& s) { BM_BuildIndex(s, data, n); })
            ->Iterations(1)->Unit(benchmark::kMillisecond);
      }
      reg("single/index", [=](benchmark::State& s) { BM_SingleIndex(s, data, n, kRadius); })
          ->Unit(benchmark::kMicrosecond);
      if (all && n == 1000000) {
        for (int r : {16, 47, 63}) {
          reg(absl::StrCat("single_r", r, "/index"),
              [=](benchmark::State& s) { BM_SingleIndex(s, data, n, r); })
              ->Unit(benchmark::kMicrosecond);
        }
      }
      reg("single/plain_scan", [=](benchmark::State& s) { BM_SinglePlainScan(s, data, n); })
          ->Unit(benchmark::kMicrosecond);
      if (!all) continue;
      reg("single/simd_scan", [=](benchmark::State& s) { BM_SingleSimdScan(s, data, n); })
          ->Unit(benchmark::kMicrosecond);
      reg("batch/index", [=](benchmark::State& s) { BM_BatchIndex(s, data, n); })
          ->Unit(benchmark::kMillisecond);
      for (ScanIsa isa : {ScanIsa::kAvx512, ScanIsa::kAvx2, ScanIsa::kPortable}) {
        reg(absl::StrCat("batch/scan_", ScanIsaName(isa)),
            [=](benchmark::State& s) { BM_BatchScan(s, data, n, isa); })
            ->Unit(benchmark::kMillisecond);
      }
#ifdef OPTOUT_HAVE_FAISS
      reg("single/faiss_flat",
          [=](benchmark::State& s) { BM_FaissRange(s, data, n, false, 1); })
          ->Unit(benchmark::kMicrosecond);
      reg("batch/faiss_flat",
          [=](benchmark::State& s) { BM_FaissRange(s, data, n, false, kFaissFlatBatch); })
          ->Unit(benchmark::kMillisecond);
      reg("build/faiss_multihash", [=](benchmark::State& s) { BM_BuildFaissMih(s, data, n); })
          ->Iterations(1)->Unit(benchmark::kMillisecond);
      reg("single/faiss_multihash",
          [=](benchmark::State& s) { BM_FaissRange(s, data, n, true, 1); })
          ->Unit(benchmark::kMicrosecond);
#endif
    }
  }
}

}  // namespace
}  // namespace optout::storage

int main(int argc, char** argv) {
#ifdef OPTOUT_HAVE_FAISS
  omp_set_num_threads(1);
#endif
  optout::storage::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  optout::bench::RatioReporter reporter("single/plain_scan");
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
