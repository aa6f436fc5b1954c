// optout check-dataset against a real optoutd: a 100,000-row manifest with
// 1,000 registered rows (exact URLs, scopes, md5), webdataset shards of the
// PDQ test images with near-duplicates of registered images, malformed rows,
// and an interrupted run that resumes to the same result.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/dataset/reader.h"
#include "client/dataset/writer.h"
#include "client/common/digest/digest.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;
namespace fs = std::filesystem;

using testing::ReadFile;

class DatasetE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    client_ = client::RegistryClient::Create(server_.address());
    dir_ = server_.root() + "/work";
    fs::create_directories(dir_);
  }
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address()});
    return RunCommand(args);
  }
  // Registers `requests` with a few concurrent callers; returns the match id
  // of each one's first item (what reports name).
  std::vector<std::string> RegisterAll(const std::vector<v1::RegisterRequest>& requests) {
    std::vector<std::string> ids(requests.size());
    std::vector<std::thread> threads;
    constexpr int kThreads = 16;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < requests.size(); i += kThreads) {
          auto r = client_->Register(requests[i]);
          ASSERT_TRUE(r.ok()) << r.status();
          if (r->scopes_size() > 0) ASSERT_TRUE(prover_.Prove(*client_, *r).ok());
          ASSERT_GE(r->items_size(), 1);
          ids[i] = r->items(0).match_id();
        }
      });
    }
    for (auto& th : threads) th.join();
    return ids;
  }
  static std::string Md5Hex(uint64_t row) {
    const auto d = digest::Md5(absl::StrCat("image bytes of row ", row));
    return digest::ToHex(d);
  }
  static nlohmann::json Report(const std::string& out) {
    return nlohmann::json::parse(ReadFile(out + "/report.json"));
  }

  testing::ScopeProver prover_;
  testing::OptoutdProcess server_{prover_.ServerFlags()};
  std::unique_ptr<client::RegistryClient> client_;
  std::string dir_;
};

// Row r of the generated manifest: most rows share a few hosts; rows chosen
// for scope opt-outs sit alone under a directory of their own host.
std::string RowUrl(uint64_t r) {
  if (r % 100 == 37) return absl::StrCat("https://scoped", r, ".example.org/users/u", r, "/pic.jpg");
  return absl::StrCat("https://img", r % 7, ".example.com/photos/", r % 1000, "/", r, ".jpg?w=640");
}

TEST_F(DatasetE2eTest, ManifestOf100kRowsLosesExactlyTheRegisteredRows) {
  constexpr uint64_t kRows = 100000;
  // 1,000 registered rows: every 100th row from 37 by scope (its folder),
  // rows r % 100 == 11 by exact URL, r % 100 == 73 by md5 — 1,000 rows in all,
  // each its own opt-out.
  std::vector<v1::RegisterRequest> requests;
  std::vector<std::pair<uint64_t, std::string>> expected;  // row, match kind
  for (uint64_t r = 1; r <= kRows; ++r) {
    const uint64_t m = r % 100;
    if (m != 37 && m != 11 && m != 73) continue;
    if (m == 11 && r > 40000) continue;  // 400 URL rows
    if (m == 73 && r > 30000) continue;  // 300 md5 rows
    if (m == 37 && r > 30000) continue;  // 300 scope rows
    v1::RegisterRequest req;
    req.set_request_id(testing::RequestIdFor(absl::StrCat("row-", r)));
    if (m == 11) {
      // Registered in another spelling: canonicalization must still match.
      std::string url = RowUrl(r);
      url.replace(0, 8, "HTTPS://");
      req.add_urls(url);
      expected.emplace_back(r, "url");
    } else if (m == 37) {
      req.add_scopes(absl::StrCat("https://scoped", r, ".example.org/users/u", r, "/"));
      expected.emplace_back(r, "scope");
    } else {
      req.add_md5(*digest::FromHex(Md5Hex(r), 16));
      expected.emplace_back(r, "md5");
    }
    requests.push_back(std::move(req));
  }
  ASSERT_EQ(requests.size(), 1000u);
  const absl::Time reg_start = absl::Now();
  const std::vector<std::string> ids = RegisterAll(requests);
  std::cerr << "registered 1000 opt-outs in " << absl::Now() - reg_start << "\n";

  // The manifest, with a few malformed rows after row 100,000.
  const std::string manifest = dir_ + "/manifest.csv";
  std::string header = "key,caption,url,md5\n";
  {
    std::ofstream out(manifest, std::ios::binary);
    out << header;
    for (uint64_t r = 1; r <= kRows; ++r) {
      out << r << ",\"photo " << r << ", \"\"nice\"\"\"," << RowUrl(r) << "," << Md5Hex(r) << "\n";
    }
    out << "bad1,x,gopher://nope.example/a.jpg,\n"   // row 100001: unsupported scheme
        << "bad2,x,,\n"                              // row 100002: empty URL
        << "bad3,x,https://ok.example/a.jpg,zz\n"    // row 100003: bad md5
        << "bad4,\"unterminated,https://x.example/\n";  // row 100004: broken quoting
  }
  const std::string out = dir_ + "/out";
  const absl::Time start = absl::Now();
  auto run = Optout({"check-dataset", manifest, "--out", out, "--quiet"});
  std::cerr << "check-dataset of 100,004 rows: " << absl::Now() - start << "\n";
  // 2: completed, but some rows could not be checked (the malformed ones).
  ASSERT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.out, HasSubstr("1000 removed"));
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1) << run.out;

  const nlohmann::json report = Report(out);
  EXPECT_EQ(report["totals"]["rows"], kRows + 4);
  EXPECT_EQ(report["totals"]["removed"], 1000);
  EXPECT_EQ(report["totals"]["unchecked"], 4);
  EXPECT_EQ(report["totals"]["kept"], kRows - 1000);
  EXPECT_EQ(report["removed_by_match"]["url"], 400);
  EXPECT_EQ(report["removed_by_match"]["scope"], 300);
  EXPECT_EQ(report["removed_by_match"]["md5"], 300);
  std::map<uint64_t, std::pair<std::string, std::string>> removed;  // row -> kind, id
  for (const auto& r : report["removed"]) {
    EXPECT_EQ(r["input"], "manifest.csv");
    ASSERT_EQ(r["ids"].size(), 1u);
    removed[r["row"].get<uint64_t>()] = {r["match"], r["ids"][0]};
  }
  ASSERT_EQ(removed.size(), 1000u);
  for (size_t i = 0; i < expected.size(); ++i) {
    auto it = removed.find(expected[i].first);
    ASSERT_NE(it, removed.end()) << "row " << expected[i].first << " not removed";
    EXPECT_EQ(it->second.first, expected[i].second) << "row " << expected[i].first;
    EXPECT_EQ(it->second.second, ids[i]) << "row " << expected[i].first;
  }
  std::map<uint64_t, std::string> unchecked;
  for (const auto& u : report["unchecked"]) unchecked[u["row"].get<uint64_t>()] = u["reason"];
  ASSERT_EQ(unchecked.size(), 4u);
  EXPECT_THAT(unchecked[kRows + 1], HasSubstr("UNSUPPORTED_SCHEME"));
  EXPECT_THAT(unchecked[kRows + 2], HasSubstr("EMPTY_INPUT"));
  EXPECT_THAT(unchecked[kRows + 3], HasSubstr("bad md5"));
  EXPECT_THAT(unchecked[kRows + 4], HasSubstr("malformed"));

  // The filtered copy: the header, then every other row, byte for byte, in order.
  std::string want = header;
  std::set<uint64_t> gone;
  for (const auto& e : expected) gone.insert(e.first);
  for (uint64_t r = 1; r <= kRows; ++r) {
    if (gone.count(r)) continue;
    absl::StrAppend(&want, r, ",\"photo ", r, ", \"\"nice\"\"\",", RowUrl(r), ",", Md5Hex(r), "\n");
  }
  EXPECT_TRUE(ReadFile(out + "/manifest.csv") == want) << "filtered manifest differs";

  // --keep-unchecked keeps the malformed rows in the copy (still reported).
  auto keep = Optout({"check-dataset", manifest, "--out", dir_ + "/keep", "--quiet",
                      "--keep-unchecked"});
  ASSERT_EQ(keep.exit_code, 2) << keep.err;
  EXPECT_EQ(Report(dir_ + "/keep")["totals"]["kept"], kRows - 1000 + 4);
  EXPECT_EQ(Report(dir_ + "/keep")["totals"]["unchecked"], 4);
}

TEST_F(DatasetE2eTest, JsonlTsvAndUrlListsWithMalformedLinesNeverCrash) {
  auto reg = Optout({"register", "--no-receipt", "--url", "https://a.example/x.jpg"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  std::ofstream(dir_ + "/m.jsonl") << "{\"url\": \"https://a.example/x.jpg\", \"c\": 1}\n"
                                    << "{not json\n"
                                    << "[1,2]\n"
                                    << "{\"url\": \"https://a.example/y.jpg\"}\n"
                                    << "{\"url\": \"http://[::1\"}\n";
  std::ofstream(dir_ + "/m.tsv") << "URL\tcaption\n"
                                  << "https://a.example/y.jpg\tok\n"
                                  << "https://a.example/x.jpg\tgone\n";
  std::ofstream(dir_ + "/list.txt") << "https://a.example/x.jpg\n\nhttps://b.example/\n"
                                     << std::string(10000, 'z') << "\n" << "http://\n";
  const std::string out = dir_ + "/out";
  auto run = Optout({"check-dataset", dir_ + "/m.jsonl", dir_ + "/m.tsv", dir_ + "/list.txt",
                     "--out", out, "--json", "--quiet"});
  ASSERT_EQ(run.exit_code, 2) << run.err;  // malformed lines were left unchecked
  auto summary = nlohmann::json::parse(run.out);
  EXPECT_EQ(summary["removed"], 3);
  EXPECT_EQ(ReadFile(out + "/m.jsonl"), "{\"url\": \"https://a.example/y.jpg\"}\n");
  EXPECT_EQ(ReadFile(out + "/m.tsv"), "URL\tcaption\nhttps://a.example/y.jpg\tok\n");
  EXPECT_EQ(ReadFile(out + "/list.txt"), "\nhttps://b.example/\n");
  const auto report = Report(out);
  // Two broken JSON lines and one bad URL in m.jsonl; in list.txt a URL
  // that is too long and one without a host.
  EXPECT_EQ(report["totals"]["unchecked"], 5);
  EXPECT_EQ(report["unchecked"].size(), 5u);
}

TEST_F(DatasetE2eTest, MissingInputOrUrlColumnFailsWithOneLine) {
  std::ofstream(dir_ + "/nourl.csv") << "a,b\n1,2\n";
  auto run = Optout({"check-dataset", dir_ + "/nourl.csv", "--out", dir_ + "/o", "--quiet"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("--url-column"));
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1);
  auto missing = Optout({"check-dataset", dir_ + "/nope.csv", "--out", dir_ + "/o", "--quiet"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("no such input"));
}


std::string TestImage(const std::string& name) {
  return ReadFile(testing::TestDataPath("pdq/images/" + name));
}

// A sample: key + image (a test image, or bytes when `image` starts with '!')
// + optional .json text.
struct SampleSpec {
  std::string key, image, json;
};

void WriteShard(const std::string& path, const std::vector<SampleSpec>& samples) {
  auto writer = dataset::OpenShardWriter(path);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (const SampleSpec& s : samples) {
    dataset::Record r;
    if (!s.image.empty()) {
      const bool raw = s.image[0] == '!';
      const std::string ext = raw ? ".jpg" : s.image.substr(s.image.rfind('.'));
      r.files.push_back({s.key + ext, raw ? s.image.substr(1) : TestImage(s.image)});
    }
    if (!s.json.empty()) r.files.push_back({s.key + ".json", s.json});
    r.files.push_back({s.key + ".txt", "caption of " + s.key});
    ASSERT_TRUE((*writer)->Write(r).ok());
  }
  ASSERT_TRUE((*writer)->Commit().ok());
}

// Keys of the samples in a shard, in order, with their files' bytes.
std::vector<std::pair<std::string, std::string>> ShardContents(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  auto reader = dataset::OpenShardReader(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  for (;;) {
    std::vector<dataset::Record> part;
    EXPECT_TRUE((*reader)->Read(8, &part).ok());
    if (part.empty()) return out;
    for (const auto& r : part) {
      for (const auto& f : r.files) out.emplace_back(f.name, f.bytes);
    }
  }
}

TEST_F(DatasetE2eTest, ShardsAndFoldersLoseNearDuplicatesOfRegisteredImages) {
  const std::string images = testing::TestDataPath("pdq/images/");
  auto reg = Optout({"register", "--no-receipt", "--dihedral", "--image",
                     images + "d01_plasma__orig.jpg", "--image", images + "d02_plasma_png_il__orig.png",
                     "--image", images + "d12_mixed__orig.jpg", "--image",
                     images + "d14_progressive__orig.jpg", "--image", images + "d19_wide__orig.jpg"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto low = Optout({"register", "--no-receipt", "--image", images + "d25_lowcontrast__orig.png",
                     "--url", "https://web.example/registered.jpg"});
  ASSERT_EQ(low.exit_code, 0) << low.err;

  auto json_for = [](const std::string& key) {
    return "{\"url\": \"https://web.example/" + key + ".jpg\", \"caption\": \"x\"}";
  };
  const std::vector<SampleSpec> shard0 = {
      {"000000", "d01_plasma__jpeg30.jpg", json_for("000000")},
      {"000001", "d01_plasma__unrel1.jpg", json_for("000001")},
      {"000002", "d02_plasma_png_il__bright10.png", json_for("000002")},
      {"000003", "d12_mixed__rot90.jpg", json_for("000003")},
      {"000004", "d03_clouds__orig.jpg", json_for("000004")},
      {"000005", "!this is not an image", json_for("000005")},
      {"000006", "", "{\"url\": \"https://web.example/registered.jpg\"}"},
  };
  const std::vector<SampleSpec> shard1 = {
      {"000100", "d14_progressive__jpeg30.jpg", json_for("000100")},
      {"000101", "d19_wide__bright10.jpg", json_for("000101")},
      {"000102", "d05_rings__orig.jpg", json_for("000102")},
      {"000103", "d25_lowcontrast__orig.png", json_for("000103")},
      {"000104", "d25_lowcontrast__jpeg30.jpg", json_for("000104")},
      {"000105", "d19_wide__rot90.jpg", json_for("000105")},
      {"000106", "d08_textdoc__orig.png", "{\"url\": broken"},
  };
  WriteShard(dir_ + "/shard-000.tar", shard0);
  WriteShard(dir_ + "/shard-001.tar", shard1);
  // A folder of images with sidecars.
  fs::create_directories(dir_ + "/photos/sub");
  std::ofstream(dir_ + "/photos/sub/a.jpg", std::ios::binary) << TestImage("d01_plasma__bright10.jpg");
  std::ofstream(dir_ + "/photos/sub/a.json") << "{\"url\": \"https://folder.example/a.jpg\"}";
  std::ofstream(dir_ + "/photos/b.jpg", std::ios::binary) << TestImage("d05_rings__unrel1.jpg");
  std::ofstream(dir_ + "/photos/b.json") << "{\"url\": \"https://folder.example/b.jpg\"}";

  const std::string out = dir_ + "/out";
  auto run = Optout({"check-dataset", dir_ + "/shard-000.tar", dir_ + "/shard-001.tar",
                     dir_ + "/photos", "--out", out, "--quiet"});
  ASSERT_EQ(run.exit_code, 2) << run.err;  // two samples could not be checked

  const nlohmann::json report = Report(out);
  std::map<std::string, std::string> removed;
  for (const auto& r : report["removed"]) removed[r["key"]] = r["match"];
  const std::map<std::string, std::string> want_removed = {
      {"000000", "pdq"}, {"000002", "pdq"},    {"000003", "pdq"}, {"000006", "url"},
      {"000100", "pdq"}, {"000101", "pdq"},    {"000103", "pdq"}, {"000104", "pdq"},
      {"000105", "pdq"}, {"sub/a", "pdq"}};
  EXPECT_EQ(removed, want_removed);
  std::map<std::string, std::string> unchecked;
  for (const auto& u : report["unchecked"]) unchecked[u["key"]] = u["reason"];
  ASSERT_EQ(unchecked.size(), 2u);
  EXPECT_THAT(unchecked["000005"], HasSubstr("undecodable image"));
  EXPECT_THAT(unchecked["000106"], HasSubstr("broken JSON"));
  // d25 (PDQ quality 33) is in the low-quality tier: its original and its
  // re-encode are matched by PDQ, none falls back to file digests alone.
  EXPECT_EQ(report["totals"]["images_checked_by_file_digest_only"], 0);
  EXPECT_EQ(report["totals"]["kept"], 4);

  // The filtered shards hold exactly the kept samples, files unchanged, in order.
  auto kept0 = ShardContents(out + "/shard-000.tar");
  std::vector<std::string> names0;
  for (const auto& [name, bytes] : kept0) names0.push_back(name);
  EXPECT_THAT(names0, ::testing::ElementsAre("000001.jpg", "000001.json", "000001.txt",
                                             "000004.jpg", "000004.json", "000004.txt"));
  EXPECT_TRUE(kept0[0].second == TestImage("d01_plasma__unrel1.jpg"));
  auto kept1 = ShardContents(out + "/shard-001.tar");
  std::vector<std::string> names1;
  for (const auto& [name, bytes] : kept1) names1.push_back(name);
  EXPECT_THAT(names1, ::testing::ElementsAre("000102.jpg", "000102.json", "000102.txt"));
  EXPECT_TRUE(fs::exists(out + "/photos/b.jpg"));
  EXPECT_TRUE(fs::exists(out + "/photos/b.json"));
  EXPECT_FALSE(fs::exists(out + "/photos/sub/a.jpg"));
  EXPECT_FALSE(fs::exists(out + "/photos/sub/a.json"));

  // verify-receipt --from-output: the filtered tars and folder, their images
  // hashed again, with the dropped samples put back by number, are what the
  // registry signed (low-quality PDQ items included).
  for (const auto& line : report["removed"]) {
    EXPECT_TRUE(line.contains("sample") && line.contains("items")) << line;
  }
  auto verified = Optout({"verify-receipt", out, "--from-output"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("receipt verified"));
  auto fails = [&](const std::string& what, const std::string& reason) {
    auto v = Optout({"verify-receipt", out, "--from-output"});
    EXPECT_EQ(v.exit_code, 1) << what;
    EXPECT_THAT(v.err, HasSubstr(reason)) << what;
  };
  const std::string altered = "removed rows list or output altered";
  // A kept sample removed from the folder, an image added, one edited.
  const std::string b_jpg = ReadFile(out + "/photos/b.jpg");
  const std::string b_json = ReadFile(out + "/photos/b.json");
  fs::remove(out + "/photos/b.jpg");
  fs::remove(out + "/photos/b.json");
  fails("sample removed", altered);
  std::ofstream(out + "/photos/b.jpg", std::ios::binary) << b_jpg;
  std::ofstream(out + "/photos/b.json", std::ios::binary) << b_json;
  std::ofstream(out + "/photos/c.jpg", std::ios::binary) << TestImage("d07_finechecker__orig.jpg");
  fails("image added", altered);
  fs::remove(out + "/photos/c.jpg");
  std::ofstream(out + "/photos/b.jpg", std::ios::binary | std::ios::app) << "x";
  fails("image edited", "not what the registry checked");
  std::ofstream(out + "/photos/b.jpg", std::ios::binary | std::ios::trunc) << b_jpg;
  // A kept sample removed from a tar (GNU tar deletes members in place).
  const std::string tar0 = ReadFile(out + "/shard-000.tar");
  auto deleted = RunCommand({"/usr/bin/env", "tar", "--delete", "-f", out + "/shard-000.tar",
                             "000004.jpg", "000004.json", "000004.txt"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  fails("sample removed from a tar", altered);
  std::ofstream(out + "/shard-000.tar", std::ios::binary | std::ios::trunc) << tar0;
  // A removed sample hidden from the list, or moved to another place.
  nlohmann::json hidden = report;
  for (size_t i = 0; i < hidden["removed"].size(); ++i) {
    if (hidden["removed"][i]["key"] == "000003") hidden["removed"].erase(i);
  }
  testing::WriteFile(out + "/report.json", hidden.dump(2));
  fails("sample hidden", altered);
  nlohmann::json moved = report;
  for (auto& line : moved["removed"]) {
    if (line["key"] == "000100") line["sample"] = 3;
  }
  testing::WriteFile(out + "/report.json", moved.dump(2));
  fails("sample moved", "not what the registry checked");
  testing::WriteFile(out + "/report.json", report.dump(2));
  auto again = Optout({"verify-receipt", out, "--from-output"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

// Framed, captioned, screenshotted and cropped copies of a registered photo
// (issue 12): check-dataset sends the same trimmed regions as `optout check
// --image` and the owner's windows catch them; an unrelated photo stays.
TEST_F(DatasetE2eTest, FolderLosesFramedCaptionedAndCroppedCopiesOfARegisteredPhoto) {
  const std::string photos = testing::TestDataPath("photos/images/");
  auto reg = Optout({"register", "--no-receipt", "--image", photos + "v01__orig.jpg"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  fs::create_directories(dir_ + "/copies");
  const std::vector<std::string> copies = {"border", "caption", "screenshot", "crop_center",
                                           "pad"};
  for (const std::string& family : copies) {
    std::ofstream(dir_ + "/copies/" + family + ".jpg", std::ios::binary)
        << ReadFile(photos + "v01__" + family + ".jpg");
  }
  std::ofstream(dir_ + "/copies/unrelated.jpg", std::ios::binary)
      << ReadFile(photos + "v14__orig.jpg");
  const std::string out = dir_ + "/out-copies";
  auto run = Optout({"check-dataset", dir_ + "/copies", "--out", out, "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::map<std::string, std::string> removed;
  const nlohmann::json report = Report(out);
  for (const auto& r : report["removed"]) removed[r["key"]] = r["match"];
  for (const std::string& family : copies) EXPECT_EQ(removed[family], "pdq") << family << report;
  EXPECT_EQ(removed.count("unrelated"), 0u);
  EXPECT_TRUE(fs::exists(out + "/copies/unrelated.jpg"));
}

// Starts the optout command without waiting for it.
pid_t Spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

TEST_F(DatasetE2eTest, InterruptedRunResumesToTheSameResult) {
  constexpr int kInputs = 6;
  constexpr uint64_t kRowsPerInput = 40000;
  std::vector<v1::RegisterRequest> requests;
  for (uint64_t r = 5; r <= kInputs * kRowsPerInput; r += 997) {
    v1::RegisterRequest req;
    req.set_request_id(testing::RequestIdFor(absl::StrCat("resume-", r)));
    req.add_urls(RowUrl(r));
    requests.push_back(std::move(req));
  }
  RegisterAll(requests);
  std::vector<std::string> args = {OptoutCliBinary(), "--server", server_.address(),
                                   "check-dataset", "--quiet"};
  for (int i = 0; i < kInputs; ++i) {
    const std::string path = absl::StrCat(dir_, "/part-", i, ".csv");
    std::ofstream out(path);
    out << "url,n\n";
    for (uint64_t r = i * kRowsPerInput + 1; r <= (i + 1) * kRowsPerInput; ++r) {
      out << RowUrl(r) << "," << r << "\n";
    }
    out << "notaurl://x,0\n";
    args.push_back(path);
  }
  auto with_out = [&](const std::string& out) {
    std::vector<std::string> a = args;
    a.push_back("--out");
    a.push_back(out);
    return a;
  };

  // Reference: one uninterrupted run.
  auto reference = RunCommand(with_out(dir_ + "/ref"));
  ASSERT_EQ(reference.exit_code, 2) << reference.err;  // the notaurl:// rows

  // Killed (SIGKILL, no chance to clean up) once the first input is done.
  const std::string out = dir_ + "/out";
  const pid_t pid = Spawn(with_out(out));
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!fs::exists(out + "/.optout-state/part-0.csv.done.json") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_FALSE(fs::exists(out + "/report.json"));

  auto resumed = RunCommand(with_out(out));
  ASSERT_EQ(resumed.exit_code, 2) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("already done, skipped"));
  const nlohmann::json a = Report(dir_ + "/ref"), b = Report(out);
  EXPECT_EQ(a["totals"], b["totals"]);
  EXPECT_EQ(a["removed_by_match"], b["removed_by_match"]);
  EXPECT_EQ(a["removed"], b["removed"]);
  EXPECT_EQ(a["unchecked"], b["unchecked"]);
  EXPECT_EQ(a["totals"]["removed"], requests.size());
  EXPECT_EQ(b["inputs"][0]["resumed"], true);
  for (int i = 0; i < kInputs; ++i) {
    const std::string name = absl::StrCat("/part-", i, ".csv");
    EXPECT_TRUE(ReadFile(dir_ + "/ref" + name) == ReadFile(out + name)) << name;
    EXPECT_FALSE(fs::exists(out + name + ".partial"));
  }
}

}  // namespace
}  // namespace optout
