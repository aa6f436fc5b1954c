// File: storage/hamming_index_concurrency_test.cc
//
// Searches racing with Add, Remove and background rebuilds: entries that
// stay are always found, and a removal is visible to every search that
// starts after Remove returned.
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/hamming_index.h"
#include "storage/testing/code_generators.h"

namespace optout::storage {
namespace {

using ::optout::storage::testing::CodeRng;
using ::optout::storage::testing::UniformCodes;

TEST(HammingIndexConcurrencyTest, SearchesSeeStableEntriesAndAcknowledgedRemovals) {
  HammingIndex::Options options;
  options.max_delta = 256;  // many background rebuilds during the test
  HammingIndex index(options);

  // Handles [0, kStable) never change; [kStable, kStable + kChurn) are added
  // after the start and then removed in order.
  constexpr size_t kStable = 20000;
  constexpr size_t kChurn = 3000;
  const std::vector<Code256> codes = UniformCodes(kStable + kChurn, 99);
  std::vector<std::pair<uint64_t, Code256>> entries;
  for (size_t i = 0; i < kStable; ++i) entries.emplace_back(i, codes[i]);
  index.Build(std::move(entries));

  std::atomic<size_t> removed_below{kStable};  // churn handles < this are gone
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};

  std::thread writer([&] {
    for (size_t i = kStable; i < kStable + kChurn; ++i) index.Add(i, codes[i]);
    for (size_t i = kStable; i < kStable + kChurn; ++i) {
      if (!index.Remove(i)) failures.fetch_add(1);
      removed_below.store(i + 1);
    }
    done.store(true);
  });

  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      CodeRng rng(t + 1);
      while (!done.load()) {
        const size_t stable = rng.Below(kStable);
        const size_t churn = kStable + rng.Below(kChurn);
        const size_t gone = removed_below.load();
        const std::vector<Code256> queries = {codes[stable], codes[churn]};
        std::vector<std::vector<uint64_t>> found = index.SearchBatch(queries, 8);
        found.push_back(index.Search(codes[churn], 0));
        auto has = [](const std::vector<uint64_t>& v, uint64_t h) {
          return std::find(v.begin(), v.end(), h) != v.end();
        };
        if (!has(found[0], stable)) failures.fetch_add(1);
        if (churn < gone && (has(found[1], churn) || has(found[2], churn))) {
          failures.fetch_add(1);
        }
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(index.size(), kStable);
}

}  // namespace
}  // namespace optout::storage
