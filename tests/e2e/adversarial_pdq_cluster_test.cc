// File: tests/e2e/adversarial_pdq_cluster_test.cc
//
// Issue 9, finding 2: before the fix, a check against a dense cluster of
// similar registered hashes built every (query, hit) pair in memory (25
// registrations of 4,096 similar hashes plus one 32 KB check: +1.16 GB).
// Now hits stream into the answer and each item stops after 16 opt-outs,
// so one request's extra memory stays within 64 MiB whatever is stored.
// Bounded: about 20 s and 400 MB.
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/registry_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

constexpr int kRegistrations = 25;
constexpr int kHashesPerRegistration = 4000;  // the limit is 4,096
constexpr int kCheckItems = 10000;            // the most one request may carry
constexpr int64_t kMaxExtraBytes = int64_t{64} << 20;

// `centre` with `bits` distinct bits flipped, alternately set and cleared,
// so the popcount stays that of the centre (real PDQ hashes set 128 bits).
std::string NearCentre(const std::string& centre, int bits, std::mt19937_64& rng) {
  std::string code = centre;
  std::string flipped(256, 0);
  for (int done = 0; done < bits;) {
    const int bit = static_cast<int>(rng() % 256);
    const bool set = (code[bit / 8] >> (bit % 8)) & 1;
    if (flipped[bit] || set != (done % 2 == 0)) continue;
    flipped[bit] = 1;
    code[bit / 8] = static_cast<char>(code[bit / 8] ^ (1 << (bit % 8)));
    ++done;
  }
  return code;
}

// A field of /proc/PID/status, in bytes ("VmRSS", "VmHWM").
int64_t ProcStatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::vector<std::string> parts =
        absl::StrSplit(line.substr(field.size() + 1), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int64_t kib = 0;
    if (!parts.empty() && absl::SimpleAtoi(parts[0], &kib)) return kib * 1024;
  }
  return -1;
}

// Resets VmHWM (peak resident memory) to the current resident size.
bool ResetPeakRss(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  return static_cast<bool>(out.flush());
}

TEST(AdversarialPdqClusterTest, OneCheckAgainst100000SimilarHashesStaysWithin64MiB) {
  // 10,000 queries near one hash are what PDQ probing looks like; this test
  // is about memory, so the probing guard (probing_e2e_test) is off.
  testing::OptoutdProcess server({"--pdq_probe_limit=0"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto client = client::RegistryClient::Create(server.address());
  std::mt19937_64 rng(9);
  const std::string centre = testing::BalancedRandomPdq(rng);

  // 100,000 hashes within 8 bits of one centre, from 25 opt-outs.
  for (int r = 0; r < kRegistrations; ++r) {
    v1::RegisterRequest request;
    for (int h = 0; h < kHashesPerRegistration; ++h) {
      v1::PdqHash* pdq = request.add_pdq();
      pdq->set_hash(NearCentre(centre, 8, rng));
      pdq->set_quality(100);
    }
    auto registered = client->Register(request);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }

  // One item of each shape first, so that per-thread buffers and gRPC's
  // own allocations exist before the measured request.
  auto packed_check = [&](int items) {
    v1::CheckRequest request;
    v1::PackedItems* packed = request.add_packed();
    packed->set_kind(v1::PackedItems::KIND_PDQ);
    packed->set_pdq_dihedral(true);
    std::string* data = packed->mutable_data();
    for (int i = 0; i < items; ++i) {
      for (int v = 0; v < 9; ++v) *data += NearCentre(centre, 6, rng);  // every variant hits
    }
    return request;
  };
  ASSERT_TRUE(client->Check(packed_check(100)).ok());

  const pid_t pid = server.pid();
  ASSERT_TRUE(ResetPeakRss(pid));
  const int64_t before = ProcStatusBytes(pid, "VmRSS");
  auto checked = client->Check(packed_check(kCheckItems));
  const int64_t peak = ProcStatusBytes(pid, "VmHWM");
  ASSERT_TRUE(checked.ok()) << checked.status();
  ASSERT_GT(before, 0);
  ASSERT_EQ(checked->packed_verdicts_size(), 1);
  const v1::PackedVerdict& verdict = checked->packed_verdicts(0);
  ASSERT_EQ(verdict.matches_size(), kCheckItems);  // every item matched
  for (const v1::PackedMatch& match : verdict.matches()) {
    ASSERT_EQ(match.kind(), v1::MATCH_KIND_PDQ);
    ASSERT_GE(match.match_ids_size(), 1);
    ASSERT_LE(match.match_ids_size(), 16);
  }
  std::printf("10,000-item dihedral check against a 100,000-hash cluster: server peak "
              "+%.1f MiB over %.1f MiB resident\n",
              (peak - before) / 1048576.0, before / 1048576.0);
  EXPECT_LE(peak - before, kMaxExtraBytes);
}

}  // namespace
}  // namespace optout
