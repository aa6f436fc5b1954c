// Issue 10, probing, end to end against a real optoutd with its default
// settings: the one-bit-at-a-time recovery of a stored PDQ hash from 31 bits
// away (one query per call, or batched) is stopped before it succeeds, with
// RESOURCE_EXHAUSTED naming the reason, a RetryInfo delay and an audit
// line; the same number of calls crawling unrelated images (random hashes,
// the PDQ test corpus with its edits side by side, the photo corpus with
// dihedral variants and regions through `optout check --image`) is not
// throttled.
#include <dirent.h>
#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/pdq/pdq_hex.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::optout::testing::CommandResult;
using ::optout::testing::IsOk;
using ::optout::testing::OptoutdProcess;
using ::optout::testing::RunAdmin;
using ::optout::testing::RunCommand;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int kThreshold = 31;  // optoutd's default --pdq_threshold

std::string CreateKey(const OptoutdProcess& server, const std::string& name) {
  // No budget limits: only the probing guard may stop these callers.
  CommandResult created =
      RunAdmin(server, {"keys", "create", "--name", name, "--items-per-minute", "0",
                        "--items-per-day", "0", "--pdq-per-day", "0"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  return std::string(absl::StripAsciiWhitespace(created.out));
}

std::unique_ptr<client::RegistryClient> ClientFor(const OptoutdProcess& server,
                                                  const std::string& key) {
  client::ClientOptions options;
  options.api_key = key;
  return client::RegistryClient::Create(server.address(), options);
}

std::string Flip(std::string hash, int bit) {
  hash[bit / 8] = static_cast<char>(hash[bit / 8] ^ (1 << (bit % 8)));
  return hash;
}

int Distance(const std::string& a, const std::string& b) {
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += __builtin_popcount(static_cast<uint8_t>(a[i] ^ b[i]));
  return d;
}

// A stored hash (registered anonymously) and a start 31 bits from it.
struct Target {
  std::string stored;
  std::string start;
};

Target RegisterTarget(const OptoutdProcess& server, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Target target;
  target.stored = testing::BalancedRandomPdq(rng);
  std::vector<int> bits(256);
  for (int i = 0; i < 256; ++i) bits[i] = i;
  std::shuffle(bits.begin(), bits.end(), rng);
  target.start = target.stored;
  for (int i = 0; i < kThreshold; ++i) target.start = Flip(target.start, bits[i]);
  v1::RegisterRequest request;
  request.set_request_id(testing::RequestIdFor(absl::StrCat("probe-target-", seed)));
  request.add_pdq()->set_hash(target.stored);
  request.mutable_pdq(0)->set_quality(100);
  auto owner = client::RegistryClient::Create(server.address());
  EXPECT_THAT(owner->Register(request), IsOk());
  return target;
}

v1::CheckRequest PdqRequest(const std::vector<std::string>& hashes) {
  v1::CheckRequest request;
  for (const std::string& hash : hashes) request.add_items()->mutable_pdq()->set_hash(hash);
  return request;
}

// The attack of issue 10, one query per call: walk to the edge of the
// stored hash's ball (flip bits while the answer stays "matched"), then
// test each bit there. Returns the status that stopped it (OK when it ran
// to the end), the recovered hash and the calls answered.
struct AttackResult {
  absl::Status stopped;
  std::string recovered;
  int answered = 0;
};

AttackResult RecoverOneQueryPerCall(client::RegistryClient& checker, const Target& target) {
  AttackResult result;
  auto matched = [&](const std::string& q, bool* out) {
    absl::StatusOr<v1::CheckResponse> answer = checker.Check(PdqRequest({q}));
    if (!answer.ok()) {
      result.stopped = answer.status();
      return false;
    }
    ++result.answered;
    *out = answer->results(0).matched();
    return true;
  };
  std::string q = target.start;
  bool m = false;
  int edge_bit = -1;
  for (int bit = 0; bit < 256; ++bit) {
    if (!matched(Flip(q, bit), &m)) return result;
    if (!m) {
      edge_bit = bit;
      break;
    }
    q = Flip(q, bit);
  }
  std::string recovered = q;
  for (int bit = 0; bit < 256; ++bit) {
    if (bit == edge_bit) continue;
    if (!matched(Flip(q, bit), &m)) return result;
    if (m) recovered = Flip(recovered, bit);
  }
  // The edge bit is right (flipping it left the ball): done.
  result.recovered = recovered;
  return result;
}

// The batched form (2 calls): every prefix of the flips from the start in
// one request (the last "matched" one is at the edge), then every
// single-bit flip of that edge point in a second.
AttackResult RecoverInTwoCalls(client::RegistryClient& checker, const Target& target) {
  AttackResult result;
  std::vector<std::string> walk;
  std::string q = target.start;
  for (int bit = 0; bit < 256; ++bit) walk.push_back(q = Flip(q, bit));
  absl::StatusOr<v1::CheckResponse> first = checker.Check(PdqRequest(walk));
  int edge = 0;
  if (first.ok()) {
    ++result.answered;
    while (edge + 1 < static_cast<int>(walk.size()) && first->results(edge + 1).matched()) ++edge;
  } else {
    result.stopped = first.status();
  }
  // Sent even after a refusal, as an attacker would.
  std::vector<std::string> flips;
  for (int bit = 0; bit < 256; ++bit) flips.push_back(Flip(walk[edge], bit));
  absl::StatusOr<v1::CheckResponse> second = checker.Check(PdqRequest(flips));
  if (!second.ok()) {
    result.stopped = second.status();
    return result;
  }
  ++result.answered;
  if (!first.ok()) return result;
  result.recovered = walk[edge];
  for (int bit = 0; bit < 256; ++bit) {
    if (second->results(bit).matched()) result.recovered = Flip(result.recovered, bit);
  }
  return result;
}

void ExpectStoppedForProbing(const AttackResult& attack, const Target& target,
                             absl::string_view who) {
  EXPECT_THAT(attack.stopped, StatusIs(absl::StatusCode::kResourceExhausted,
                                       HasSubstr(absl::StrCat("PDQ checks of ", who,
                                                              " are paused"))));
  EXPECT_THAT(attack.stopped.message(), HasSubstr("probing"));
  std::optional<absl::Duration> delay = client::RetryDelayOf(attack.stopped);
  ASSERT_TRUE(delay.has_value());
  EXPECT_GT(*delay, absl::Minutes(50));  // the default throttle, 1 h
  EXPECT_LE(*delay, absl::Hours(1));
  EXPECT_NE(attack.recovered, target.stored);
}

TEST(ProbingE2eTest, TheAttackWorksWhereProbingIsNotDetected) {
  // The attack itself recovers the hash with detection off, so the tests
  // below stop something real.
  OptoutdProcess server({"--pdq_probe_limit=0"});
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  const Target target = RegisterTarget(server, 1);
  auto checker = ClientFor(server, CreateKey(server, "prober"));
  AttackResult single = RecoverOneQueryPerCall(*checker, target);
  EXPECT_THAT(single.stopped, IsOk());
  EXPECT_EQ(single.recovered, target.stored);
  EXPECT_GT(single.answered, 250);
  AttackResult batched = RecoverInTwoCalls(*checker, target);
  EXPECT_THAT(batched.stopped, IsOk());
  EXPECT_EQ(batched.recovered, target.stored);
}

TEST(ProbingE2eTest, OneBitAtATimeRecoveryStopsBeforeItSucceeds) {
  char tmpl[] = "/tmp/optout-probing-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string audit = dir + "/audit.jsonl";
  OptoutdProcess server({"--audit_log=" + audit});
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  const Target target = RegisterTarget(server, 2);
  auto prober = ClientFor(server, CreateKey(server, "prober"));

  AttackResult attack = RecoverOneQueryPerCall(*prober, target);
  ExpectStoppedForProbing(attack, target, "API key prober");
  EXPECT_LE(attack.answered, 64);  // --pdq_probe_limit's default

  // The key's PDQ checks stay paused (even of unrelated hashes); its other
  // checks, and other keys, go on.
  std::mt19937_64 rng(3);
  EXPECT_THAT(prober->Check(PdqRequest({testing::BalancedRandomPdq(rng)})),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("probing")));
  v1::CheckRequest url;
  url.add_items()->set_url("https://probing.example/a.jpg");
  EXPECT_THAT(prober->Check(url), IsOk());
  auto other = ClientFor(server, CreateKey(server, "other"));
  EXPECT_THAT(other->Check(PdqRequest({target.start})), IsOk());

  // The batched form, by an anonymous caller, is stopped too.
  auto anonymous = client::RegistryClient::Create(server.address());
  const Target second = RegisterTarget(server, 4);
  AttackResult batched = RecoverInTwoCalls(*anonymous, second);
  ExpectStoppedForProbing(batched, second, "address 127.0.0.1");
  EXPECT_EQ(batched.answered, 0);
  ASSERT_THAT(server.Stop(), IsOk());

  // One audit line found the probing (per caller); later refusals say why.
  const std::string text = testing::ReadFile(audit);
  std::vector<std::string> found;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StrContains(line, R"("event":"pdq_probing")")) found.emplace_back(line);
  }
  ASSERT_EQ(found.size(), 2u) << text;
  EXPECT_THAT(found[0], HasSubstr(R"("key":"prober","method":"Check","items":{"pdq":1})"));
  EXPECT_THAT(found[0], HasSubstr(R"("status":"RESOURCE_EXHAUSTED")"));
  EXPECT_THAT(found[1], HasSubstr(R"("peer":"127.0.0.1","method":"Check","items":{"pdq":256})"));
  EXPECT_THAT(text, HasSubstr(R"("event":"pdq_probing_throttled")"));
  for (const std::string& hash : {target.stored, target.start}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(digest::ToHex(hash))));
  }
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST(ProbingE2eTest, ACrawlOfUnrelatedImagesAtTheSameRateIsNotThrottled) {
  OptoutdProcess server;
  ASSERT_THAT(server.Start(), IsOk()) << server.ReadLog();
  const Target target = RegisterTarget(server, 5);
  const std::string key = CreateKey(server, "crawler");
  auto crawler = ClientFor(server, key);

  // As many calls as the attack, one random image each; then two batches
  // of 256, as the batched attack; the stored image itself among them.
  std::mt19937_64 rng(6);
  for (int i = 0; i < 300; ++i) {
    ASSERT_THAT(crawler->Check(PdqRequest({testing::BalancedRandomPdq(rng)})), IsOk())
        << "call " << i;
  }
  for (int batch = 0; batch < 2; ++batch) {
    std::vector<std::string> hashes;
    for (int i = 0; i < 256; ++i) hashes.push_back(testing::BalancedRandomPdq(rng));
    hashes[100] = target.start;
    absl::StatusOr<v1::CheckResponse> answer = crawler->Check(PdqRequest(hashes));
    ASSERT_THAT(answer, IsOk());
    EXPECT_TRUE(answer->results(100).matched());
  }

  // Real images: the PDQ corpus, one call each, in file order, so that each
  // picture's edits (crops, recompressions, rotations) come one after
  // another - near duplicates side by side.
  const std::string tsv = testing::ReadFile(testing::TestDataPath("pdq/expected.tsv"));
  int corpus = 0;
  for (absl::string_view line : absl::StrSplit(tsv, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() < 2 || fields[0] == "file") continue;
    absl::StatusOr<pdq::PdqHash> hash = pdq::PdqHashFromHex(fields[1]);
    ASSERT_THAT(hash, IsOk());
    const std::string bytes(hash->bytes.begin(), hash->bytes.end());
    const int ones = Distance(bytes, std::string(32, '\0'));
    if (ones < 96 || ones > 160) continue;  // refused by validation anyway
    ASSERT_THAT(crawler->Check(PdqRequest({bytes})), IsOk()) << fields[0];
    ++corpus;
  }
  EXPECT_GT(corpus, 200);

  // The photo corpus (6 pictures × 16 edits and the originals) through the
  // CLI, which sends each image with its 8 dihedral variants and its
  // trimmed regions: several hashes per item, close to one another.
  std::vector<std::string> argv = {testing::OptoutCliBinary(), "--server", server.address(),
                                   "--api-key", key, "check"};
  const std::string photos = testing::TestDataPath("photos/images");
  DIR* folder = opendir(photos.c_str());
  ASSERT_NE(folder, nullptr) << photos;
  std::vector<std::string> files;
  while (dirent* entry = readdir(folder)) {
    if (absl::EndsWith(entry->d_name, ".jpg") || absl::EndsWith(entry->d_name, ".png")) {
      files.push_back(photos + "/" + entry->d_name);
    }
  }
  closedir(folder);
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 96u);
  for (const std::string& file : files) {
    argv.push_back("--image");
    argv.push_back(file);
  }
  CommandResult checked = RunCommand(argv);
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  // And each picture again one call per file.
  for (size_t i = 0; i < files.size(); i += 7) {
    CommandResult one = RunCommand({testing::OptoutCliBinary(), "--server", server.address(),
                                    "--api-key", key, "check", "--image", files[i]});
    EXPECT_EQ(one.exit_code, 0) << files[i] << ": " << one.err;
  }
  EXPECT_THAT(crawler->Check(PdqRequest({target.start})), IsOk());
}

}  // namespace
}  // namespace optout
