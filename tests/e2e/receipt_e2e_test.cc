// Signed check receipts (issue 14) against a real optoutd: a check session
// over CheckStream and Check, the receipt verified with the key GetInfo
// publishes, its digest equal to the client's own over what it sent, parts
// combined whatever their order, sessions bound to their owner; then
// check-dataset's report.json and `optout verify-receipt`, and each
// tampering case refused with its reason.
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/bulk_checker.h"
#include "client/common/digest/digest.h"
#include "client/common/receipt/check_receipt.h"
#include "client/common/receipt/items_digest.h"
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
namespace fs = std::filesystem;

using ::optout::testing::Md5Batch;
using ::optout::testing::Md5Of;

class ReceiptE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog();
    client_ = client::RegistryClient::Create(server_.address());
    v1::RegisterRequest reg;
    reg.set_request_id(testing::RequestIdFor("receipt-row-7"));
    reg.add_md5(Md5Of(7));
    ASSERT_TRUE(client_->Register(reg).ok());
    auto info = client_->GetInfo();
    ASSERT_TRUE(info.ok()) << info.status();
    info_ = *info;
  }

  testing::OptoutdProcess server_;
  std::unique_ptr<client::RegistryClient> client_;
  v1::GetInfoResponse info_;
};

TEST_F(ReceiptE2eTest, GetInfoPublishesTheReceiptKey) {
  EXPECT_EQ(info_.receipt_public_key().size(), 32u);
  EXPECT_EQ(info_.receipt_key_fingerprint(),
            receipt::KeyFingerprint(info_.receipt_public_key()));
}

TEST_F(ReceiptE2eTest, StreamedSessionGetsASignedReceiptOverWhatItSent) {
  auto opened = client_->OpenCheckSession();
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->receipt_key_fingerprint(), info_.receipt_key_fingerprint());
  client::BulkOptions options;
  options.session_id = opened->session_id();
  receipt::ItemsDigest mine;
  {
    client::BulkChecker bulk(*client_, options);
    int answered = 0;
    for (uint64_t first = 0; first < 5000; first += 500) {
      v1::CheckRequest batch = Md5Batch(first, 500);
      mine.Add(batch);
      if (bulk.in_flight() == bulk.max_in_flight()) {
        ASSERT_TRUE(bulk.Next().ok());
        ++answered;
      }
      ASSERT_TRUE(bulk.Send(std::move(batch)).ok());
    }
    while (bulk.in_flight() > 0) ASSERT_TRUE(bulk.Next().ok());
    ASSERT_TRUE(bulk.Finish().ok());
  }
  // A unary call in the same session counts too.
  {
    grpc::ClientContext context;
    client_->AddCredentials(&context);
    client::TagCheckSession(&context, opened->session_id());
    v1::CheckRequest one = Md5Batch(7, 1);
    mine.Add(one);
    v1::CheckResponse response;
    ASSERT_TRUE(client_->check_stub().Check(&context, one, &response).ok());
  }
  auto r = client_->CloseCheckSession(opened->session_id());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(receipt::VerifyReceipt(*r, info_.receipt_public_key()).ok());
  EXPECT_EQ(r->md5_items(), 5001u);
  EXPECT_EQ(r->url_items(), 0u);
  EXPECT_EQ(r->matched_items(), 2u);
  EXPECT_EQ(r->md5_matches(), 2u);
  EXPECT_GE(r->max_version(), r->min_version());
  EXPECT_GE(r->max_version(), 1u);
  const receipt::Digest32 expected = receipt::CombineParts({{0, mine.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(expected.begin(), expected.end()));
  EXPECT_GE(r->ended_unix_micros(), r->started_unix_micros());
  // Closed sessions are gone.
  EXPECT_EQ(client_->CloseCheckSession(opened->session_id()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ReceiptE2eTest, ParallelPartsCombineInPartOrder) {
  auto opened = client_->OpenCheckSession();
  ASSERT_TRUE(opened.ok()) << opened.status();
  receipt::ItemsDigest part0, part1;
  // Part 1 is sent and finished before part 0.
  for (uint32_t part : {1u, 0u}) {
    client::BulkOptions options;
    options.session_id = opened->session_id();
    options.session_part = part;
    client::BulkChecker bulk(*client_, options);
    v1::CheckRequest batch = Md5Batch(part * 1000, 100);
    (part == 0 ? part0 : part1).Add(batch);
    ASSERT_TRUE(bulk.Send(std::move(batch)).ok());
    ASSERT_TRUE(bulk.Next().ok());
    ASSERT_TRUE(bulk.Finish().ok());
  }
  auto r = client_->CloseCheckSession(opened->session_id());
  ASSERT_TRUE(r.ok()) << r.status();
  const receipt::Digest32 expected =
      receipt::CombineParts({{0, part0.Finish()}, {1, part1.Finish()}});
  EXPECT_EQ(r->items_digest(), std::string(expected.begin(), expected.end()));
  EXPECT_EQ(r->md5_items(), 200u);
}

TEST_F(ReceiptE2eTest, UnknownOrForeignSessionFailsTheCheck) {
  auto opened = client_->OpenCheckSession();
  ASSERT_TRUE(opened.ok()) << opened.status();
  // Another caller: an API key is another owner than this anonymous address.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer not-a-key");
  client::TagCheckSession(&context, opened->session_id());
  v1::CheckResponse response;
  grpc::Status s = client_->check_stub().Check(&context, Md5Batch(1, 1), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();

  client::BulkOptions options;
  options.session_id = "00000000000000000000000000000000";
  client::BulkChecker bulk(*client_, options);
  ASSERT_TRUE(bulk.Send(Md5Batch(1, 10)).ok());
  auto answer = bulk.Next();
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(answer.status().message()), HasSubstr("check session"));
}

// check-dataset and verify-receipt, through the optout command.
class ReceiptCliTest : public ReceiptE2eTest {
 protected:
  void SetUp() override {
    ReceiptE2eTest::SetUp();
    dir_ = server_.root() + "/work";
    fs::create_directories(dir_);
    // 3,000 rows; rows 7 (md5, registered above), 100 and 2000 (URL) match.
    std::string csv = "url,md5,caption\n";
    for (uint64_t r = 0; r < 3000; ++r) {
      absl::StrAppend(&csv, "https://img", r % 5, ".example.com/p/", r, ".jpg,",
                      digest::ToHex(Md5Of(r)), ",row ", r, "\n");
    }
    manifest_ = dir_ + "/release.csv";
    testing::WriteFile(manifest_, csv);
    for (uint64_t r : {100, 2000}) {
      v1::RegisterRequest reg;
      reg.set_request_id(testing::RequestIdFor(absl::StrCat("receipt-url-", r)));
      reg.add_urls(absl::StrCat("https://img", r % 5, ".example.com/p/", r, ".jpg"));
      ASSERT_TRUE(client_->Register(reg).ok());
    }
    out_ = dir_ + "/out";
    auto run = Optout({"check-dataset", manifest_, "--out", out_, "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err, "");
    report_ = nlohmann::json::parse(testing::ReadFile(out_ + "/report.json"));
  }
  testing::CommandResult Optout(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::OptoutCliBinary(), "--server", server_.address()});
    return testing::RunCommand(args);
  }
  // verify-receipt of `report` (written to a file of its own).
  testing::CommandResult VerifyReport(const nlohmann::json& report,
                                      std::vector<std::string> extra = {}) {
    const std::string path = dir_ + "/report-" + std::to_string(++reports_) + ".json";
    testing::WriteFile(path, report.dump(2));
    std::vector<std::string> args = {"verify-receipt", path};
    args.insert(args.end(), extra.begin(), extra.end());
    return Optout(args);
  }
  std::string KeyFile(const std::string& raw) {
    const std::string path = dir_ + "/key-" + std::to_string(++reports_) + ".hex";
    testing::WriteFile(path, digest::ToHex(raw) + "\n");
    return path;
  }

  std::string dir_, manifest_, out_;
  nlohmann::json report_;
  int reports_ = 0;
};

TEST_F(ReceiptCliTest, ReportHoldsAReceiptThatVerifies) {
  const nlohmann::json& r = report_["receipt"];
  EXPECT_EQ(r["registry_key_fingerprint"], info_.receipt_key_fingerprint());
  EXPECT_EQ(r["items"]["url"], 3000);
  EXPECT_EQ(r["items"]["md5"], 3000);
  EXPECT_EQ(r["matched"]["total"], 3);
  EXPECT_EQ(report_["client_items_digest"], r["items_digest"]);
  EXPECT_EQ(report_["totals"]["removed"], 3);

  auto online = Optout({"verify-receipt", out_ + "/report.json"});
  EXPECT_EQ(online.exit_code, 0) << online.err;
  EXPECT_THAT(online.out, HasSubstr("receipt verified"));
  // Offline, with the key GetInfo published, in a file.
  auto offline = Optout({"verify-receipt", out_, "--registry-key",
                         KeyFile(info_.receipt_public_key())});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
}

TEST_F(ReceiptCliTest, TamperedReceiptFails) {
  for (const char* field : {"matched", "items_digest", "session_id", "max_version"}) {
    nlohmann::json report = report_;
    nlohmann::json& r = report["receipt"];
    if (std::string(field) == "matched") r["matched"]["total"] = 0;
    if (std::string(field) == "items_digest") {
      r["items_digest"] = std::string(64, 'a');
      report["client_items_digest"] = std::string(64, 'a');
    }
    if (std::string(field) == "session_id") r["session_id"] = std::string(32, '0');
    if (std::string(field) == "max_version") r["max_version"] = r["max_version"].get<uint64_t>() + 1;
    auto v = VerifyReport(report);
    EXPECT_EQ(v.exit_code, 1) << field;
    EXPECT_THAT(v.err, HasSubstr("bad signature")) << field;
  }
}

TEST_F(ReceiptCliTest, TamperedReportFails) {
  nlohmann::json other_digest = report_;
  other_digest["client_items_digest"] = std::string(64, 'b');
  auto v1 = VerifyReport(other_digest);
  EXPECT_EQ(v1.exit_code, 1);
  EXPECT_THAT(v1.err, HasSubstr("client_items_digest"));

  // Hiding the removed rows.
  nlohmann::json hidden = report_;
  hidden["inputs"][0]["removed"] = 0;
  auto v2 = VerifyReport(hidden);
  EXPECT_EQ(v2.exit_code, 1);
  EXPECT_THAT(v2.err, HasSubstr("report altered"));

  nlohmann::json counts = report_;
  counts["client_items"]["md5"] = 2999;
  auto v3 = VerifyReport(counts);
  EXPECT_EQ(v3.exit_code, 1);
  EXPECT_THAT(v3.err, HasSubstr("client_items"));
}

TEST_F(ReceiptCliTest, WrongKeyFails) {
  auto other = receipt::ReceiptSigner::FromSeed(std::string(32, 'x'));
  ASSERT_TRUE(other.ok());
  auto v = Optout({"verify-receipt", out_, "--registry-key", KeyFile((*other)->public_key())});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.err, HasSubstr("wrong key"));
  EXPECT_THAT(v.err, HasSubstr((*other)->fingerprint()));
}

TEST_F(ReceiptCliTest, ReceiptForOtherInputsFails) {
  // One row changed after the check.
  std::string csv = testing::ReadFile(manifest_);
  const size_t at = csv.find("/p/1500.jpg");
  ASSERT_NE(at, std::string::npos);
  const std::string changed = dir_ + "/changed.csv";
  testing::WriteFile(changed, csv.replace(at, 11, "/p/9999.jpg"));
  auto v = Optout({"verify-receipt", out_, "--input", changed});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_THAT(v.err, HasSubstr("receipt is for other inputs"));

  // And the filtered output is not the input the registry saw either.
  auto filtered = Optout({"verify-receipt", out_, "--input", out_ + "/release.csv"});
  EXPECT_EQ(filtered.exit_code, 1);
  EXPECT_THAT(filtered.err, HasSubstr("receipt is for other inputs"));
}

// --shard I/N runs merged: the merged report carries every shard's receipt
// and verify-receipt checks each against its shard of the inputs, and that
// together they cover the release exactly.
TEST_F(ReceiptCliTest, MergedShardReceiptsVerifyAndTamperingFails) {
  std::vector<std::string> inputs = {manifest_};
  for (int f = 1; f <= 2; ++f) {
    std::string csv = "url,md5\n";
    for (uint64_t r = 0; r < 500; ++r) {
      absl::StrAppend(&csv, "https://shard", f, ".example.com/", r, ".jpg,",
                      digest::ToHex(Md5Of(r + 10'000 * f)), "\n");
    }
    inputs.push_back(absl::StrCat(dir_, "/part", f, ".csv"));
    testing::WriteFile(inputs.back(), csv);
  }
  std::vector<std::string> dirs;
  for (int i = 0; i < 2; ++i) {
    dirs.push_back(absl::StrCat(dir_, "/shard", i));
    std::vector<std::string> args = {"check-dataset"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    args.insert(args.end(), {"--out", dirs.back(), "--quiet", "--shard", absl::StrCat(i, "/2")});
    auto run = Optout(args);
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  const std::string merged_path = dir_ + "/merged.json";
  auto merged = Optout({"merge-reports", merged_path, dirs[1], dirs[0]});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_THAT(merged.out, HasSubstr("2 signed receipt(s) kept"));
  const nlohmann::json report = nlohmann::json::parse(testing::ReadFile(merged_path));
  ASSERT_EQ(report["receipts"].size(), 2u);
  EXPECT_EQ(report["receipts"][0]["shard"], "0/2");
  EXPECT_EQ(report["receipts"][1]["shard"], "1/2");
  EXPECT_EQ(report["receipts"][0]["removed"], 3);  // the manifest's 3 rows, in shard 0

  auto verified = Optout({"verify-receipt", merged_path});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("signed all 2 shards, once each (8000 items"));
  auto offline = VerifyReport(report, {"--registry-key", KeyFile(info_.receipt_public_key())});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  // From the outputs: each shard's, in the folders merge-reports read.
  auto from_output = Optout({"verify-receipt", merged_path, "--from-output"});
  EXPECT_EQ(from_output.exit_code, 0) << from_output.err;
  EXPECT_THAT(from_output.out, HasSubstr("signed all 2 shards"));

  auto fails = [&](const nlohmann::json& altered, const std::string& reason) {
    auto v = VerifyReport(altered);
    EXPECT_EQ(v.exit_code, 1) << reason;
    EXPECT_THAT(v.err, HasSubstr(reason));
  };
  nlohmann::json missing = report;
  missing["receipts"].erase(1);
  fails(missing, "shard 1/2 has no receipt");
  nlohmann::json doubled = report;
  doubled["receipts"].push_back(report["receipts"][0]);
  fails(doubled, "shard 0/2 has two receipts");
  // Shard 0's receipt passed off as shard 1's (and shard 0's dropped).
  nlohmann::json relabelled = report;
  relabelled["receipts"].erase(1);
  relabelled["receipts"][0]["shard"] = "1/2";
  relabelled["receipts"][0]["receipt_inputs"]["shard"] = "1/2";
  relabelled["receipts"].push_back(report["receipts"][1]);
  relabelled["receipts"][1]["shard"] = "0/2";
  relabelled["receipts"][1]["receipt_inputs"]["shard"] = "0/2";
  fails(relabelled, "the receipt is for other inputs");
  nlohmann::json resigned = report;
  resigned["receipts"][1]["receipt"]["matched"]["total"] = 5;
  fails(resigned, "shard 1/2: bad signature");
  nlohmann::json fewer = report;
  fewer["receipts"][0]["removed"] = 0;
  fails(fewer, "shard 0/2: report altered");
  nlohmann::json hidden = report;
  for (auto& input : hidden["inputs"]) {
    if (input["input"] == manifest_) input["removed"] = 2;
  }
  fails(hidden, "the merged report removes 2 row(s), its shards' receipts account for 3");
  nlohmann::json other_inputs = report;
  other_inputs["receipts"][1]["receipt_inputs"]["inputs"].erase(2);
  fails(other_inputs, "over other inputs or options");
  // Shards checked with another low-quality PDQ floor are not one release.
  EXPECT_EQ(report["low_quality_pdq_floor"], info_.low_quality_pdq_floor());
  nlohmann::json other_floor = report;
  other_floor["receipts"][1]["receipt_inputs"]["low_quality_pdq_floor"] =
      info_.low_quality_pdq_floor() + 5;
  fails(other_floor, "over other inputs or options");
  // A shard's output edited: --from-output on the merged report catches it.
  const std::string shard1_csv = dirs[1] + "/part1.csv";  // inputs dealt 0, 1, 0
  const std::string kept_csv = testing::ReadFile(shard1_csv);
  ASSERT_FALSE(kept_csv.empty());
  testing::WriteFile(shard1_csv, kept_csv.substr(0, kept_csv.rfind('\n', kept_csv.size() - 2) + 1));
  auto edited = Optout({"verify-receipt", merged_path, "--from-output"});
  EXPECT_EQ(edited.exit_code, 1);
  EXPECT_THAT(edited.err, HasSubstr("shard 1/2: "));
  EXPECT_THAT(edited.err, HasSubstr("removed rows list or output altered"));
  testing::WriteFile(shard1_csv, kept_csv);
  nlohmann::json shard1 = nlohmann::json::parse(testing::ReadFile(dirs[1] + "/report.json"));
  EXPECT_EQ(shard1["low_quality_pdq_floor"], info_.low_quality_pdq_floor());
  shard1["low_quality_pdq_floor"] = info_.low_quality_pdq_floor() + 5;
  testing::WriteFile(dirs[1] + "/report.json", shard1.dump(2));
  auto mixed = Optout({"merge-reports", dir_ + "/mixed.json", dirs[0], dirs[1]});
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_THAT(mixed.err, HasSubstr("was checked with another low_quality_pdq_floor"));
}

// verify-receipt --from-output: the filtered output with the removed rows
// (listed with their items) put back gives the signed digest; any edit to
// the removed rows list or the output is caught.
TEST_F(ReceiptCliTest, VerifiesFromTheFilteredOutputAndCatchesListEdits) {
  ASSERT_EQ(report_["removed"].size(), 3u);
  for (const auto& line : report_["removed"]) EXPECT_TRUE(line.contains("items")) << line;
  auto v = Optout({"verify-receipt", out_, "--from-output"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_THAT(v.out, HasSubstr("receipt verified"));
  auto offline = VerifyReport(report_, {"--from-output", "--registry-key",
                                        KeyFile(info_.receipt_public_key())});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;

  auto fails = [&](const nlohmann::json& altered, const std::string& reason) {
    auto r = VerifyReport(altered, {"--from-output"});
    EXPECT_EQ(r.exit_code, 1) << reason;
    EXPECT_THAT(r.err, HasSubstr(reason));
  };
  // A removed row moved to another row number.
  nlohmann::json moved = report_;
  moved["removed"][1]["row"] = moved["removed"][1]["row"].get<uint64_t>() + 1;
  fails(moved, "not what the registry checked");
  // Its items swapped for another row's.
  nlohmann::json swapped = report_;
  swapped["removed"][1]["items"] = report_["removed"][2]["items"];
  swapped["removed"][2]["items"] = report_["removed"][1]["items"];
  fails(swapped, "not what the registry checked");
  // Hidden from the list.
  nlohmann::json hidden = report_;
  hidden["removed"].erase(0);
  fails(hidden, "removed rows list or output altered");
  // Listed twice, or past the end.
  nlohmann::json twice = report_;
  twice["removed"].push_back(report_["removed"][0]);
  fails(twice, "is listed twice");
  nlohmann::json past = report_;
  past["removed"][2]["row"] = 5000;
  fails(past, "lies past its end");
  nlohmann::json garbled = report_;
  garbled["removed"][0]["items"] = "not base64!";
  fails(garbled, "items are not a check request");
  // The filtered output edited: one kept row dropped.
  std::string csv = testing::ReadFile(out_ + "/release.csv");
  const size_t row = csv.find("/p/1500.jpg");
  ASSERT_NE(row, std::string::npos);
  const size_t start = csv.rfind('\n', row) + 1;
  csv.erase(start, csv.find('\n', row) + 1 - start);
  const std::string edited = dir_ + "/edited";
  fs::create_directories(edited);
  testing::WriteFile(edited + "/release.csv", csv);
  nlohmann::json other_output = report_;
  other_output["inputs"][0]["output"] = edited + "/release.csv";
  fails(other_output, "removed rows list or output altered");
}

}  // namespace
}  // namespace optout
