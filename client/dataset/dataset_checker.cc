#include "client/dataset/dataset_checker.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/bulk_checker.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/progress.h"
#include "client/dataset/reader.h"
#include "client/common/base/thread_pool.h"
#include "client/dataset/url_digests.h"
#include "client/dataset/writer.h"

namespace optout::dataset {
namespace {

namespace fs = std::filesystem;

// Rows per chunk of a table: large batches amortize the per-call cost (the
// server's limit caps them). Samples: small chunks, since each image is a
// task of its own and a chunk holds the image bytes.
constexpr size_t kTableChunkRows = 4096;
constexpr size_t kSampleChunkRows = 16;
// Table rows digested per task.
constexpr size_t kRowsPerTask = 512;

struct Chunk {
  std::vector<Record> records;
  std::atomic<int> pending_tasks{0};
  absl::Notification prepared;
  ChunkPlan plan;
  int64_t bytes_after = 0;  // input bytes consumed once this chunk is done
};

struct InputSpec {
  std::string path, name, output;
  Format format;
  std::string fingerprint;
  int64_t bytes = 0;
};

int64_t FolderBytes(const std::string& path) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  }
  return total;
}

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::StatusOr<std::vector<InputSpec>> ResolveInputs(const DatasetOptions& options) {
  std::vector<InputSpec> specs;
  std::set<std::string> names;
  for (const std::string& path : options.inputs) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("no such input: ", path));
    InputSpec spec;
    spec.path = path;
    spec.name = BaseName(path);
    if (spec.name.empty() || spec.name == "." || spec.name == ".." || spec.name == "report.json" ||
        spec.name == ".optout-state") {
      return absl::InvalidArgumentError(absl::StrCat("cannot name the output of input ", path));
    }
    if (!names.insert(spec.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "two inputs are named ", spec.name, "; their filtered copies would collide in --out"));
    }
    const bool dir = S_ISDIR(st.st_mode);
    spec.format = DetectFormat(path, dir);
    spec.bytes = dir ? FolderBytes(path) : static_cast<int64_t>(st.st_size);
    spec.output = absl::StrCat(options.out_dir, "/", spec.name);
    // What makes an earlier result reusable: the same input bytes (size and
    // modification time) checked with the same options.
    spec.fingerprint = absl::StrCat(spec.bytes, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec,
                                    ":", options.url_column, ":", options.keep_unchecked);
    specs.push_back(std::move(spec));
  }
  return specs;
}

class Run {
 public:
  Run(const DatasetOptions& options, client::RegistryClient& client,
      const url::PublicSuffixList& psl, const v1::GetInfoResponse& info, int64_t total_bytes)
      : options_(options),
        client_(client),
        psl_(psl),
        info_(info),
        pool_(options.jobs),
        progress_({options.quiet, options.progress_interval}, total_bytes) {}

  absl::StatusOr<InputSummary> CheckInput(const InputSpec& spec, const std::string& state_dir);
  void SkipBytes(int64_t bytes) { bytes_base_ += bytes; }
  void FinishProgress() { progress_.Finish(); }

 private:
  absl::StatusOr<std::unique_ptr<RecordReader>> OpenReader(const InputSpec& spec);
  absl::StatusOr<std::unique_ptr<RecordWriter>> OpenWriter(const InputSpec& spec,
                                                           const RecordReader& reader);
  void Schedule(std::shared_ptr<Chunk> chunk, bool images);
  absl::Status Handle(Chunk& chunk, const v1::CheckResponse& response, RecordWriter& writer,
                      InputLog& log, InputSummary* summary);

  const DatasetOptions& options_;
  client::RegistryClient& client_;
  const url::PublicSuffixList& psl_;
  const v1::GetInfoResponse& info_;
  optout::ThreadPool pool_;
  Progress progress_;
  int64_t bytes_base_ = 0;  // bytes of inputs before the current one
  uint64_t rows_ = 0, removed_ = 0, unchecked_ = 0;  // over the whole run
};

absl::StatusOr<std::unique_ptr<RecordReader>> Run::OpenReader(const InputSpec& spec) {
  switch (spec.format) {
    case Format::kWebdataset: return OpenShardReader(spec.path);
    case Format::kImageFolder: return OpenFolderReader(spec.path);
    default: return OpenTableReader(spec.path, spec.format, {options_.url_column});
  }
}

absl::StatusOr<std::unique_ptr<RecordWriter>> Run::OpenWriter(const InputSpec& spec,
                                                              const RecordReader& reader) {
  switch (spec.format) {
    case Format::kWebdataset: return OpenShardWriter(spec.output);
    case Format::kImageFolder: return OpenFolderWriter(spec.output);
    default: return OpenTableWriter(spec.output, reader.header());
  }
}

void Run::Schedule(std::shared_ptr<Chunk> chunk, bool images) {
  const size_t n = chunk->records.size();
  const size_t per_task = images ? 1 : kRowsPerTask;
  const int tasks = static_cast<int>((n + per_task - 1) / per_task);
  if (tasks == 0) {
    chunk->prepared.Notify();
    return;
  }
  chunk->pending_tasks.store(tasks);
  const int min_quality = info_.min_pdq_quality() > 0 ? info_.min_pdq_quality() : 50;
  for (size_t begin = 0; begin < n; begin += per_task) {
    const size_t end = std::min(n, begin + per_task);
    pool_.Schedule([this, chunk, begin, end, min_quality] {
      UrlDigester digester(psl_);
      for (size_t i = begin; i < end; ++i) PrepareRecord(digester, min_quality, &chunk->records[i]);
      if (chunk->pending_tasks.fetch_sub(1) == 1) chunk->prepared.Notify();
    });
  }
}

absl::Status Run::Handle(Chunk& chunk, const v1::CheckResponse& response, RecordWriter& writer,
                         InputLog& log, InputSummary* s) {
  std::vector<Verdict> verdicts(chunk.records.size());
  absl::Status applied = ApplyResponse(chunk.plan, response, &verdicts);
  if (!applied.ok()) return applied;
  for (size_t i = 0; i < chunk.records.size(); ++i) {
    const Record& r = chunk.records[i];
    absl::Status st;
    if (r.passthrough) {
      st = writer.Write(r);
    } else if (verdicts[i].kind != v1::MATCH_KIND_NONE) {
      ++s->rows;
      ++s->removed;
      ++s->removed_by_kind[verdicts[i].kind];
      st = log.AddRemoved(r, verdicts[i]);
    } else if (!r.unchecked.empty()) {
      ++s->rows;
      ++s->unchecked;
      st = log.AddUnchecked(r, options_.keep_unchecked);
      if (st.ok() && options_.keep_unchecked) {
        ++s->kept;
        st = writer.Write(r);
      }
    } else {
      ++s->rows;
      ++s->kept;
      st = writer.Write(r);
    }
    if (r.low_quality) ++s->low_quality;
    if (!st.ok()) return st;
  }
  progress_.Update(rows_ + s->rows, removed_ + s->removed, unchecked_ + s->unchecked,
                   bytes_base_ + chunk.bytes_after);
  return absl::OkStatus();
}

absl::StatusOr<InputSummary> Run::CheckInput(const InputSpec& spec, const std::string& state_dir) {
  const absl::Time start = absl::Now();
  auto reader = OpenReader(spec);
  if (!reader.ok()) return reader.status();
  auto writer = OpenWriter(spec, **reader);
  if (!writer.ok()) return writer.status();
  auto log = InputLog::Open(state_dir, spec.name);
  if (!log.ok()) return log.status();

  InputSummary summary;
  summary.input = spec.path;
  summary.name = spec.name;
  summary.format = FormatName(spec.format);
  summary.output = spec.output;
  summary.fingerprint = spec.fingerprint;

  const bool images = (*reader)->has_images();
  const size_t max_items = info_.max_batch_items() > 0 ? info_.max_batch_items() : 10000;
  const size_t chunk_rows =
      std::max<size_t>(1, std::min(images ? kSampleChunkRows : kTableChunkRows,
                                   max_items / (*reader)->items_per_record()));
  // Chunks read ahead: enough to keep every worker busy while batches are
  // on the wire; this (with max_in_flight) is what bounds memory.
  const size_t depth = images ? std::max<size_t>(2, 2 * pool_.size() / chunk_rows + 1)
                              : static_cast<size_t>(pool_.size()) + 2;

  client::BulkChecker bulk(client_, options_.max_in_flight);
  std::deque<std::shared_ptr<Chunk>> preparing, sent;
  bool eof = false;
  auto handle_oldest = [&]() -> absl::Status {
    auto response = bulk.Next();
    if (!response.ok()) return response.status();
    absl::Status s = Handle(*sent.front(), *response, **writer, **log, &summary);
    sent.pop_front();
    return s;
  };
  for (;;) {
    while (!eof && preparing.size() < depth) {
      auto chunk = std::make_shared<Chunk>();
      chunk->records.reserve(chunk_rows);
      absl::Status s = (*reader)->Read(chunk_rows, &chunk->records);
      if (!s.ok()) return absl::Status(s.code(), absl::StrCat(spec.path, ": ", s.message()));
      if (chunk->records.empty()) {
        eof = true;
        break;
      }
      chunk->bytes_after = (*reader)->bytes_read();
      Schedule(chunk, images);
      preparing.push_back(std::move(chunk));
    }
    if (preparing.empty() && sent.empty()) break;
    const bool can_send = !preparing.empty() && bulk.in_flight() < bulk.max_in_flight();
    // Take an answer while the next chunk is still being prepared, rather
    // than wait idle.
    if (!sent.empty() && (!can_send || !preparing.front()->prepared.HasBeenNotified())) {
      absl::Status s = handle_oldest();
      if (!s.ok()) return s;
      continue;
    }
    std::shared_ptr<Chunk> chunk = std::move(preparing.front());
    preparing.pop_front();
    chunk->prepared.WaitForNotification();
    BuildRequest(chunk->records, &chunk->plan);
    absl::Status s = bulk.Send(chunk->plan.request);
    if (!s.ok()) return s;
    chunk->plan.request.Clear();
    sent.push_back(std::move(chunk));
  }
  absl::Status finished = bulk.Finish();
  if (!finished.ok()) return finished;
  if (spec.format == Format::kImageFolder) {
    absl::Status s = RemovePath(spec.output);
    if (!s.ok()) return s;
  }
  absl::Status s = (*writer)->Commit();
  if (!s.ok()) return s;
  summary.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  s = (*log)->Commit(summary);
  if (!s.ok()) return s;
  rows_ += summary.rows;
  removed_ += summary.removed;
  unchecked_ += summary.unchecked;
  bytes_base_ += spec.bytes;
  return summary;
}

std::string NowRfc3339() {
  return absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<DatasetResult> CheckDataset(const DatasetOptions& options,
                                           client::RegistryClient& client) {
  const absl::Time start = absl::Now();
  if (options.inputs.empty()) return absl::InvalidArgumentError("no input given");
  if (options.out_dir.empty()) return absl::InvalidArgumentError("--out DIR is required");
  auto specs = ResolveInputs(options);
  if (!specs.ok()) return specs.status();
  for (const InputSpec& spec : *specs) {
    std::error_code ec;
    if (fs::equivalent(spec.path, spec.output, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--out would overwrite input ", spec.path, "; choose another folder"));
    }
  }
  const std::string state_dir = options.out_dir + "/.optout-state";
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", state_dir, ": ", ec.message()));

  auto info = client.GetInfo();
  if (!info.ok()) return info.status();
  auto psl = options.psl_file.empty() ? url::PublicSuffixList::Load()
                                      : url::PublicSuffixList::Load(options.psl_file);
  if (!psl.ok()) return psl.status();
  absl::Status compatible = CheckPslMatchesServer(**psl, *info);
  if (!compatible.ok()) return compatible;

  int64_t total_bytes = 0;
  for (const InputSpec& spec : *specs) total_bytes += spec.bytes;
  RunInfo run_info;
  run_info.server = options.server_label;
  run_info.started = NowRfc3339();
  run_info.keep_unchecked = options.keep_unchecked;
  run_info.min_pdq_quality = info->min_pdq_quality();

  DatasetResult result;
  {
    Run run(options, client, **psl, *info, total_bytes);
    for (const InputSpec& spec : *specs) {
      if (auto done = LoadDone(state_dir, spec.name, spec.fingerprint); done.has_value()) {
        done->input = spec.path;
        result.inputs.push_back(*std::move(done));
        ++result.resumed;
        run.SkipBytes(spec.bytes);
        continue;
      }
      auto summary = run.CheckInput(spec, state_dir);
      if (!summary.ok()) {
        run.FinishProgress();
        return summary.status();
      }
      result.inputs.push_back(*std::move(summary));
    }
    run.FinishProgress();
  }
  for (const InputSummary& s : result.inputs) {
    result.total.rows += s.rows;
    result.total.kept += s.kept;
    result.total.removed += s.removed;
    result.total.unchecked += s.unchecked;
    result.total.low_quality += s.low_quality;
    for (int k = 0; k < 6; ++k) result.total.removed_by_kind[k] += s.removed_by_kind[k];
  }
  run_info.finished = NowRfc3339();
  absl::Status written = WriteReport(options.out_dir, state_dir, run_info, result.inputs);
  if (!written.ok()) return written;
  result.report_path = options.out_dir + "/report.json";
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace optout::dataset
