// session_journal_bench: what journaling a check session costs (issue 14).
// optoutd saves a session part after every batch it counts (digest state,
// counts, versions, batch fingerprints: service/check_sessions.h), sealed
// with AES-256-GCM and written unsynced to RocksDB
// (service/check_session_journal.h). This measures SessionPart::Add on a
// check-dataset batch with that journal against the same Add without one,
// in the same run: CPU per checked row (all threads: RocksDB's flushes and
// compactions count) and the bytes handed to the store per row.
//
//   session_journal_bench --benchmark_min_time=2   (figures: tests/bench/README.md)
//
// Batches are what check-dataset sends for a CSV/Parquet table with an md5
// column: N rows, each a URL item of 8 expression digests and an MD5 item.
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "client/common/digest/digest.h"
#include "service/check_session_journal.h"
#include "service/check_sessions.h"
#include "service/key_set.h"
#include "service/keyring.h"
#include "storage/opt_out_store.h"
#include "tests/bench/ratio_reporter.h"

namespace optout {
namespace {

constexpr int kUrlDigests = 8;

// A batch of `rows` rows as check-dataset packs them.
v1::CheckRequest Batch(int rows, uint64_t seed) {
  v1::CheckRequest request;
  v1::PackedItems* urls = request.add_packed();
  urls->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  v1::PackedItems* md5s = request.add_packed();
  md5s->set_kind(v1::PackedItems::KIND_MD5);
  for (int r = 0; r < rows; ++r) {
    for (int e = 0; e < kUrlDigests; ++e) {
      const auto d = digest::Sha256(absl::StrCat("expr ", seed, " ", r, " ", e));
      urls->mutable_data()->append(reinterpret_cast<const char*>(d.data()), d.size());
    }
    urls->add_counts(kUrlDigests);
    const auto m = digest::Md5(absl::StrCat("row ", seed, " ", r));
    md5s->mutable_data()->append(reinterpret_cast<const char*>(m.data()), m.size());
  }
  return request;
}

// Counts what the journal is given to write.
class CountingJournal final : public service::SessionJournal {
 public:
  explicit CountingJournal(service::SessionJournal* inner) : inner_(inner) {}
  absl::Status Put(const std::string& key, const std::string& state) override {
    bytes_ += key.size() + state.size();
    ++puts_;
    return inner_->Put(key, state);
  }
  absl::Status Erase(const std::string& id) override { return inner_->Erase(id); }
  absl::Status ForEach(
      const std::function<void(const std::string&, const std::string&)>& fn) override {
    return inner_->ForEach(fn);
  }
  uint64_t bytes() const { return bytes_; }
  uint64_t puts() const { return puts_; }

 private:
  service::SessionJournal* const inner_;
  uint64_t bytes_ = 0, puts_ = 0;
};

// One store for the whole run (in a temp folder, removed at exit).
struct Fixture {
  std::string dir;
  std::unique_ptr<storage::OptOutStore> store;
  std::shared_ptr<const service::KeySet> keys;
  std::unique_ptr<service::CheckSessionJournal> journal;

  Fixture() {
    char tmpl[] = "/tmp/session-journal-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
    store = *storage::OptOutStore::Open(dir + "/db", storage::StoreOptions());
    service::SecretBytes secret{};
    secret.fill(7);
    auto set = std::make_shared<service::KeySet>();
    set->current = std::make_shared<const service::Keyring>(*service::Keyring::Derive(secret));
    keys = set;
    journal = std::make_unique<service::CheckSessionJournal>(store.get(), [this] { return keys; });
  }
  ~Fixture() {
    journal.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Fixture& Shared() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

// Add of `rows`-row batches to one part, journaled or not.
void BM_SessionAdd(benchmark::State& state, bool journaled) {
  const int rows = static_cast<int>(state.range(0));
  constexpr int kDistinctBatches = 8;  // fed round robin, numbered on
  std::vector<v1::CheckRequest> batches;
  for (int b = 0; b < kDistinctBatches; ++b) batches.push_back(Batch(rows, b));
  Fixture& f = Shared();
  CountingJournal counting(f.journal.get());
  auto last_active = std::make_shared<std::atomic<int64_t>>(0);
  static int session = 0;
  service::SessionPart part(last_active, 0, journaled ? &counting : nullptr,
                            absl::StrCat("bench", session++, "/0"));
  const absl::Time now = absl::Now();
  uint64_t number = 1;
  for (auto _ : state) {
    v1::CheckRequest& batch = batches[number % kDistinctBatches];
    batch.set_session_batch(number++);
    const absl::Status added = part.Add(batch, service::KindCounts{}, 1, now);
    if (!added.ok()) state.SkipWithError(std::string(added.message()).c_str());
  }
  state.SetItemsProcessed(state.iterations() * rows);
  if (journaled) {
    state.counters["journal_bytes_per_row"] =
        static_cast<double>(counting.bytes()) / static_cast<double>(state.iterations() * rows);
    state.counters["journal_bytes_per_batch"] =
        static_cast<double>(counting.bytes()) / static_cast<double>(counting.puts());
  }
}

void Register() {
  for (int rows : {4096, 512}) {
    const std::string group = absl::StrCat("session_add/", rows, "rows/");
    benchmark::RegisterBenchmark((group + "no_journal").c_str(),
                                 [](benchmark::State& s) { BM_SessionAdd(s, false); })
        ->Arg(rows)
        ->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark((group + "journal").c_str(),
                                 [](benchmark::State& s) { BM_SessionAdd(s, true); })
        ->Arg(rows)
        ->MeasureProcessCPUTime();
  }
}

}  // namespace
}  // namespace optout

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  optout::Register();
  optout::bench::RatioReporter reporter("no_journal");
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
