// optout check-dataset fails closed (issues 17 and 18): inputs it cannot
// read faithfully are refused with one line each and nothing written for
// them, while the good inputs of the same run are filtered; every file
// under a folder is checked or reported; URL keys are found in any case;
// the run's manners (out folder checks, lock, Ctrl-C with a resume hint).
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/dataset/record.h"
#include "client/dataset/writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_files.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::RunCommand;
namespace fs = std::filesystem;

using testing::ReadFile;

void WriteFile(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string TestImage(const std::string& name) {
  return ReadFile(testing::TestDataPath("pdq/images/" + name));
}

// Every path under `dir`, relative, except the run's own state.
std::set<std::string> Tree(const std::string& dir) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = fs::relative(it->path(), dir).generic_string();
    if (rel.rfind(".optout-state", 0) == 0) continue;
    out.insert(rel);
  }
  return out;
}

class DatasetRefusalE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    dir_ = server_.root() + "/work";
    fs::create_directories(dir_);
  }
  std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address()});
    return args;
  }
  testing::CommandResult Optout(std::vector<std::string> args) { return RunCommand(Args(args)); }
  void Register(std::vector<std::string> args) {
    args.insert(args.begin(), {"register", "--no-receipt"});
    auto r = Optout(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static nlohmann::json Report(const std::string& out) {
    return nlohmann::json::parse(ReadFile(out + "/report.json"));
  }

  testing::OptoutdProcess server_;
  std::string dir_;
};

TEST_F(DatasetRefusalE2eTest, ContainersAndNonTextAreRefusedWhileGoodInputsAreFiltered) {
  Register({"--url", "https://a.example/gone.jpg"});
  const std::string csv = "url,caption\nhttps://a.example/ok.jpg,x\nhttps://a.example/gone.jpg,y\n";
  struct Bad {
    std::string name, bytes, reason;
  };
  const std::string jpeg = TestImage("d01_plasma__orig.jpg");
  std::string big_latin1 = "url\n";
  while (big_latin1.size() < (2u << 20)) big_latin1 += "https://a.example/ok.jpg\n";
  big_latin1 += "https://a.example/caf\xE9.jpg\n";
  const std::vector<Bad> listed = {
      {"x.zip", std::string("PK\x03\x04\x14\x00\x00\x00\x08\x00", 10) + csv,
       "zip archive: not supported; unpack it first"},
      {"m.csv.gz", std::string("\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\x03\x4B\xCB\xCF", 13),
       "gzip stream ends in the middle (compressed byte 13)"},  // truncated gzip
      {"m.csv.zst", std::string("\x28\xB5\x2F\xFD\x24\x10\x81\x00", 8) + csv,
       "corrupt zstd data"},
      {"m.csv.bz2", std::string("BZh91AY&SY\xB1\x7A\x00\x00", 14),
       "bzip2-compressed file: not supported; decompress it first"},
      {"m.csv.xz", std::string("\xFD" "7zXZ\x00\x00\x04\xE6\xD6\xB4\x46", 12),
       "xz-compressed file: not supported; decompress it first"},
      {"m.7z", std::string("7z\xBC\xAF\x27\x1C\x00\x04\x00\x00", 10),
       "7z archive: not supported; unpack it first"},
      {"m.parquet", std::string("PAR1\x15\x04\x15\x10\x15\x14\x4C", 11) + "PAR1",
       "footer length 1276384528 at byte 7 is larger than the file"},
      {"m.arrow", std::string("ARROW1\x00\x00\xFF\xFF\xFF\xFF", 12),
       "Arrow/Feather file: not supported; convert it to CSV or JSONL first"},
      {"m.feather", std::string("FEA1\x00\x00\x00\x00\x10", 9),
       "Feather (v1) file: not supported; convert it to CSV or JSONL first"},
      {"nul.csv", std::string("url\nhttps://a.example/ok.jpg\n\x00\x00garbage\n", 39),
       "binary data (NUL byte at offset 29): not supported"},
      {"photo.csv", jpeg, "JPEG image: not a table or shard"},
      {"latin1.csv", big_latin1, "not UTF-8 text (invalid byte at offset"},
      {"empty.csv", "", "empty file (0 bytes): nothing to check"},
  };
  // A shard cut in the middle of a member: read up to there, then refused.
  {
    auto writer = dataset::OpenShardWriter(dir_ + "/whole.tar");
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 4; ++i) {
      dataset::Record r;
      r.files.push_back({absl::StrCat("s", i, ".jpg"), jpeg});
      r.files.push_back({absl::StrCat("s", i, ".json"), R"({"url": "https://c.example/x.jpg"})"});
      ASSERT_TRUE((*writer)->Write(r).ok());
    }
    ASSERT_TRUE((*writer)->Commit().ok());
  }
  const std::string whole = ReadFile(dir_ + "/whole.tar");
  fs::remove(dir_ + "/whole.tar");
  std::vector<Bad> bad = listed;
  bad.push_back({"cut.tar", whole.substr(0, whole.size() / 2), "corrupt tar"});
  std::vector<std::string> args = {"check-dataset", "--quiet"};
  WriteFile(dir_ + "/good.csv", csv);
  WriteFile(dir_ + "/urls.txt", "https://a.example/gone.jpg\nhttps://b.example/\n");
  args.push_back(dir_ + "/good.csv");
  for (const Bad& b : bad) {
    WriteFile(dir_ + "/" + b.name, b.bytes);
    args.push_back(dir_ + "/" + b.name);
  }
  args.push_back(dir_ + "/urls.txt");
  const std::string out = dir_ + "/out";
  args.insert(args.end(), {"--out", out});
  auto run = Optout(args);
  EXPECT_EQ(run.exit_code, 2) << run.err;

  // One line each on stderr, naming the file and what it looks like.
  const std::vector<std::string> lines = absl::StrSplit(run.err, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), bad.size()) << run.err;
  for (const Bad& b : bad) {
    EXPECT_THAT(run.err, HasSubstr(absl::StrCat(dir_, "/", b.name, ": ", b.reason))) << b.name;
  }
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat(bad.size(), " input(s) refused")));

  // Nothing garbled on disk: only the good inputs' filtered copies.
  EXPECT_EQ(Tree(out), (std::set<std::string>{"good.csv", "report.json", "urls.txt"}));
  EXPECT_EQ(ReadFile(out + "/good.csv"), "url,caption\nhttps://a.example/ok.jpg,x\n");
  EXPECT_EQ(ReadFile(out + "/urls.txt"), "https://b.example/\n");

  const nlohmann::json report = Report(out);
  EXPECT_EQ(report["totals"]["refused"], bad.size());
  EXPECT_EQ(report["totals"]["removed"], 2);
  ASSERT_EQ(report["refused"].size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(report["refused"][i]["input"], dir_ + "/" + bad[i].name);
    EXPECT_THAT(report["refused"][i]["reason"].get<std::string>(), HasSubstr(bad[i].reason));
  }

  // The receipt covers what the run sent, the rows of refused inputs read
  // before their refusal (latin1.csv, cut.tar) included: verify-receipt
  // rebuilds that from the inputs. The outputs cannot hold them (nothing of
  // a refused input is written), and --from-output says so.
  auto verified = Optout({"verify-receipt", out});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  auto from_output = Optout({"verify-receipt", out, "--from-output"});
  EXPECT_EQ(from_output.exit_code, 1);
  EXPECT_THAT(from_output.err, HasSubstr("an input refused part-way sent rows no output holds"));

  // A re-run refuses them again (no done state), reuses the good ones.
  auto again = Optout(args);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.out, HasSubstr("2 input(s) already done"));
  EXPECT_EQ(Tree(out), (std::set<std::string>{"good.csv", "report.json", "urls.txt"}));

  // --json says the same.
  args.insert(args.begin(), "--json");
  args.back() = dir_ + "/out-json";
  auto json = Optout(args);
  EXPECT_EQ(json.exit_code, 2);
  const auto summary = nlohmann::json::parse(json.out);
  EXPECT_EQ(summary["refused"].size(), bad.size());
  EXPECT_EQ(summary["refused"][0]["reason"], "zip archive: not supported; unpack it first");
}

TEST_F(DatasetRefusalE2eTest, AReplacedInputThatIsNowRefusedLeavesNoStaleCopy) {
  WriteFile(dir_ + "/m.csv", "url\nhttps://a.example/1.jpg\n");
  const std::string out = dir_ + "/out";
  auto first = Optout({"check-dataset", "--quiet", dir_ + "/m.csv", "--out", out});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_TRUE(fs::exists(out + "/m.csv"));
  WriteFile(dir_ + "/m.csv", std::string("\x1F\x8B\x08\x00", 4) + "rest");
  auto second = Optout({"check-dataset", "--quiet", dir_ + "/m.csv", "--out", out});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_THAT(second.err, HasSubstr("m.csv: gzip-compressed file"));
  EXPECT_FALSE(fs::exists(out + "/m.csv"));
}

// Issue 18 item 1 and 2: the README's own example, a folder holding shards,
// a manifest and images, with opted-out content in each.
TEST_F(DatasetRefusalE2eTest, EveryFileUnderAFolderIsCheckedOrReported) {
  const std::string images = testing::TestDataPath("pdq/images/");
  Register({"--image", images + "d01_plasma__orig.jpg", "--image", images + "d12_mixed__orig.jpg"});
  Register({"--url", "https://laion.example/opted-out.jpg"});

  const std::string root = dir_ + "/release";
  // A shard: one near-duplicate of a registered image, one sample whose
  // .json spells the key "URL" (LAION) with an opted-out URL, one clear
  // sample, one sample whose .json has no URL key at all.
  {
    fs::create_directories(root + "/shards");
    auto writer = dataset::OpenShardWriter(root + "/shards/000.tar");
    ASSERT_TRUE(writer.ok());
    auto sample = [&](const std::string& key, const std::string& image, const std::string& json) {
      dataset::Record r;
      r.files.push_back({key + ".jpg", TestImage(image)});
      r.files.push_back({key + ".json", json});
      ASSERT_TRUE((*writer)->Write(r).ok());
    };
    sample("a", "d01_plasma__jpeg30.jpg", R"({"URL": "https://laion.example/a.jpg"})");
    sample("b", "d03_clouds__orig.jpg", R"({"URL": "https://laion.example/opted-out.jpg"})");
    sample("c", "d05_rings__orig.jpg", R"({"URL": "https://laion.example/c.jpg"})");
    sample("d", "d08_textdoc__orig.png", R"({"caption": "no url"})");
    ASSERT_TRUE((*writer)->Commit().ok());
  }
  const std::string shard_in = ReadFile(root + "/shards/000.tar");
  WriteFile(root + "/manifest.jsonl",
            "{\"URL\": \"https://laion.example/opted-out.jpg\"}\n"
            "{\"URL\": \"https://laion.example/fine.jpg\"}\n");
  WriteFile(root + "/meta/table.csv", "URL,TEXT\nhttps://laion.example/opted-out.jpg,x\n"
                                      "https://laion.example/ok.jpg,y\n");
  // Images: a clear one, and copies of an opted-out photo the decoder
  // cannot read (here: JPEG bytes behind GIF / TIFF / HEIC signatures, which
  // the GIF and TIFF decoders refuse as corrupt, libheif as unsupported).
  const std::string registered = TestImage("d12_mixed__orig.jpg");
  WriteFile(root + "/img/clear.jpg", TestImage("d05_rings__unrel1.jpg"));
  WriteFile(root + "/img/copy1.gif", "GIF89a" + registered);
  WriteFile(root + "/img/copy2.tif", std::string("II*\0", 4) + registered);
  WriteFile(root + "/img/copy3.heic", std::string("\0\0\0\x18" "ftypheic", 12) + registered);
  // Two images under one key: only one could be checked.
  WriteFile(root + "/img/pair.jpg", TestImage("d05_rings__orig.jpg"));
  WriteFile(root + "/img/pair.png", TestImage("d08_textdoc__orig.png"));
  WriteFile(root + "/README.md", "# release notes\n");
  WriteFile(root + "/extra.zip", std::string("PK\x03\x04", 4) + "zipped");
  WriteFile(root + "/broken.csv.gz", std::string("\x1F\x8B\x08", 3));
  WriteFile(root + "/bad.tsv", std::string("url\n\x00\x01", 6));
  fs::create_symlink("nowhere.jpg", root + "/dangling.jpg");
  fs::create_directory_symlink(root + "/img", root + "/img-link");

  const std::string out = dir_ + "/checked";
  auto run = Optout({"check-dataset", "--quiet", root + "/", "--out", out});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.out, HasSubstr("(not copied)"));

  // Shard: filtered, not byte-identical; only the clear sample remains.
  EXPECT_NE(ReadFile(out + "/release/shards/000.tar"), shard_in);
  const nlohmann::json report = Report(out);
  std::map<std::string, std::string> removed, unchecked;
  for (const auto& r : report["removed"]) {
    removed[absl::StrCat(r["input"].get<std::string>(), ":",
                         r.contains("key") ? r["key"].get<std::string>() : r["row"].dump())] = r["match"];
  }
  for (const auto& u : report["unchecked"]) {
    unchecked[absl::StrCat(u["input"].get<std::string>(), ":",
                           u.contains("key") ? u["key"].get<std::string>() : u["row"].dump())] = u["reason"];
    EXPECT_EQ(u["kept"], false);
  }
  const std::map<std::string, std::string> want_removed = {
      {"release/shards/000.tar:a", "pdq"},
      {"release/shards/000.tar:b", "url"},
      {"release/manifest.jsonl:1", "url"},
      {"release/meta/table.csv:1", "url"},
  };
  EXPECT_EQ(removed, want_removed);
  std::set<std::string> unchecked_keys;
  for (const auto& [k, reason] : unchecked) unchecked_keys.insert(k);
  EXPECT_EQ(unchecked_keys,
            (std::set<std::string>{"release/shards/000.tar:d", "release:img/copy1", "release:img/copy2",
                                   "release:img/copy3", "release:img/pair", "release:README",
                                   "release:extra", "release:broken", "release:bad",
                                   "release:dangling", "release:img-link"}))
      << report["unchecked"].dump(1);
  EXPECT_THAT(unchecked["release/shards/000.tar:d"], HasSubstr("no URL key in d.json"));
  EXPECT_THAT(unchecked["release:img/copy1"], HasSubstr("copy1.gif: corrupt GIF"));
  EXPECT_THAT(unchecked["release:img/copy2"], HasSubstr("copy2.tif: corrupt"));
  EXPECT_THAT(unchecked["release:img/copy3"], HasSubstr("copy3.heic: unsupported HEIF"));
  EXPECT_THAT(unchecked["release:img/pair"], HasSubstr("2 images under one key"));
  EXPECT_THAT(unchecked["release:README"], HasSubstr("nothing to check"));
  EXPECT_THAT(unchecked["release:extra"], HasSubstr("zip archive"));
  EXPECT_THAT(unchecked["release:broken"], HasSubstr("broken.csv.gz: gzip stream ends in the middle"));
  EXPECT_THAT(unchecked["release:bad"], HasSubstr("bad.tsv: binary data"));
  EXPECT_THAT(unchecked["release:dangling"], HasSubstr("broken symbolic link"));
  EXPECT_THAT(unchecked["release:img-link"], HasSubstr("symbolic link to a folder"));

  // On disk: the checked files only; nothing unchecked copied.
  EXPECT_EQ(Tree(out + "/release"),
            (std::set<std::string>{"shards", "shards/000.tar", "manifest.jsonl", "meta",
                                   "meta/table.csv", "img", "img/clear.jpg"}));
  EXPECT_EQ(ReadFile(out + "/release/manifest.jsonl"), "{\"URL\": \"https://laion.example/fine.jpg\"}\n");
  EXPECT_EQ(ReadFile(out + "/release/meta/table.csv"), "URL,TEXT\nhttps://laion.example/ok.jpg,y\n");

  // --keep-unchecked copies them, byte for byte; still exit 2.
  auto keep = Optout({"check-dataset", "--quiet", "--keep-unchecked", root, "--out", dir_ + "/kept"});
  EXPECT_EQ(keep.exit_code, 2) << keep.err;
  EXPECT_THAT(keep.out, HasSubstr("kept, as --keep-unchecked asks"));
  for (const char* f : {"img/copy1.gif", "img/copy2.tif", "img/copy3.heic", "img/pair.jpg",
                        "img/pair.png", "README.md", "extra.zip", "broken.csv.gz", "bad.tsv"}) {
    EXPECT_EQ(ReadFile(dir_ + "/kept/release/" + f), ReadFile(root + "/" + f)) << f;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/kept/release/shards/000.tar.partial"));
}

TEST_F(DatasetRefusalE2eTest, OutFolderInsideAnInputOrLockedIsRefused) {
  WriteFile(dir_ + "/in/m.csv", "url\nhttps://a.example/1.jpg\n");
  for (const std::string& out : {dir_ + "/in", dir_ + "/in/", dir_ + "/in/out", dir_ + "/in/../in/o"}) {
    auto run = Optout({"check-dataset", "--quiet", dir_ + "/in", "--out", out});
    EXPECT_EQ(run.exit_code, 1) << out;
    EXPECT_THAT(run.err, HasSubstr("input folder")) << out;
    EXPECT_THAT(run.err, HasSubstr("choose a folder outside it")) << out;
  }
  EXPECT_EQ(Tree(dir_ + "/in"), (std::set<std::string>{"m.csv"}));

  // Another run holds the lock on --out: refused at once, nothing touched.
  const std::string out = dir_ + "/out";
  fs::create_directories(out + "/.optout-state");
  const int fd = ::open((out + "/.optout-state/lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto locked = Optout({"check-dataset", "--quiet", dir_ + "/in", "--out", out});
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_THAT(locked.err, HasSubstr("another check-dataset run is writing into"));
  EXPECT_FALSE(fs::exists(out + "/in"));
  ::close(fd);
  auto free = Optout({"check-dataset", "--quiet", dir_ + "/in", "--out", out});
  EXPECT_EQ(free.exit_code, 0) << free.err;
}

TEST_F(DatasetRefusalE2eTest, CtrlCStopsCleanlyAndSaysHowToResume) {
  // Big enough to still be running when interrupted.
  std::string text = "url\n";
  for (int i = 0; i < 600000; ++i) absl::StrAppend(&text, "https://h", i % 97, ".example/p/", i, ".jpg\n");
  WriteFile(dir_ + "/a.csv", text);
  WriteFile(dir_ + "/b.csv", text);
  const std::string out = dir_ + "/out";
  const std::string err_path = dir_ + "/err.txt";
  std::vector<std::string> args = Args({"check-dataset", "--quiet", dir_ + "/a.csv",
                                        dir_ + "/b.csv", "--out", out});
  const pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    freopen(err_path.c_str(), "w", stderr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Interrupt once the first input is under way.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!fs::exists(out + "/a.csv.partial") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of stopping cleanly";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const std::string err = ReadFile(err_path);
  EXPECT_THAT(err, HasSubstr("interrupted"));
  EXPECT_THAT(err, HasSubstr("to resume, run: optout --server"));
  EXPECT_THAT(err, HasSubstr(absl::StrCat("--out ", out)));
  EXPECT_FALSE(fs::exists(out + "/report.json"));
  EXPECT_FALSE(fs::exists(out + "/a.csv.partial"));

  auto resumed = RunCommand(args);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(ReadFile(out + "/a.csv"), text);
  EXPECT_EQ(ReadFile(out + "/b.csv"), text);
}

}  // namespace
}  // namespace optout
