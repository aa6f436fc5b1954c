// End-to-end tests of optout-bench: each runs the real binary against a real
// optoutd (small N, seconds) and checks its JSON, including that exactly the
// items the workload meant to hit were reported as matched.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"

namespace optout::testing {
namespace {

class OptoutBenchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog(); }

  CommandResult Bench(std::vector<std::string> args) {
    args.insert(args.begin(), {OPTOUT_BENCH_PATH, "--server", server_.address()});
    return RunCommand(args);
  }

  // Runs the tool, expects success and one JSON object on stdout.
  nlohmann::json BenchJson(std::vector<std::string> args) {
    args.push_back("--json");
    CommandResult r = Bench(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << r.out;
    if (!j.is_object()) return nlohmann::json::object();
    EXPECT_GT(j.value("items_per_s", 0.0), 0.0) << r.out;
    EXPECT_GT(j.value("p50_us", 0.0), 0.0) << r.out;
    EXPECT_GE(j.value("p99_us", 0.0), j.value("p50_us", 0.0)) << r.out;
    return j;
  }

  static void ExpectExactMatches(const nlohmann::json& j, uint64_t items) {
    EXPECT_EQ(j.value("items", uint64_t{0}), items) << j.dump();
    EXPECT_GT(j.value("expected_matches", uint64_t{0}), 0u) << j.dump();
    EXPECT_LT(j.value("expected_matches", uint64_t{0}), items) << j.dump();
    EXPECT_EQ(j.value("matched", uint64_t{1}), j.value("expected_matches", uint64_t{0})) << j.dump();
  }

  OptoutdProcess server_;
};

TEST_F(OptoutBenchTest, DigestsModeMatchesExactlyThePopulatedUrls) {
  nlohmann::json j = BenchJson({"--populate", "200", "--mode", "digests", "--items", "2000",
                                "--batch", "100", "--match-fraction", "0.5"});
  EXPECT_EQ(j.value("populated", uint64_t{0}), 200u);
  ExpectExactMatches(j, 2000);
  // Every URL of the workload expands to 10 lookup expressions.
  EXPECT_EQ(j.value("units", uint64_t{0}), 20000u);

  nlohmann::json exact = BenchJson({"--stored", "200", "--mode", "digests", "--exact-only",
                                    "--items", "1000", "--batch", "250"});
  ExpectExactMatches(exact, 1000);
  EXPECT_EQ(exact.value("units", uint64_t{0}), 1000u);
}

TEST_F(OptoutBenchTest, UrlsModeOverStreamAndUnary) {
  nlohmann::json j = BenchJson({"--populate", "150", "--mode", "urls", "--items", "3000",
                                "--batch", "300", "--inflight", "2", "--streams", "2",
                                "--match-fraction", "0.3"});
  ExpectExactMatches(j, 3000);
  nlohmann::json single = BenchJson({"--stored", "150", "--mode", "urls", "--items", "400",
                                     "--batch", "1", "--inflight", "1", "--rpc", "unary",
                                     "--match-fraction", "0.5"});
  ExpectExactMatches(single, 400);
  EXPECT_EQ(single.value("calls", uint64_t{0}), 400u);
}

TEST_F(OptoutBenchTest, PdqModeWithAndWithoutDihedralVariants) {
  nlohmann::json j = BenchJson({"--populate", "200", "--mode", "pdq", "--items", "1000",
                                "--batch", "100", "--match-fraction", "0.4"});
  ExpectExactMatches(j, 1000);
  EXPECT_EQ(j.value("units", uint64_t{0}), 1000u);
  nlohmann::json d = BenchJson({"--stored", "200", "--mode", "pdq", "--dihedral", "--items",
                                "300", "--batch", "50", "--match-fraction", "0.4"});
  ExpectExactMatches(d, 300);
  EXPECT_EQ(d.value("units", uint64_t{0}), 300u * 9);
}

TEST_F(OptoutBenchTest, RegisterModeCreatesNewOptOutsEveryRun) {
  nlohmann::json j = BenchJson({"--mode", "register", "--items", "300", "--concurrency", "16"});
  EXPECT_EQ(j.value("items", uint64_t{0}), 300u);
  EXPECT_EQ(j.value("calls", uint64_t{0}), 300u);
  nlohmann::json again = BenchJson({"--mode", "register", "--items", "100", "--concurrency", "8"});
  EXPECT_EQ(again.value("items", uint64_t{0}), 100u);
}

TEST_F(OptoutBenchTest, ReportsAMismatchWhenTheRegistryHoldsOtherOptOuts) {
  CommandResult populate = Bench({"--populate", "100", "--seed", "7"});
  ASSERT_EQ(populate.exit_code, 0) << populate.err;
  CommandResult r = Bench({"--stored", "100", "--seed", "8", "--mode", "urls", "--items", "500",
                           "--batch", "100", "--match-fraction", "0.5", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("--seed 8"));
}

TEST_F(OptoutBenchTest, RejectsAnUnknownModeAndExplainsUsage) {
  CommandResult r = Bench({"--mode", "nope"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, ::testing::HasSubstr("--mode"));
  CommandResult help = Bench({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, ::testing::HasSubstr("--populate"));
}

}  // namespace
}  // namespace optout::testing
