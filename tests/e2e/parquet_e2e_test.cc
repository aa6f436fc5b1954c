// Issue 14 against a real optoutd: check-dataset on Parquet written by an
// independent implementation (hyparquet-writer, from tests/interop), the
// filtered output read back by another (hyparquet) and compared with the
// input minus exactly the registered rows; nested columns copied, a nested
// URL column refused, corrupt files refused naming file and byte; gzip /
// zstd compressed tables in and out.
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/common/digest/digest.h"
#include "client/parquet/parquet_file.h"
#include "client/parquet/parquet_writer.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_files.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
namespace fs = std::filesystem;

const std::string kInterop = testing::InteropDir();

// The URL and md5 of row r of write_laion.mjs.
std::string LaionUrl(uint64_t r) {
  return absl::StrCat("https://img", r % 97, ".example.com/laion/", r % 1000, "/", r, ".jpg");
}
std::string LaionMd5(uint64_t r) {
  const auto d = digest::Md5(absl::StrCat("image bytes of row ", r));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

class ParquetE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(absl::StrCat(kInterop, "/node_modules/hyparquet")))
        << "the npm packages of tests/interop are missing: run deploy/install-deps.sh";
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    client_ = client::RegistryClient::Create(server_.address());
    dir_ = server_.root() + "/work";
    fs::create_directories(dir_);
  }
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::OptoutCliBinary(), "--server", server_.address()});
    return testing::RunCommand(args);
  }
  testing::CommandResult Node(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/env", "node"});
    return testing::RunCommand(args);
  }
  void Register(const std::vector<v1::RegisterRequest>& requests) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < requests.size(); i += 16) {
          auto r = client_->Register(requests[i]);
          ASSERT_TRUE(r.ok()) << r.status();
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  // Registers rows by URL (r % 400 == 17) or by md5 (r % 400 == 233) up to
  // `rows`; returns them.
  std::set<uint64_t> RegisterLaionRows(uint64_t rows) {
    std::vector<v1::RegisterRequest> requests;
    std::set<uint64_t> registered;
    for (uint64_t r = 1; r <= rows; ++r) {
      if (r % 400 != 17 && r % 400 != 233) continue;
      v1::RegisterRequest req;
      req.set_request_id(testing::RequestIdFor(absl::StrCat("laion-", r)));
      if (r % 400 == 17) {
        req.add_urls(LaionUrl(r));
      } else {
        req.add_md5(LaionMd5(r));
      }
      requests.push_back(std::move(req));
      registered.insert(r);
    }
    Register(requests);
    return registered;
  }
  // hyparquet's verdict on OUTPUT against INPUT without `removed`.
  nlohmann::json Compare(const std::string& input, const std::string& output,
                         const std::set<uint64_t>& removed) {
    const std::string list = output + ".removed.txt";
    {
      std::ofstream out(list);
      for (uint64_t r : removed) out << r << "\n";
    }
    auto run = Node({absl::StrCat(kInterop, "/compare.mjs"), input, output, list});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return nlohmann::json::parse(run.out, nullptr, false);
  }
  static nlohmann::json Report(const std::string& out) {
    return nlohmann::json::parse(ReadFile(out + "/report.json"));
  }
  static std::set<uint64_t> RemovedRows(const nlohmann::json& report) {
    std::set<uint64_t> rows;
    for (const auto& r : report["removed"]) rows.insert(r["row"].get<uint64_t>());
    return rows;
  }

  testing::OptoutdProcess server_;
  std::unique_ptr<client::RegistryClient> client_;
  std::string dir_;
};

TEST_F(ParquetE2eTest, LaionReleaseLosesExactlyTheRegisteredRows) {
  constexpr uint64_t kRows = 200000;
  const std::string input = dir_ + "/part-00000.snappy.parquet";
  auto made = Node({absl::StrCat(kInterop, "/write_laion.mjs"), input, std::to_string(kRows), "SNAPPY",
                    "30000"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::set<uint64_t> registered = RegisterLaionRows(kRows);
  ASSERT_EQ(registered.size(), 1000u);

  const std::string out = dir_ + "/out";
  const absl::Time start = absl::Now();
  auto run = Optout({"check-dataset", input, "--out", out, "--quiet"});
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cerr << "check-dataset of " << kRows << " Parquet rows: " << seconds << " s ("
            << kRows / seconds << " rows/s)\n";
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json report = Report(out);
  EXPECT_EQ(report["totals"]["rows"], kRows);
  EXPECT_EQ(report["totals"]["removed"], 1000);
  EXPECT_EQ(report["removed_by_match"]["url"], 500);
  EXPECT_EQ(report["removed_by_match"]["md5"], 500);
  EXPECT_EQ(report["inputs"][0]["format"], "parquet");
  EXPECT_EQ(RemovedRows(report), registered);
  const nlohmann::json verdict = Compare(input, out + "/part-00000.snappy.parquet", registered);
  EXPECT_EQ(verdict["ok"], true) << verdict.dump();
  EXPECT_EQ(verdict["rows"], kRows - 1000);
  EXPECT_EQ(verdict["codecs"][0], "SNAPPY");
  // The signed receipt holds from the filtered Parquet file and the removed
  // rows too (verify-receipt --from-output).
  auto verified = Optout({"verify-receipt", out, "--from-output"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

TEST_F(ParquetE2eTest, NestedColumnsAreCopiedAndANestedUrlColumnIsRefused) {
  const std::string input = dir_ + "/nested.gz.parquet";
  auto made = Node({absl::StrCat(kInterop, "/write_laion.mjs"), input, "3000", "GZIP", "1000", "--nested"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::set<uint64_t> registered = RegisterLaionRows(3000);
  auto run = Optout({"check-dataset", input, "--out", dir_ + "/out", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(RemovedRows(Report(dir_ + "/out")), registered);
  const nlohmann::json verdict = Compare(input, dir_ + "/out/nested.gz.parquet", registered);
  EXPECT_EQ(verdict["ok"], true) << verdict.dump();
  EXPECT_EQ(verdict["codecs"][0], "GZIP");

  auto nested = Optout({"check-dataset", input, "--out", dir_ + "/out2", "--quiet", "--url-column",
                        "tags.list.element"});
  EXPECT_EQ(nested.exit_code, 2) << nested.err;
  EXPECT_THAT(nested.err, HasSubstr("column tags.list.element is nested or repeated"));
  EXPECT_FALSE(fs::exists(dir_ + "/out2/nested.gz.parquet"));
}

TEST_F(ParquetE2eTest, OurZstdPagesV2AreReadBackByHyparquet) {
  // Written by our writer (ZSTD, data pages v2, dictionaries), so that
  // hyparquet checks both that file and the filtered copy.
  using parquet::PhysicalType;
  const parquet::FileMetadata schema = parquet::MakeFlatSchema(
      {{"id", PhysicalType::kInt64, false}, {"url", PhysicalType::kByteArray, true, true},
       {"md5", PhysicalType::kFixedLenByteArray, true, false, 16}, {"w", PhysicalType::kInt32, true}});
  const std::string input = dir_ + "/ours.parquet";
  {
    auto writer = parquet::ParquetWriter::Create(input, schema);
    ASSERT_TRUE(writer.ok());
    std::vector<parquet::ColumnWriteOptions> options(4);
    for (auto& o : options) {
      o.codec = static_cast<int>(parquet::Codec::kZstd);
      o.page_v2 = true;
      o.page_bytes = 8192;
    }
    for (uint64_t first = 1; first <= 4000; first += 2000) {
      std::vector<parquet::ColumnData> columns(4);
      for (int c = 0; c < 4; ++c) {
        columns[c].type = schema.columns[c].type;
        columns[c].width = parquet::ValueWidth(schema.columns[c].type, schema.columns[c].type_length);
      }
      for (uint64_t r = first; r < first + 2000; ++r) {
        const int64_t id = static_cast<int64_t>(r);
        const int32_t w = static_cast<int32_t>(r % 500);
        columns[0].AppendValue(absl::string_view(reinterpret_cast<const char*>(&id), 8));
        columns[1].AppendValue(LaionUrl(r));
        columns[1].def.push_back(1);
        const bool has_md5 = r % 9 != 0;
        columns[2].def.push_back(has_md5);
        if (has_md5) columns[2].AppendValue(LaionMd5(r));
        columns[3].def.push_back(r % 4 != 0);
        if (r % 4 != 0) columns[3].AppendValue(absl::string_view(reinterpret_cast<const char*>(&w), 4));
        for (auto& col : columns) ++col.num_levels;
      }
      ASSERT_TRUE((*writer)->WriteRowGroup(columns, options).ok());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  std::set<uint64_t> registered = RegisterLaionRows(4000);
  // md5 is raw bytes here: rows whose md5 is null are only found by URL.
  for (auto it = registered.begin(); it != registered.end();) {
    it = (*it % 400 == 233 && *it % 9 == 0) ? registered.erase(it) : std::next(it);
  }
  auto run = Optout({"check-dataset", input, "--out", dir_ + "/out", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(RemovedRows(Report(dir_ + "/out")), registered);
  const nlohmann::json verdict = Compare(input, dir_ + "/out/ours.parquet", registered);
  EXPECT_EQ(verdict["ok"], true) << verdict.dump();
  EXPECT_EQ(verdict["codecs"][0], "ZSTD");
}

TEST_F(ParquetE2eTest, CorruptParquetIsRefusedNamingFileAndByte) {
  const std::string good = dir_ + "/good.parquet";
  auto made = Node({absl::StrCat(kInterop, "/write_laion.mjs"), good, "2000", "SNAPPY", "500"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string bytes = ReadFile(good);
  struct Case {
    std::string name, bytes, reason;
  };
  std::string scrambled = bytes;
  for (size_t i = 200; i < 400; ++i) scrambled[i] = static_cast<char>(i * 7);
  const std::vector<Case> cases = {
      {"cut.parquet", bytes.substr(0, bytes.size() / 2), "truncated or not finished"},
      {"footer.parquet", bytes.substr(0, 4) + bytes.substr(bytes.size() - 9), "footer"},
      {"pages.parquet", scrambled, "at byte"},
  };
  std::vector<std::string> args = {"check-dataset"};
  for (const Case& c : cases) {
    testing::WriteFile(dir_ + "/" + c.name, c.bytes);
    args.push_back(dir_ + "/" + c.name);
  }
  args.insert(args.end(), {"--out", dir_ + "/out", "--quiet"});
  auto run = Optout(args);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  const nlohmann::json report = Report(dir_ + "/out");
  ASSERT_EQ(report["refused"].size(), cases.size()) << report.dump(1);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string reason = report["refused"][i]["reason"];
    EXPECT_THAT(reason, HasSubstr(cases[i].reason)) << cases[i].name;
    EXPECT_FALSE(fs::exists(dir_ + "/out/" + cases[i].name)) << cases[i].name;
  }
}

std::string Gzip(const std::string& text) {
  std::string out(compressBound(text.size()) + 64, '\0');
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Gunzip(const std::string& bytes) {
  std::string out;
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  char buffer[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "<corrupt gzip>";
}

std::string Zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

std::string Unzstd(const std::string& bytes) {
  const unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return "<corrupt zstd>";
  // Streamed frames do not record their size: decompress in steps.
  std::string out;
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  char buffer[65536];
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buffer, sizeof(buffer), 0};
    if (ZSTD_isError(ZSTD_decompressStream(d, &o, &in))) break;
    out.append(buffer, o.pos);
  }
  ZSTD_freeDStream(d);
  return out;
}

TEST_F(ParquetE2eTest, CompressedTablesInAndOut) {
  const std::set<uint64_t> registered = RegisterLaionRows(2000);
  std::string csv = "key,url,md5\n", jsonl, want_csv = csv, want_jsonl;
  for (uint64_t r = 1; r <= 2000; ++r) {
    const std::string row = absl::StrCat(r, ",", LaionUrl(r), ",", digest::ToHex(LaionMd5(r)), "\n");
    const std::string line = absl::StrCat("{\"url\":\"", LaionUrl(r), "\",\"n\":", r, "}\n");
    csv += row;
    jsonl += line;
    if (!registered.count(r)) want_csv += row;
    // JSONL has no md5: only the URL-registered rows go.
    if (r % 400 != 17) want_jsonl += line;
  }
  testing::WriteFile(dir_ + "/m.csv.gz", Gzip(csv.substr(0, 5000)) + Gzip(csv.substr(5000)));  // two members
  testing::WriteFile(dir_ + "/m.jsonl.zst", Zstd(jsonl));
  testing::WriteFile(dir_ + "/broken.csv.gz", Gzip(csv).substr(0, 300));
  testing::WriteFile(dir_ + "/m.csv.zst", Gzip(csv));  // the name says zstd, the bytes gzip
  auto run = Optout({"check-dataset", dir_ + "/m.csv.gz", dir_ + "/m.jsonl.zst", dir_ + "/broken.csv.gz",
                     dir_ + "/m.csv.zst", "--out", dir_ + "/out", "--quiet"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(Gunzip(ReadFile(dir_ + "/out/m.csv.gz")), want_csv);
  EXPECT_EQ(Unzstd(ReadFile(dir_ + "/out/m.jsonl.zst")), want_jsonl);
  const nlohmann::json report = Report(dir_ + "/out");
  EXPECT_EQ(report["totals"]["removed"], 5 + 5 + 5);
  ASSERT_EQ(report["refused"].size(), 2u) << report.dump(1);
  EXPECT_THAT(report["refused"][0]["reason"].get<std::string>(), HasSubstr("gzip stream ends in the middle"));
  EXPECT_THAT(report["refused"][1]["reason"].get<std::string>(),
              HasSubstr("gzip-compressed file: not supported unless named"));
  EXPECT_FALSE(fs::exists(dir_ + "/out/broken.csv.gz"));
}

// --shard I/N on three machines, then merge-reports: the same report as one
// run (totals, kinds, per-input counts, removed and unchecked rows,
// refusals), and the shards' Parquet outputs hold every kept row once.
TEST_F(ParquetE2eTest, ShardsMergedEqualOneRun) {
  const std::string parquet = dir_ + "/laion.parquet";
  auto made = Node({absl::StrCat(kInterop, "/write_laion.mjs"), parquet, "20000", "SNAPPY", "1500"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string csv = "url,md5\n";
  for (uint64_t r = 1; r <= 3000; ++r) absl::StrAppend(&csv, LaionUrl(r), ",", r == 7 ? "zz" : "", "\n");
  testing::WriteFile(dir_ + "/extra.csv", csv);
  testing::WriteFile(dir_ + "/list.jsonl.gz", Gzip("{\"url\": \"" + LaionUrl(17) + "\"}\n"));
  testing::WriteFile(dir_ + "/bad.parquet", "PAR1 but nothing else is right here");
  RegisterLaionRows(20000);
  const std::vector<std::string> inputs = {parquet, dir_ + "/extra.csv", dir_ + "/list.jsonl.gz",
                                           dir_ + "/bad.parquet"};
  auto check = [&](const std::string& out, const std::string& shard) {
    std::vector<std::string> args = {"check-dataset"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    args.insert(args.end(), {"--out", out, "--quiet"});
    if (!shard.empty()) args.insert(args.end(), {"--shard", shard});
    return Optout(args);
  };
  auto single = check(dir_ + "/single", "");
  EXPECT_EQ(single.exit_code, 2) << single.err;  // bad.parquet refused, row 7 unchecked
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i) {
    dirs.push_back(absl::StrCat(dir_, "/shard", i));
    auto run = check(dirs.back(), absl::StrCat(i, "/3"));
    EXPECT_TRUE(run.exit_code == 0 || run.exit_code == 2) << run.err;
  }
  auto merged = Optout({"merge-reports", dir_ + "/merged.json", dirs[2], dirs[0], dirs[1]});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_THAT(merged.out, HasSubstr("3 shards"));
  const nlohmann::json one = Report(dir_ + "/single");
  const nlohmann::json all = nlohmann::json::parse(ReadFile(dir_ + "/merged.json"));
  EXPECT_EQ(all["totals"], one["totals"]);
  EXPECT_EQ(all["removed_by_match"], one["removed_by_match"]);
  EXPECT_EQ(all["refused"], one["refused"]);
  EXPECT_GT(one["totals"]["removed"].get<int>(), 100);
  auto rows = [](const nlohmann::json& list) {
    std::multiset<std::string> out;
    for (const auto& r : list) out.insert(r.dump());
    return out;
  };
  EXPECT_EQ(rows(all["removed"]), rows(one["removed"]));
  EXPECT_EQ(rows(all["unchecked"]), rows(one["unchecked"]));
  std::map<std::string, nlohmann::json> per_input;
  for (const auto& input : all["inputs"]) per_input[input["input"]] = input;
  for (const auto& input : one["inputs"]) {
    const nlohmann::json& m = per_input[input["input"].get<std::string>()];
    for (const char* field : {"rows", "kept", "removed", "unchecked", "removed_by_match"}) {
      EXPECT_EQ(m[field], input[field]) << input["input"] << " " << field;
    }
  }
  // The Parquet file was split by row group (14 of them) over the 3 shards.
  EXPECT_EQ(per_input[parquet]["outputs"].size(), 3u);
  uint64_t kept_rows = 0;
  for (const std::string& d : dirs) {
    auto file = parquet::ParquetFile::Open(d + "/laion.parquet");
    ASSERT_TRUE(file.ok()) << file.status();
    kept_rows += (*file)->metadata().num_rows;
  }
  EXPECT_EQ(kept_rows, per_input[parquet]["kept"].get<uint64_t>());
  EXPECT_EQ(kept_rows + per_input[parquet]["removed"].get<uint64_t>(), 20000u);

  // --from-output reads each shard's part of the split Parquet file, its
  // rows numbered as in the whole file by the report's row_ranges.
  for (const std::string& d : dirs) {
    const nlohmann::json shard = Report(d);
    for (const auto& input : shard["inputs"]) {
      if (input["input"] == parquet) EXPECT_FALSE(input["row_ranges"].empty()) << d;
    }
  }
  auto from_output = Optout({"verify-receipt", dir_ + "/merged.json", "--from-output"});
  EXPECT_EQ(from_output.exit_code, 0) << from_output.err;
  EXPECT_THAT(from_output.out, HasSubstr("signed all 3 shards"));
  // Shard 1's part replaced by shard 0's, or shard 2's rows numbered
  // from another row: caught, naming the shard.
  const std::string part1 = ReadFile(dirs[1] + "/laion.parquet");
  testing::WriteFile(dirs[1] + "/laion.parquet", ReadFile(dirs[0] + "/laion.parquet"));
  auto swapped = Optout({"verify-receipt", dir_ + "/merged.json", "--from-output"});
  EXPECT_EQ(swapped.exit_code, 1);
  EXPECT_THAT(swapped.err, HasSubstr("shard 1/3: "));
  EXPECT_THAT(swapped.err, HasSubstr("altered"));
  testing::WriteFile(dirs[1] + "/laion.parquet", part1);
  const nlohmann::json report2 = Report(dirs[2]);
  nlohmann::json shifted = report2;
  for (auto& input : shifted["inputs"]) {
    if (input["input"] == parquet) {
      input["row_ranges"][0][0] = input["row_ranges"][0][0].get<uint64_t>() + 1;
    }
  }
  testing::WriteFile(dirs[2] + "/report.json", shifted.dump(2));
  auto moved = Optout({"verify-receipt", dir_ + "/merged.json", "--from-output"});
  EXPECT_EQ(moved.exit_code, 1);
  EXPECT_THAT(moved.err, HasSubstr("shard 2/3: "));
  EXPECT_THAT(moved.err, HasSubstr("altered"));
  testing::WriteFile(dirs[2] + "/report.json", report2.dump(2));

  // A missing or doubled shard is refused, naming it.
  auto missing = Optout({"merge-reports", dir_ + "/m2.json", dirs[0], dirs[1]});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("shard 2/3 is missing"));
  auto twice = Optout({"merge-reports", dir_ + "/m3.json", dirs[0], dirs[1], dirs[1], dirs[2]});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_THAT(twice.err, HasSubstr("given twice"));
}

}  // namespace
}  // namespace optout
