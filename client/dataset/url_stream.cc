#include "client/dataset/url_stream.h"

#include <stdio.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/bulk_checker.h"
#include "client/common/base/status_macros.h"
#include "client/common/protocol/match_kind.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/url_digests.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

// Lines read by a helper thread, handed over in order. Shared with that
// thread, which may outlive the call when the check fails early (it blocks in
// a read nobody can interrupt), hence the shared_ptr.
class LineQueue {
 public:
  explicit LineQueue(size_t capacity) : capacity_(capacity) {}

  void Push(std::string line) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &LineQueue::HasRoomOrClosed));
    if (closed_) return;
    lines_.push_back(std::move(line));
  }
  void SetEof() {
    absl::MutexLock lock(&mu_);
    eof_ = true;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  // Takes up to `max` lines; when `wait`, blocks until there is one or EOF.
  // Returns false at EOF with nothing left.
  bool Take(size_t max, bool wait, std::vector<std::string>* out) {
    absl::MutexLock lock(&mu_);
    if (wait) mu_.Await(absl::Condition(this, &LineQueue::HasLinesOrEof));
    while (!lines_.empty() && out->size() < max) {
      out->push_back(std::move(lines_.front()));
      lines_.pop_front();
    }
    return !(out->empty() && eof_ && lines_.empty());
  }

 private:
  bool HasRoomOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || lines_.size() < capacity_;
  }
  bool HasLinesOrEof() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return eof_ || !lines_.empty();
  }

  const size_t capacity_;
  absl::Mutex mu_;
  std::deque<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Lines longer than this are cut (they are far beyond the URL length limit,
// so they are reported as TOO_LONG either way): memory stays bounded even
// for input without line breaks.
constexpr size_t kMaxLineBytes = 2 * url::kMaxUrlLength;

void ReadLines(std::FILE* in, std::shared_ptr<LineQueue> queue) {
  std::string line;
  bool any = false;
  int c;
  while ((c = getc_unlocked(in)) != EOF) {
    any = true;
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      queue->Push(std::move(line));
      line.clear();
      any = false;
    } else if (line.size() < kMaxLineBytes) {
      line.push_back(static_cast<char>(c));
    }
  }
  if (any) queue->Push(std::move(line));
  queue->SetEof();
}

struct Batch {
  std::vector<Record> records;
  ChunkPlan plan;
};

void WriteBatch(const Batch& batch, const std::vector<Verdict>& verdicts, std::FILE* out,
                UrlStreamStats* stats) {
  using Json = nlohmann::ordered_json;
  std::string text;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const Record& r = batch.records[i];
    Json line;
    line["url"] = r.url;
    if (r.url_count == 0) {
      // Not checked: null, never false (a reader of "matched" must not take
      // it for clear).
      line["matched"] = nullptr;
      line["match"] = nullptr;
      line["ids"] = Json::array();
      line["error"] = r.unchecked;
      ++stats->unchecked;
    } else {
      line["matched"] = verdicts[i].kind != v1::MATCH_KIND_NONE;
      line["match"] = protocol::MatchKindName(verdicts[i].kind);
      line["ids"] = verdicts[i].ids;
    }
    ++stats->answered;
    text += line.dump(-1, ' ', false, Json::error_handler_t::replace);
    text += '\n';
  }
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

}  // namespace

absl::Status CheckUrlStream(std::FILE* in, std::FILE* out, client::RegistryClient& client,
                            const url::PublicSuffixList& psl, const UrlStreamOptions& options,
                            UrlStreamStats* stats) {
  OPTOUT_ASSIGN_OR_RETURN(v1::GetInfoResponse info, client.GetInfo());
  OPTOUT_RETURN_IF_ERROR(CheckPslMatchesServer(psl, info));
  size_t max_batch = static_cast<size_t>(std::max(1, options.max_batch));
  if (info.max_batch_items() > 0) {
    max_batch = std::min(max_batch, static_cast<size_t>(info.max_batch_items()));
  }

  auto queue = std::make_shared<LineQueue>(2 * max_batch);
  std::thread reader(ReadLines, in, queue);
  client::BulkOptions bulk_options;
  bulk_options.max_in_flight = options.max_in_flight;
  bulk_options.retry_for = options.retry_for;
  bulk_options.on_retry = options.on_retry;
  client::BulkChecker bulk(client, bulk_options);
  std::deque<std::unique_ptr<Batch>> sent;
  UrlDigester digester(psl);
  absl::Status status;
  bool more = true;
  while (status.ok() && (more || !sent.empty())) {
    std::vector<std::string> lines;
    if (more && bulk.in_flight() < bulk.max_in_flight()) {
      // Block for input only when nothing is waiting for an answer.
      more = queue->Take(max_batch, /*wait=*/sent.empty(), &lines);
    }
    if (!lines.empty()) {
      auto batch = std::make_unique<Batch>();
      batch->records.resize(lines.size());
      for (size_t i = 0; i < lines.size(); ++i) {
        Record& r = batch->records[i];
        r.url = std::move(lines[i]);
        r.has_url = true;
        PrepareRecord(digester, protocol::PdqQualityFloors{}, &r);
      }
      BuildRequest(batch->records, &batch->plan);
      status = bulk.Send(std::move(batch->plan.request));
      batch->plan.request.Clear();
      sent.push_back(std::move(batch));
      continue;
    }
    if (sent.empty()) continue;
    auto response = bulk.Next();
    if (!response.ok()) {
      status = response.status();
      break;
    }
    std::vector<Verdict> verdicts(sent.front()->records.size());
    status = ApplyResponse(sent.front()->plan, *response, &verdicts);
    if (status.ok()) WriteBatch(*sent.front(), verdicts, out, stats);
    sent.pop_front();
  }
  if (status.ok()) status = bulk.Finish();
  queue->Close();
  if (status.ok()) {
    reader.join();
  } else {
    reader.detach();  // may be blocked reading input that never comes
  }
  return status;
}

}  // namespace optout::dataset
