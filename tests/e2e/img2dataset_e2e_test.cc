// Issue 14 against a real optoutd: an img2dataset output folder (per shard
// NNNNN.tar with .jpg/.json/.txt members, NNNNN.parquet with one row per
// URL tried, NNNNN_stats.json) checked by check-dataset. The same keys
// leave tar and parquet whichever file held the evidence (URL, md5 of the
// image, PDQ of the image, a registered URL that failed to download), every
// other member stays byte for byte, the parquet is read back by hyparquet,
// the stats follow the rows removed, and a corrupt tar refuses its whole
// shard naming the byte.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/common/digest/digest.h"
#include "client/dataset/reader.h"
#include "client/dataset/writer.h"
#include "client/parquet/parquet_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_files.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
namespace fs = std::filesystem;

const std::string kInterop = testing::InteropDir();

// One URL img2dataset tried: downloaded (image set) or failed.
struct Row {
  std::string key, url, image, error;
  std::string md5_column;  // what the parquet says (normally the image's md5)
};

std::string TestImage(const std::string& name) {
  return ReadFile(testing::TestDataPath("pdq/images/" + name));
}

std::string Md5Hex(const std::string& bytes) { return digest::ToHex(digest::Md5(bytes)); }

// Writes NNNNN.tar, NNNNN.parquet and NNNNN_stats.json as img2dataset does.
void WriteShard(const std::string& dir, int shard, const std::vector<Row>& rows) {
  const std::string stem = absl::StrFormat("%s/%05d", dir, shard);
  auto tar = dataset::OpenShardWriter(stem + ".tar");
  ASSERT_TRUE(tar.ok()) << tar.status();
  int successes = 0;
  std::map<std::string, int> status_dict;
  for (const Row& r : rows) {
    if (r.image.empty()) {
      ++status_dict[r.error];
      continue;
    }
    ++successes;
    ++status_dict["success"];
    nlohmann::json json = {{"url", r.url},          {"caption", "caption of " + r.key},
                           {"key", r.key},          {"status", "success"},
                           {"error_message", nullptr}, {"width", 256},
                           {"height", 256},         {"md5", Md5Hex(r.image)}};
    dataset::Record record;
    record.files.push_back({r.key + ".jpg", r.image});
    record.files.push_back({r.key + ".json", json.dump()});
    record.files.push_back({r.key + ".txt", "caption of " + r.key});
    ASSERT_TRUE((*tar)->Write(record).ok());
  }
  ASSERT_TRUE((*tar)->Commit().ok());

  using parquet::PhysicalType;
  const parquet::FileMetadata schema = parquet::MakeFlatSchema(
      {{"url", PhysicalType::kByteArray, true, true}, {"caption", PhysicalType::kByteArray, true, true},
       {"key", PhysicalType::kByteArray, true, true}, {"status", PhysicalType::kByteArray, true, true},
       {"error_message", PhysicalType::kByteArray, true, true}, {"width", PhysicalType::kInt32, true},
       {"md5", PhysicalType::kByteArray, true, true}});
  std::vector<parquet::ColumnData> columns(schema.columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    columns[c].type = schema.columns[c].type;
    columns[c].width = parquet::ValueWidth(schema.columns[c].type, schema.columns[c].type_length);
  }
  auto put = [&](int c, const std::string* value) {
    columns[c].def.push_back(value != nullptr);
    if (value != nullptr) columns[c].AppendValue(*value);
    ++columns[c].num_levels;
  };
  for (const Row& r : rows) {
    const bool ok = !r.image.empty();
    const std::string caption = "caption of " + r.key, status = ok ? "success" : "failed_to_download";
    const int32_t width = 256;
    const std::string width_bytes(reinterpret_cast<const char*>(&width), 4);
    put(0, &r.url);
    put(1, &caption);
    put(2, &r.key);
    put(3, &status);
    put(4, ok ? nullptr : &r.error);
    put(5, ok ? &width_bytes : nullptr);
    put(6, r.md5_column.empty() ? nullptr : &r.md5_column);
  }
  auto writer = parquet::ParquetWriter::Create(stem + ".parquet", schema);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteRowGroup(columns, std::vector<parquet::ColumnWriteOptions>(columns.size())).ok());
  ASSERT_TRUE((*writer)->Close().ok());

  const nlohmann::json stats = {{"count", rows.size()},
                                {"successes", successes},
                                {"failed_to_download", rows.size() - successes},
                                {"failed_to_resize", 0},
                                {"duration", 1.5},
                                {"start_time", 1700000000.0},
                                {"end_time", 1700000001.5},
                                {"status_dict", status_dict}};
  std::ofstream(stem + "_stats.json") << stats.dump(4);
}

// The members of a tar, in order, with their bytes.
std::vector<std::pair<std::string, std::string>> TarMembers(const std::string& path) {
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

class Img2datasetE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(absl::StrCat(kInterop, "/node_modules/hyparquet")))
        << "the npm packages of tests/interop are missing: run deploy/install-deps.sh";
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    dir_ = server_.root() + "/work";
    fs::create_directories(dir_ + "/release");
  }
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::OptoutCliBinary(), "--server", server_.address()});
    return testing::RunCommand(args);
  }

  testing::OptoutdProcess server_;
  std::string dir_;
};

TEST_F(Img2datasetE2eTest, SameKeysLeaveTarAndParquetAndStatsFollow) {
  const std::vector<std::string> pool = {"d01_plasma__orig.jpg", "d05_rings__orig.jpg",
                                         "d07_finechecker__orig.jpg", "d09_banner__orig.jpg",
                                         "d12_mixed__orig.jpg", "d14_progressive__orig.jpg",
                                         "d18_tall__orig.jpg", "d19_wide__orig.jpg"};
  auto rows_of = [&](int shard, int samples, int failed) {
    std::vector<Row> rows;
    for (int i = 0; i < samples + failed; ++i) {
      Row r;
      r.key = absl::StrFormat("%05d%04d", shard, i);
      r.url = absl::StrCat("https://img", i, ".example.net/", shard, "/", i, ".jpg");
      if (i < samples) {
        r.image = TestImage(pool[(shard * 3 + i) % pool.size()]);
        r.md5_column = Md5Hex(r.image);
      } else {
        r.error = i % 2 ? "HTTP Error 404: Not Found" : "timed out";
      }
      rows.push_back(std::move(r));
    }
    return rows;
  };
  std::vector<std::vector<Row>> shards = {rows_of(0, 5, 1), rows_of(1, 5, 2), rows_of(2, 5, 1)};
  // Shard 0: sample 1 by URL; sample 3's image cannot be decoded, so it
  // leaves the tar unchecked and its row the parquet.
  const std::string url_registered = shards[0][1].url;
  shards[0][3].image = "not an image at all";
  shards[0][3].md5_column = Md5Hex(shards[0][3].image);
  // Shard 1: sample 2 by the md5 of its image (unique in the release);
  // sample 4's row has a broken md5, so its sample leaves the tar too.
  shards[1][2].image = TestImage("d21_exact512__orig.jpg");
  shards[1][2].md5_column = Md5Hex(shards[1][2].image);
  shards[1][4].md5_column = "zz";
  // Shard 2: sample 3 is a near-duplicate of a registered image (only the
  // tar holds that evidence); row 5 failed to download but its URL is
  // registered (only the parquet holds it).
  shards[2][3].image = TestImage("d03_clouds__jpeg30.jpg");
  shards[2][3].md5_column = Md5Hex(shards[2][3].image);
  const std::string failed_registered = shards[2][5].url;
  ASSERT_EQ(shards[2][5].error, "HTTP Error 404: Not Found");
  const std::string release = dir_ + "/release";
  for (int s = 0; s < 3; ++s) WriteShard(release, s, shards[s]);
  // Shard 3: its tar is cut short, so the whole shard is refused.
  WriteShard(release, 3, rows_of(3, 4, 0));
  {
    const std::string whole = ReadFile(release + "/00003.tar");
    std::ofstream(release + "/00003.tar", std::ios::binary | std::ios::trunc) << whole.substr(0, 3000);
  }

  auto reg = Optout({"register", "--no-receipt", "--url", url_registered, "--url", failed_registered});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  reg = Optout({"register", "--no-receipt", "--md5", Md5Hex(shards[1][2].image)});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  reg = Optout({"register", "--no-receipt", "--dihedral", "--image",
                testing::TestDataPath("pdq/images/d03_clouds__orig.jpg")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;

  const std::string out = dir_ + "/out";
  auto run = Optout({"check-dataset", release, "--out", out, "--quiet"});
  ASSERT_EQ(run.exit_code, 2) << run.out << run.err;  // some samples could not be checked
  const nlohmann::json report = nlohmann::json::parse(ReadFile(out + "/report.json"));

  // What left each file, by key, as the report says.
  std::map<std::string, std::map<std::string, std::string>> removed, unchecked;  // file -> key -> why
  for (const auto& r : report["removed"]) {
    removed[r["input"].get<std::string>()][r["key"].get<std::string>()] = r["match"].get<std::string>();
  }
  std::vector<std::string> folder_files;  // files of the folder itself: "NAME: reason"
  for (const auto& r : report["unchecked"]) {
    EXPECT_EQ(r["kept"], false);
    if (r["input"] == "release") {
      folder_files.push_back(r["reason"].get<std::string>());
    } else {
      unchecked[r["input"].get<std::string>()][r["key"].get<std::string>()] = r["reason"].get<std::string>();
    }
  }
  using Fates = std::map<std::string, std::string>;
  EXPECT_EQ(removed["release/00000.tar"], (Fates{{"000000001", "url"}}));
  EXPECT_EQ(removed["release/00000.parquet"], (Fates{{"000000001", "url"}}));
  EXPECT_EQ(removed["release/00001.tar"], (Fates{{"000010002", "md5"}}));
  EXPECT_EQ(removed["release/00001.parquet"], (Fates{{"000010002", "md5"}}));
  ASSERT_EQ(removed["release/00002.tar"].size(), 1u);
  EXPECT_THAT(removed["release/00002.tar"]["000020003"], HasSubstr("pdq"));
  EXPECT_EQ(removed["release/00002.parquet"],
            (Fates{{"000020003", removed["release/00002.tar"]["000020003"]}, {"000020005", "url"}}));
  EXPECT_THAT(unchecked["release/00000.tar"]["000000003"], HasSubstr("undecodable image"));
  EXPECT_THAT(unchecked["release/00000.parquet"]["000000003"], HasSubstr("not kept in 00000.tar"));
  EXPECT_THAT(unchecked["release/00001.parquet"]["000010004"], HasSubstr("bad md5"));
  EXPECT_THAT(unchecked["release/00001.tar"]["000010004"], HasSubstr("not kept in 00001.parquet: bad md5"));
  // The cut tar names the byte where it breaks; its partners say why
  // they were not checked.
  ASSERT_EQ(folder_files.size(), 3u);
  std::sort(folder_files.begin(), folder_files.end());
  EXPECT_THAT(folder_files[0], HasSubstr("00003.parquet: not checked: 00003.tar of the same shard was refused"));
  EXPECT_THAT(folder_files[1], HasSubstr("00003.tar: corrupt tar at byte "));
  EXPECT_THAT(folder_files[2], HasSubstr("00003_stats.json: not checked: 00003.tar of the same shard was refused"));

  // Each kept member byte for byte, in order; each kept row, by hyparquet.
  const std::vector<std::set<int>> gone = {{1, 3}, {2, 4}, {3, 5}};
  for (int s = 0; s < 3; ++s) {
    const std::string stem = absl::StrFormat("/%05d", s);
    std::vector<std::pair<std::string, std::string>> want;
    for (const auto& [name, bytes] : TarMembers(release + stem + ".tar")) {
      const int index = std::stoi(name.substr(5, 4));
      if (gone[s].count(index) == 0) want.emplace_back(name, bytes);
    }
    EXPECT_EQ(TarMembers(out + "/release" + stem + ".tar"), want) << stem;
    const std::string list = dir_ + stem + ".removed.txt";
    {
      std::ofstream rows(list);
      for (int index : gone[s]) rows << index + 1 << "\n";
    }
    auto compare = testing::RunCommand({"/usr/bin/env", "node", absl::StrCat(kInterop, "/compare.mjs"),
                                        release + stem + ".parquet", out + "/release" + stem + ".parquet", list});
    ASSERT_EQ(compare.exit_code, 0) << compare.out << compare.err;
    const nlohmann::json verdict = nlohmann::json::parse(compare.out);
    EXPECT_EQ(verdict["ok"], true) << verdict.dump();
    EXPECT_EQ(verdict["rows"], shards[s].size() - gone[s].size());
  }
  // The stats follow the rows that left the parquet.
  const nlohmann::json stats2 = nlohmann::json::parse(ReadFile(out + "/release/00002_stats.json"));
  EXPECT_EQ(stats2["count"], 4);
  EXPECT_EQ(stats2["successes"], 4);
  EXPECT_EQ(stats2["failed_to_download"], 0);
  EXPECT_EQ(stats2["duration"], 1.5);
  EXPECT_EQ(stats2["status_dict"], (nlohmann::json{{"success", 4}}));
  const nlohmann::json stats1 = nlohmann::json::parse(ReadFile(out + "/release/00001_stats.json"));
  EXPECT_EQ(stats1["count"], 5);
  EXPECT_EQ(stats1["successes"], 3);
  EXPECT_EQ(stats1["failed_to_download"], 2);
  EXPECT_EQ(stats1["status_dict"],
            (nlohmann::json{{"success", 3}, {"HTTP Error 404: Not Found", 1}, {"timed out", 1}}));
  // The refused shard is not in the filtered release.
  for (const char* name : {"00003.tar", "00003.parquet", "00003_stats.json"}) {
    EXPECT_FALSE(fs::exists(out + "/release/" + name)) << name;
  }

  // verify-receipt --from-output reads the filtered shards as the run read
  // the originals (tar, then parquet), images hashed again, and puts back
  // what left each file by its number, including the sample that left the
  // tar only after the parquet pass (listed with the items it brought).
  for (const auto& line : report["unchecked"]) {
    if (line["input"] == "release/00001.tar") EXPECT_TRUE(line.contains("items")) << line;
  }
  auto verified = Optout({"verify-receipt", out, "--from-output"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("receipt verified"));
  // From the inputs too (a key that left tar and parquet for one match is
  // one removed row against the signed matches).
  auto from_inputs = Optout({"verify-receipt", out});
  EXPECT_EQ(from_inputs.exit_code, 0) << from_inputs.err;
  auto fails = [&](const std::string& what) {
    auto v = Optout({"verify-receipt", out, "--from-output"});
    EXPECT_EQ(v.exit_code, 1) << what;
    EXPECT_THAT(v.err, HasSubstr("removed rows list or output altered")) << what << v.err;
  };
  // A kept sample removed from a filtered tar.
  const std::string tar0 = ReadFile(out + "/release/00000.tar");
  auto deleted = testing::RunCommand({"/usr/bin/env", "tar", "--delete", "-f",
                                      out + "/release/00000.tar", "000000000.jpg",
                                      "000000000.json", "000000000.txt"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  fails("sample removed from the tar");
  testing::WriteFile(out + "/release/00000.tar", tar0);
  // The parquet with its removed rows added back.
  const std::string parquet2 = ReadFile(out + "/release/00002.parquet");
  testing::WriteFile(out + "/release/00002.parquet", ReadFile(release + "/00002.parquet"));
  fails("rows added to the parquet");
  testing::WriteFile(out + "/release/00002.parquet", parquet2);
  // The sample the parquet pass dropped from the tar, hidden from the list.
  nlohmann::json hidden = report;
  for (size_t i = 0; i < hidden["unchecked"].size(); ++i) {
    if (hidden["unchecked"][i]["input"] == "release/00001.tar") hidden["unchecked"].erase(i);
  }
  testing::WriteFile(out + "/report.json", hidden.dump(2));
  fails("sample hidden");
  testing::WriteFile(out + "/report.json", report.dump(2));
  auto again = Optout({"verify-receipt", out, "--from-output"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

}  // namespace
}  // namespace optout
