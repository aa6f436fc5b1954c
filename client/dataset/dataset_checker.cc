#include "client/dataset/dataset_checker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include <fstream>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/bulk_checker.h"
#include "client/common/base/status_macros.h"
#include "client/common/base/thread_pool.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/match_kind.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/folder_plan.h"
#include "client/dataset/img2dataset.h"
#include "client/dataset/output_digest.h"
#include "client/dataset/progress.h"
#include "client/dataset/reader.h"
#include "client/dataset/sniff.h"
#include "client/dataset/url_digests.h"
#include "client/psl_sync.h"
#include "client/dataset/writer.h"
#include "client/parquet/parquet_file.h"

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
  // Nothing in it to ask (every record unchecked or passthrough): answered
  // here, never sent (the server refuses an empty check).
  bool nothing_to_ask = false;
};

struct InputSpec {
  std::string path, name, output;
  Format format = Format::kUrlList;
  Compression compression = Compression::kNone;
  std::string refusal;  // why the input is refused; empty when it is read
  // Parquet, with --shard: the row groups of this shard; absent: all.
  std::optional<std::vector<int>> row_groups;
  // And their rows in the whole file (InputSummary::row_ranges).
  std::vector<std::pair<uint64_t, uint64_t>> row_ranges;
  std::string fingerprint;
  int64_t bytes = 0;
  // verify-receipt --from-output: an empty output, all of whose rows the
  // run dropped (put back, never read).
  bool all_dropped = false;
};

// Readers' errors that mean "this input is not what it can be read as"
// (not text, no URL column, corrupt tar or Parquet, a Parquet feature not
// read here) refuse the input; the run goes on. Other errors (I/O, the
// server) stop the run.
constexpr absl::string_view kRefusedPayload = "optout.dataset/refused";

absl::Status Refusal(absl::string_view reason) {
  absl::Status s = absl::InvalidArgumentError(reason);
  s.SetPayload(kRefusedPayload, absl::Cord("1"));
  return s;
}

bool IsRefusal(const absl::Status& s) { return s.GetPayload(kRefusedPayload).has_value(); }

absl::Status AsRefusalIfContent(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kDataLoss ||
      s.code() == absl::StatusCode::kUnimplemented) {
    return Refusal(s.message());
  }
  return s;
}

// The first bytes of a file, for SniffContent.
absl::StatusOr<std::string> ReadHead(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot open ", path));
  std::string head(kSniffBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return head;
}

struct FileKind {
  Format format = Format::kUrlList;
  Compression compression = Compression::kNone;
};

// How to read the file `path`, or why it is refused (as a Refusal).
absl::StatusOr<FileKind> SniffFile(const std::string& path, int64_t size) {
  OPTOUT_ASSIGN_OR_RETURN(const std::string head, ReadHead(path));
  const Sniffed sniffed = SniffContent(head, size <= static_cast<int64_t>(head.size()));
  auto format = DecideFileFormat(path, sniffed);
  if (!format.ok()) return Refusal(format.status().message());
  return FileKind{*format, sniffed.compression};
}

// The reader of a file (not a folder) input.
absl::StatusOr<std::unique_ptr<RecordReader>> OpenFileReader(
    const std::string& path, const FileKind& kind, const ReaderOptions& options,
    const std::optional<std::vector<int>>& row_groups = std::nullopt) {
  switch (kind.format) {
    case Format::kWebdataset: return OpenShardReader(path, options);
    case Format::kParquet: return OpenParquetReader(path, options, row_groups);
    default: return OpenTableReader(path, kind.format, options, kind.compression);
  }
}

// The writer of its filtered copy.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenFileWriter(
    const std::string& output, const std::string& source, const FileKind& kind,
    const RecordReader& reader, const std::optional<std::vector<int>>& row_groups = std::nullopt) {
  switch (kind.format) {
    case Format::kWebdataset: return OpenShardWriter(output);
    case Format::kParquet: return OpenParquetWriter(output, source, row_groups, &reader);
    default: return OpenTableWriter(output, reader.header(), kind.compression);
  }
}

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Absolute, links resolved, no trailing separator: comparable by component.
fs::path Normalized(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec).lexically_normal();
  while (p.has_parent_path() && !p.has_filename()) p = p.parent_path();
  return p;
}

absl::StatusOr<std::vector<InputSpec>> ResolveInputs(const DatasetOptions& options) {
  std::vector<InputSpec> specs;
  std::set<std::string> names;
  const fs::path out = Normalized(options.out_dir);
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
    spec.output = absl::StrCat(options.out_dir, "/", spec.name);
    std::string stamp;
    if (S_ISDIR(st.st_mode)) {
      // Writing into the folder being read would check our own output.
      const fs::path folder = Normalized(path);
      const auto [diverge, rest] = std::mismatch(folder.begin(), folder.end(), out.begin(), out.end());
      if (diverge == folder.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--out ", options.out_dir, " is ", rest == out.end() ? "the input folder " : "inside the input folder ",
            path, "; choose a folder outside it"));
      }
      spec.format = Format::kImageFolder;
      OPTOUT_ASSIGN_OR_RETURN(FolderPlan plan, PlanFolder(path));
      spec.bytes = plan.bytes;
      stamp = plan.fingerprint;
    } else {
      spec.bytes = static_cast<int64_t>(st.st_size);
      stamp = absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
      auto format = SniffFile(path, spec.bytes);
      if (options.put_back != nullptr && spec.bytes == 0 && S_ISREG(st.st_mode)) {
        spec.all_dropped = true;
      } else if (format.ok()) {
        spec.format = format->format;
        spec.compression = format->compression;
      } else if (IsRefusal(format.status())) {
        spec.refusal = std::string(format.status().message());
      } else {
        return format.status();
      }
    }
    // What makes an earlier result reusable: the same input bytes (size and
    // modification time) checked with the same options.
    spec.fingerprint = absl::StrCat(spec.bytes, ":", stamp, ":", options.url_column, ":",
                                    options.keep_unchecked, ":", options.shard_index, "/",
                                    options.shard_count);
    specs.push_back(std::move(spec));
  }
  return specs;
}

// With --shard I/N: the inputs (and Parquet row groups) of shard I, in
// order. A Parquet file whose footer cannot be read is one unit (its
// shard reports the refusal).
std::vector<InputSpec> SelectShard(std::vector<InputSpec> specs, int index, int count) {
  if (count <= 1) return specs;
  std::vector<InputSpec> mine;
  int64_t unit = 0;
  for (InputSpec& spec : specs) {
    std::vector<int64_t> group_rows;
    if (spec.format == Format::kParquet && spec.refusal.empty()) {
      if (auto file = parquet::ParquetFile::Open(spec.path); file.ok()) {
        for (const auto& group : (*file)->metadata().row_groups) group_rows.push_back(group.num_rows);
      }
    }
    const int64_t groups = static_cast<int64_t>(group_rows.size());
    if (groups == 0) {
      if (unit++ % count == index) mine.push_back(std::move(spec));
      continue;
    }
    spec.row_groups.emplace();
    uint64_t first_row = 1;
    for (int64_t g = 0; g < groups; ++g) {
      const uint64_t rows = static_cast<uint64_t>(std::max<int64_t>(group_rows[g], 0));
      if (unit++ % count == index) {
        spec.row_groups->push_back(static_cast<int>(g));
        spec.row_ranges.emplace_back(first_row, rows);
      }
      first_row += rows;
    }
    if (!spec.row_groups->empty()) mine.push_back(std::move(spec));
  }
  return mine;
}

// Holds <out>/.optout-state/lock for the run: two runs writing into one
// folder would overwrite each other's partial files.
class OutLock final {
 public:
  static absl::StatusOr<std::unique_ptr<OutLock>> Acquire(const std::string& out_dir,
                                                          const std::string& state_dir) {
    const std::string path = state_dir + "/lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot create ", path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrCat(
          "another check-dataset run is writing into ", out_dir,
          "; wait for it to finish or choose another --out"));
    }
    return std::unique_ptr<OutLock>(new OutLock(fd));
  }
  ~OutLock() { ::close(fd_); }
  OutLock(const OutLock&) = delete;
  OutLock& operator=(const OutLock&) = delete;

 private:
  explicit OutLock(int fd) : fd_(fd) {}
  const int fd_;
};

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

  // Checks one input into spec.output. A Refusal status when the input is
  // refused (its partial output and lists are removed by the caller).
  absl::StatusOr<InputSummary> CheckInput(const InputSpec& spec, InputLog& log);
  void SkipBytes(int64_t bytes) { bytes_base_ += bytes; }
  // Tags every check with session `session_id` (may be empty) and feeds
  // every request sent to `digest` (may be null); `digest` outlives the run.
  void UseSession(std::string session_id, receipt::ItemsDigest* digest) {
    session_id_ = std::move(session_id);
    digest_ = digest;
  }
  void FinishProgress() { progress_.Finish(); }

 private:
  absl::Status CheckFolder(const InputSpec& spec, InputLog& log, InputSummary* summary);
  // One shard (`is_shard`) or manifest of a folder into `target`; a
  // Refusal when it is refused.
  absl::Status CheckFolderFile(const std::string& source, const std::string& target, bool is_shard,
                               InputLog& log, InputSummary* summary, ShardLink* link = nullptr);
  // An img2dataset shard's tar, parquet and stats as one unit (img2dataset.h);
  // when one is refused, all three become unchecked `samples` of the folder.
  absl::Status CheckImg2datasetShard(const InputSpec& spec, const Img2datasetShard& shard,
                                     const std::string& partial, InputLog& log,
                                     InputSummary* summary, std::vector<FolderFile>* samples);
  // Rewrites the filtered tar `target` of `source` without the samples
  // written before whose keys then left the parquet (`parquet_name`).
  absl::Status DropFromShard(const std::string& source, const std::string& target,
                             const ShardLink& tar, const ShardLink& parquet,
                             const std::string& parquet_name, InputLog& log, InputSummary* summary);
  // Streams one reader through the registry into one writer.
  absl::Status CheckRecords(RecordReader& reader, RecordWriter& writer, InputLog& log,
                            InputSummary* summary, ShardLink* link = nullptr);
  // verify-receipt: what CheckRecords would send, fed to digest_ only
  // (with the dropped rows of file `shown` put back, for --from-output).
  absl::Status DigestRecords(RecordReader& reader, size_t chunk_rows, bool images,
                             const std::string& shown, InputSummary* summary);
  // verify-receipt --from-output: an empty output; every row of file
  // `shown` was dropped.
  absl::Status PutBackAll(const std::string& shown, InputSummary* summary);
  void Schedule(std::shared_ptr<Chunk> chunk, bool images);
  absl::Status Handle(Chunk& chunk, const v1::CheckResponse& response, RecordWriter& writer,
                      InputLog& log, InputSummary* summary, ShardLink* link);
  bool Stopped() const { return options_.stop != nullptr && options_.stop->load(); }
  // A dropped row's items for the report, when the run has a receipt
  // (verify-receipt --from-output, output_digest.h).
  std::string DroppedItems(const Record& r) const {
    return digest_ != nullptr && options_.digest_only == nullptr ? DroppedRowItems(r) : "";
  }

  const DatasetOptions& options_;
  client::RegistryClient& client_;
  const url::PublicSuffixList& psl_;
  const v1::GetInfoResponse& info_;
  optout::ThreadPool pool_;
  Progress progress_;
  int64_t bytes_base_ = 0;  // bytes of inputs (and folder parts) before the current one
  uint64_t rows_ = 0, removed_ = 0, unchecked_ = 0;  // over the whole run
  std::string session_id_;
  uint64_t session_batches_ = 0;  // numbered so far (client::BulkOptions)
  receipt::ItemsDigest* digest_ = nullptr;
};

void Run::Schedule(std::shared_ptr<Chunk> chunk, bool images) {
  const size_t n = chunk->records.size();
  const size_t per_task = images ? 1 : kRowsPerTask;
  const int tasks = static_cast<int>((n + per_task - 1) / per_task);
  if (tasks == 0) {
    chunk->prepared.Notify();
    return;
  }
  chunk->pending_tasks.store(tasks);
  const protocol::PdqQualityFloors floors = protocol::PdqFloors(info_);
  for (size_t begin = 0; begin < n; begin += per_task) {
    const size_t end = std::min(n, begin + per_task);
    pool_.Schedule([this, chunk, begin, end, floors] {
      UrlDigester digester(psl_);
      for (size_t i = begin; i < end; ++i) PrepareRecord(digester, floors, &chunk->records[i]);
      if (chunk->pending_tasks.fetch_sub(1) == 1) chunk->prepared.Notify();
    });
  }
}

absl::Status Run::Handle(Chunk& chunk, const v1::CheckResponse& response, RecordWriter& writer,
                         InputLog& log, InputSummary* s, ShardLink* link) {
  std::vector<Verdict> verdicts(chunk.records.size());
  OPTOUT_RETURN_IF_ERROR(ApplyResponse(chunk.plan, response, &verdicts));
  for (size_t i = 0; i < chunk.records.size(); ++i) {
    Record& r = chunk.records[i];
    if (r.passthrough) {
      OPTOUT_RETURN_IF_ERROR(writer.Write(r));
      continue;
    }
    if (link != nullptr) link->ApplyPartner(&r, &verdicts[i]);
    ++s->rows;
    if (r.low_quality) ++s->low_quality;
    bool written = false;
    if (verdicts[i].kind != v1::MATCH_KIND_NONE) {
      ++s->removed;
      ++s->removed_by_kind[verdicts[i].kind];
      OPTOUT_RETURN_IF_ERROR(log.AddRemoved(r, verdicts[i], DroppedItems(r)));
    } else if (!r.unchecked.empty()) {
      // Only what can be written whole is kept.
      written = options_.keep_unchecked && !r.incomplete;
      ++s->unchecked;
      OPTOUT_RETURN_IF_ERROR(log.AddUnchecked(r, written, written ? "" : DroppedItems(r)));
      if (written) {
        ++s->kept;
        OPTOUT_RETURN_IF_ERROR(writer.Write(r));
      }
    } else {
      ++s->kept;
      written = true;
      // A Parquet row group that cannot be rewritten (an encoding not read
      // here) refuses its input, like a reader error.
      OPTOUT_RETURN_IF_ERROR(AsRefusalIfContent(writer.Write(r)));
    }
    if (link != nullptr) link->Note(r, verdicts[i], written);
  }
  progress_.Update(rows_ + s->rows, removed_ + s->removed, unchecked_ + s->unchecked,
                   bytes_base_ + chunk.bytes_after);
  return absl::OkStatus();
}

absl::Status Run::CheckRecords(RecordReader& reader, RecordWriter& writer, InputLog& log,
                               InputSummary* summary, ShardLink* link) {
  const bool images = reader.has_images();
  const size_t max_items = info_.max_batch_items() > 0 ? info_.max_batch_items() : 10000;
  const size_t chunk_rows =
      std::max<size_t>(1, std::min(images ? kSampleChunkRows : kTableChunkRows,
                                   max_items / reader.items_per_record()));
  // Chunks read ahead: enough to keep every worker busy while batches are
  // on the wire; this (with max_in_flight) is what bounds memory.
  const size_t depth = images ? std::max<size_t>(2, 2 * pool_.size() / chunk_rows + 1)
                              : static_cast<size_t>(pool_.size()) + 2;
  if (options_.digest_only != nullptr) {
    return DigestRecords(reader, chunk_rows, images, log.shown(), summary);
  }

  client::BulkOptions bulk_options;
  bulk_options.session_id = session_id_;
  bulk_options.session_batches = &session_batches_;
  bulk_options.max_in_flight = options_.max_in_flight;
  bulk_options.retry_for = options_.retry_for;
  bulk_options.on_retry = options_.on_retry;
  client::BulkChecker bulk(client_, bulk_options);
  std::deque<std::shared_ptr<Chunk>> preparing, sent;
  // Records of answered chunks, refilled by the next reads
  // (RecordReader::ReadReusing) rather than freed and allocated again.
  std::vector<std::vector<Record>> spare;
  bool eof = false;
  // When the server stays away, say how far this input got (a re-run
  // resumes from the last finished input).
  auto gave_up = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(s.message(), " (", summary->rows, " rows of ",
                                               summary->name, " answered before giving up)"));
  };
  // An input refused part-way still has chunks in flight: their answers are
  // taken (and dropped) so that the registry's receipt covers exactly what
  // this run sent, refused inputs included.
  auto drain = [&](absl::Status refusal) -> absl::Status {
    for (; !sent.empty(); sent.pop_front()) {
      if (!sent.front()->nothing_to_ask && !bulk.Next().ok()) break;
    }
    bulk.Finish().IgnoreError();
    return refusal;
  };
  // A read that fails part-way refuses the input; the chunks read before
  // it are still sent (their answers dropped), so that the receipt covers
  // every row read before the refusal, whatever was in flight: exactly
  // what verify-receipt rebuilds from the input (DigestRecords).
  auto send_read_then_drain = [&](absl::Status refusal) -> absl::Status {
    if (!IsRefusal(refusal)) return drain(refusal);
    for (; !preparing.empty(); preparing.pop_front()) {
      std::shared_ptr<Chunk> chunk = preparing.front();
      chunk->prepared.WaitForNotification();
      BuildRequest(chunk->records, &chunk->plan);
      if (chunk->plan.request.packed_size() == 0) continue;
      for (; bulk.in_flight() >= bulk.max_in_flight() && !sent.empty(); sent.pop_front()) {
        if (sent.front()->nothing_to_ask) continue;
        auto dropped = bulk.Next();
        if (!dropped.ok()) return gave_up(dropped.status());
      }
      if (digest_ != nullptr) digest_->Add(chunk->plan.request);
      absl::Status s = bulk.Send(std::move(chunk->plan.request));
      if (!s.ok()) return gave_up(s);
      sent.push_back(std::move(chunk));
    }
    return drain(refusal);
  };
  auto handle_oldest = [&]() -> absl::Status {
    auto response = sent.front()->nothing_to_ask ? absl::StatusOr<v1::CheckResponse>(v1::CheckResponse())
                                                 : bulk.Next();
    if (!response.ok()) return gave_up(response.status());
    std::shared_ptr<Chunk> done = std::move(sent.front());
    sent.pop_front();
    absl::Status s = Handle(*done, *response, writer, log, summary, link);
    if (!s.ok()) return drain(s);
    // Only when nothing else holds the chunk (its digest tasks are over).
    if (done.use_count() == 1 && spare.size() <= depth) spare.push_back(std::move(done->records));
    return s;
  };
  for (;;) {
    if (Stopped()) return absl::CancelledError("interrupted");
    while (!eof && preparing.size() < depth) {
      auto chunk = std::make_shared<Chunk>();
      if (!spare.empty()) {
        chunk->records = std::move(spare.back());
        spare.pop_back();
      } else {
        chunk->records.reserve(chunk_rows);
      }
      absl::Status s = reader.ReadReusing(chunk_rows, &chunk->records);
      if (!s.ok()) return send_read_then_drain(AsRefusalIfContent(s));
      if (chunk->records.empty()) {
        eof = true;
        break;
      }
      chunk->bytes_after = reader.bytes_read();
      Schedule(chunk, images);
      preparing.push_back(std::move(chunk));
    }
    if (preparing.empty() && sent.empty()) break;
    const bool can_send = !preparing.empty() && bulk.in_flight() < bulk.max_in_flight();
    // Take an answer while the next chunk is still being prepared, rather
    // than wait idle.
    if (!sent.empty() && (!can_send || !preparing.front()->prepared.HasBeenNotified())) {
      OPTOUT_RETURN_IF_ERROR(handle_oldest());
      continue;
    }
    std::shared_ptr<Chunk> chunk = std::move(preparing.front());
    preparing.pop_front();
    chunk->prepared.WaitForNotification();
    BuildRequest(chunk->records, &chunk->plan);
    chunk->nothing_to_ask = chunk->plan.request.packed_size() == 0;
    if (!chunk->nothing_to_ask) {
      if (digest_ != nullptr) digest_->Add(chunk->plan.request);
      absl::Status s = bulk.Send(std::move(chunk->plan.request));
      if (!s.ok()) return gave_up(s);
    }
    chunk->plan.request.Clear();
    sent.push_back(std::move(chunk));
  }
  return bulk.Finish();
}

absl::Status Run::DigestRecords(RecordReader& reader, size_t chunk_rows, bool images,
                                const std::string& shown, InputSummary* summary) {
  receipt::ItemsDigest& digest = *options_.digest_only;
  PutBack* put_back = options_.put_back != nullptr ? options_.put_back->For(shown) : nullptr;
  std::vector<Record> between;  // output rows with no dropped row among them
  auto feed = [&] {
    if (between.empty()) return;
    ChunkPlan plan;
    BuildRequest(between, &plan);
    digest.Add(plan.request);
    between.clear();
  };
  for (;;) {
    if (Stopped()) return absl::CancelledError("interrupted");
    auto chunk = std::make_shared<Chunk>();
    absl::Status s = reader.Read(chunk_rows, &chunk->records);
    if (!s.ok()) return AsRefusalIfContent(s);
    if (chunk->records.empty()) break;
    Schedule(chunk, images);
    chunk->prepared.WaitForNotification();
    if (put_back == nullptr) {
      for (const Record& r : chunk->records) summary->rows += r.passthrough ? 0 : 1;
      BuildRequest(chunk->records, &chunk->plan);
      digest.Add(chunk->plan.request);
      continue;
    }
    // The items digest depends on the items' order within each kind only,
    // not on how they are split into requests.
    for (Record& r : chunk->records) {
      if (r.passthrough) continue;
      if (put_back->due()) {
        feed();
        put_back->FeedDue(&digest);
      }
      between.push_back(std::move(r));
      put_back->Advance();
    }
    feed();
  }
  if (put_back == nullptr) return absl::OkStatus();
  OPTOUT_RETURN_IF_ERROR(put_back->Finish(&digest));
  summary->rows += put_back->rows();
  return absl::OkStatus();
}

absl::Status Run::PutBackAll(const std::string& shown, InputSummary* summary) {
  PutBack* put_back = options_.put_back->For(shown);
  OPTOUT_RETURN_IF_ERROR(put_back->Finish(options_.digest_only));
  summary->rows += put_back->rows();
  return absl::OkStatus();
}

absl::StatusOr<InputSummary> Run::CheckInput(const InputSpec& spec, InputLog& log) {
  const absl::Time start = absl::Now();
  InputSummary summary;
  summary.input = spec.path;
  summary.name = spec.name;
  summary.format = FormatName(spec.format);
  summary.output = spec.output;
  summary.fingerprint = spec.fingerprint;
  summary.row_ranges = spec.row_ranges;

  const ReaderOptions reader_options{options_.url_column};
  if (spec.all_dropped) {
    OPTOUT_RETURN_IF_ERROR(PutBackAll(spec.name, &summary));
  } else if (spec.format == Format::kImageFolder) {
    OPTOUT_RETURN_IF_ERROR(CheckFolder(spec, log, &summary));
  } else {
    const FileKind kind{spec.format, spec.compression};
    auto reader = OpenFileReader(spec.path, kind, reader_options, spec.row_groups);
    if (!reader.ok()) return AsRefusalIfContent(reader.status());
    auto writer = OpenFileWriter(spec.output, spec.path, kind, **reader, spec.row_groups);
    if (!writer.ok()) return AsRefusalIfContent(writer.status());
    OPTOUT_RETURN_IF_ERROR(CheckRecords(**reader, **writer, log, &summary));
    OPTOUT_RETURN_IF_ERROR(AsRefusalIfContent((*writer)->Commit()));
  }
  summary.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  OPTOUT_RETURN_IF_ERROR(log.Commit(summary));
  rows_ += summary.rows;
  removed_ += summary.removed;
  unchecked_ += summary.unchecked;
  bytes_base_ += spec.bytes;
  return summary;
}

absl::Status Run::CheckFolderFile(const std::string& source, const std::string& target, bool is_shard,
                                  InputLog& log, InputSummary* summary, ShardLink* link) {
  std::error_code ec;
  fs::create_directories(fs::path(target).parent_path(), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create folder for ", target));
  const int64_t size = static_cast<int64_t>(fs::file_size(source, ec));
  if (options_.put_back != nullptr && size == 0) return PutBackAll(log.shown(), summary);
  auto format = SniffFile(source, size);
  if (!format.ok() && !IsRefusal(format.status())) return format.status();
  if (format.ok() && is_shard != (format->format == Format::kWebdataset)) {
    format = Refusal(is_shard ? "not a tar archive" : "a tar archive with a table's name");
  }
  OPTOUT_RETURN_IF_ERROR(format.status());
  ReaderOptions reader_options{options_.url_column};
  if (link != nullptr) reader_options.key_column = kImg2datasetKeyColumn;
  auto reader = OpenFileReader(source, *format, reader_options);
  if (!reader.ok()) return AsRefusalIfContent(reader.status());
  auto writer = OpenFileWriter(target, source, *format, **reader);
  if (!writer.ok()) return AsRefusalIfContent(writer.status());
  OPTOUT_RETURN_IF_ERROR(CheckRecords(**reader, **writer, log, summary, link));
  return AsRefusalIfContent((*writer)->Commit());
}

absl::Status Run::DropFromShard(const std::string& source, const std::string& target,
                                const ShardLink& tar, const ShardLink& parquet,
                                const std::string& parquet_name, InputLog& log, InputSummary* summary) {
  const bool any = std::any_of(parquet.dropped().begin(), parquet.dropped().end(),
                               [&](const auto& dropped) { return tar.written().contains(dropped.first); });
  if (!any) return absl::OkStatus();
  auto reader = OpenShardReader(source);
  if (!reader.ok()) return AsRefusalIfContent(reader.status());
  OPTOUT_ASSIGN_OR_RETURN(auto writer, OpenShardWriter(target));
  std::vector<Record> records;
  for (;;) {
    records.clear();
    OPTOUT_RETURN_IF_ERROR(AsRefusalIfContent((*reader)->Read(kSampleChunkRows, &records)));
    if (records.empty()) break;
    for (Record& r : records) {
      if (!r.passthrough && !tar.written().contains(r.key)) continue;  // left in the first pass
      auto fate = r.passthrough ? parquet.dropped().end() : parquet.dropped().find(r.key);
      if (fate == parquet.dropped().end()) {
        OPTOUT_RETURN_IF_ERROR(writer->Write(r));
        continue;
      }
      --summary->kept;
      // The first pass sent its items: hashed again to list them (rare:
      // only what the parquet alone dropped leaves the tar here).
      std::string items;
      if (digest_ != nullptr && options_.digest_only == nullptr) {
        UrlDigester digester(psl_);
        PrepareRecord(digester, protocol::PdqFloors(info_), &r);
        items = DroppedRowItems(r);
      }
      const Verdict& verdict = fate->second.verdict;
      if (verdict.kind != v1::MATCH_KIND_NONE) {
        ++summary->removed;
        ++summary->removed_by_kind[verdict.kind];
        OPTOUT_RETURN_IF_ERROR(log.AddRemoved(r, verdict, items));
      } else {
        r.unchecked = absl::StrCat("not kept in ", parquet_name, ": ", fate->second.unchecked);
        ++summary->unchecked;
        OPTOUT_RETURN_IF_ERROR(log.AddUnchecked(r, false, items));
      }
    }
  }
  return writer->Commit();
}

absl::Status Run::CheckImg2datasetShard(const InputSpec& spec, const Img2datasetShard& shard,
                                        const std::string& partial, InputLog& log,
                                        InputSummary* summary, std::vector<FolderFile>* samples) {
  auto source = [&](const std::string& rel) { return spec.path + "/" + rel; };
  auto target = [&](const std::string& rel) { return partial + "/" + rel; };
  const InputSummary before = *summary;
  OPTOUT_ASSIGN_OR_RETURN(const InputLog::Mark mark, log.MarkHere());
  std::string current;  // the file being checked, named if it is refused
  auto set_current = [&](const std::string& rel) {
    current = rel;
    log.SetInput(absl::StrCat(spec.name, "/", rel));
  };
  absl::Status s = [&]() -> absl::Status {
    // The tar first: what left it (matched by image, URL or content hash,
    // or unchecked) then leaves the parquet too.
    set_current(shard.tar);
    ShardLink tar(nullptr, "", /*by_pair_key=*/false);
    OPTOUT_RETURN_IF_ERROR(CheckFolderFile(source(shard.tar), target(shard.tar), true, log, summary, &tar));
    std::error_code ec;
    bytes_base_ += static_cast<int64_t>(fs::file_size(source(shard.tar), ec));
    set_current(shard.parquet);
    ShardLink parquet(&tar.dropped(), shard.tar, /*by_pair_key=*/true);
    OPTOUT_RETURN_IF_ERROR(
        CheckFolderFile(source(shard.parquet), target(shard.parquet), false, log, summary, &parquet));
    bytes_base_ += static_cast<int64_t>(fs::file_size(source(shard.parquet), ec));
    // Rarely, a row leaves the parquet for what only the parquet holds (a
    // registered md5 the tar's json does not carry, an unreadable row):
    // its sample leaves the tar as well.
    set_current(shard.tar);
    OPTOUT_RETURN_IF_ERROR(
        DropFromShard(source(shard.tar), target(shard.tar), tar, parquet, shard.parquet, log, summary));
    if (shard.stats.empty()) return absl::OkStatus();
    set_current(shard.stats);
    return AsRefusalIfContent(WriteFilteredStats(source(shard.stats), source(shard.parquet),
                                                 target(shard.parquet), target(shard.stats)));
  }();
  if (!IsRefusal(s)) return s;
  // A shard is checked whole or not at all: its files are reported (and,
  // with keep_unchecked, copied) unchanged.
  *summary = before;
  OPTOUT_RETURN_IF_ERROR(log.Rollback(mark));
  absl::string_view reason = s.message();
  absl::ConsumePrefix(&reason, source(current) + ": ");
  for (const std::string* rel : {&shard.tar, &shard.parquet, &shard.stats}) {
    if (rel->empty()) continue;
    OPTOUT_RETURN_IF_ERROR(RemovePath(target(*rel)));
    OPTOUT_RETURN_IF_ERROR(RemovePath(target(*rel) + ".partial"));
    samples->push_back({*rel, *rel == current ? std::string(reason)
                                              : absl::StrCat("not checked: ", current,
                                                             " of the same shard was refused")});
  }
  return absl::OkStatus();
}

// A folder is built under <out>/NAME.partial and renamed when complete:
// first its shards and manifests (each like an input of its own, its
// output at the same relative path; an img2dataset shard's tar, parquet
// and stats together), then its image samples. A shard or manifest that
// is refused becomes one unchecked file of the folder.
absl::Status Run::CheckFolder(const InputSpec& spec, InputLog& log, InputSummary* summary) {
  OPTOUT_ASSIGN_OR_RETURN(FolderPlan plan, PlanFolder(spec.path));
  const std::string partial = spec.output + ".partial";
  OPTOUT_RETURN_IF_ERROR(RemovePath(partial));
  const ReaderOptions reader_options{options_.url_column};
  const int64_t folder_base = bytes_base_;
  for (const Img2datasetShard& shard : TakeImg2datasetShards(&plan)) {
    OPTOUT_RETURN_IF_ERROR(CheckImg2datasetShard(spec, shard, partial, log, summary, &plan.samples));
  }
  std::vector<std::pair<std::string, bool>> parts;  // path, is a shard
  for (const std::string& rel : plan.shards) parts.emplace_back(rel, true);
  for (const std::string& rel : plan.tables) parts.emplace_back(rel, false);
  for (const auto& [rel, shard] : parts) {
    const std::string source = spec.path + "/" + rel;
    const std::string target = partial + "/" + rel;
    const InputSummary before = *summary;
    OPTOUT_ASSIGN_OR_RETURN(const InputLog::Mark mark, log.MarkHere());
    log.SetInput(absl::StrCat(spec.name, "/", rel));
    absl::Status s = CheckFolderFile(source, target, shard, log, summary);
    if (!s.ok() && !IsRefusal(s)) return s;
    if (!s.ok()) {
      // Refused: none of its rows count, its partial copy goes, and the
      // file is reported with the folder's unchecked files.
      *summary = before;
      OPTOUT_RETURN_IF_ERROR(log.Rollback(mark));
      OPTOUT_RETURN_IF_ERROR(RemovePath(target + ".partial"));
      absl::string_view reason = s.message();
      absl::ConsumePrefix(&reason, source + ": ");
      plan.samples.push_back({rel, std::string(reason)});
    }
    std::error_code ec;
    bytes_base_ += static_cast<int64_t>(fs::file_size(source, ec));
  }
  log.SetInput(spec.name);
  SortSamples(&plan.samples);
  OPTOUT_ASSIGN_OR_RETURN(auto reader, OpenFolderReader(spec.path, std::move(plan.samples), reader_options));
  OPTOUT_ASSIGN_OR_RETURN(auto writer, OpenFolderWriter(partial));
  OPTOUT_RETURN_IF_ERROR(CheckRecords(*reader, *writer, log, summary));
  OPTOUT_RETURN_IF_ERROR(writer->Commit());
  bytes_base_ = folder_base;
  OPTOUT_RETURN_IF_ERROR(RemovePath(spec.output));
  if (::rename(partial.c_str(), spec.output.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", partial, " to ", spec.output));
  }
  return absl::OkStatus();
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
  if (options.shard_count < 1 || options.shard_index < 0 || options.shard_index >= options.shard_count) {
    return absl::InvalidArgumentError(absl::StrCat("--shard ", options.shard_index, "/", options.shard_count,
                                                   ": want I/N with 0 <= I < N"));
  }
  OPTOUT_ASSIGN_OR_RETURN(std::vector<InputSpec> all_specs, ResolveInputs(options));
  const std::vector<InputSpec> specs =
      SelectShard(std::move(all_specs), options.shard_index, options.shard_count);
  for (const InputSpec& spec : specs) {
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
  OPTOUT_ASSIGN_OR_RETURN(const std::unique_ptr<OutLock> lock, OutLock::Acquire(options.out_dir, state_dir));

  const bool offline = options.digest_only != nullptr && options.info != nullptr;
  v1::GetInfoResponse info;
  std::unique_ptr<url::PublicSuffixList> psl;
  if (offline) {
    // verify-receipt with a key file: no server; the caller compares the
    // list's SHA-256 with the one the check used.
    info = *options.info;
    if (options.psl == nullptr) {
      OPTOUT_ASSIGN_OR_RETURN(psl, url::PublicSuffixList::Load(
                                       options.psl_file.empty() ? url::PublicSuffixList::kDefaultPath
                                                                : options.psl_file));
    }
  } else {
    OPTOUT_ASSIGN_OR_RETURN(info, client.GetInfo());
    client::PslSyncOptions psl_options;
    psl_options.local_path = options.psl_file;
    OPTOUT_ASSIGN_OR_RETURN(client::SyncedPsl synced,
                            client::PublicSuffixListForServer(client, info, psl_options));
    if (!synced.note.empty() && options.on_note) options.on_note(synced.note);
    psl = std::move(synced.list);
    OPTOUT_RETURN_IF_ERROR(CheckPslMatchesServer(*psl, info));
  }

  // Signed receipts (issue 14): one session for the whole run.
  std::string session_id;
  receipt::ItemsDigest sent(protocol::MinPdqQuality(info));
  if (options.receipt && options.digest_only == nullptr) {
    auto opened = client.OpenCheckSession();
    if (opened.ok()) {
      session_id = opened->session_id();
    } else if (opened.status().code() == absl::StatusCode::kUnimplemented) {
      if (options.on_note) options.on_note("the registry signs no check receipts; report.json has none");
    } else {
      return absl::Status(opened.status().code(),
                          absl::StrCat("opening a check session for the signed receipt: ",
                                       opened.status().message(), " (--no-receipt runs without)"));
    }
  }

  int64_t total_bytes = 0;
  for (const InputSpec& spec : specs) total_bytes += spec.bytes;
  RunInfo run_info;
  run_info.server = options.server_label;
  if (options.shard_count > 1) run_info.shard = absl::StrCat(options.shard_index, "/", options.shard_count);
  run_info.started = NowRfc3339();
  run_info.keep_unchecked = options.keep_unchecked;
  run_info.min_pdq_quality = protocol::MinPdqQuality(info);
  {
    const protocol::PdqQualityFloors floors = protocol::PdqFloors(info);
    run_info.low_quality_pdq_floor = floors.low < floors.min ? floors.low : 0;
    run_info.pdq_region_tiers = floors.region_tiers;
  }

  DatasetResult result;
  std::vector<std::string> not_covered;  // inputs an earlier run finished
  {
    Run run(options, client, psl != nullptr ? *psl : *options.psl, info, total_bytes);
    if (options.digest_only != nullptr) {
      run.UseSession("", options.digest_only);
    } else if (!session_id.empty()) {
      run.UseSession(session_id, &sent);
    }
    // Nothing may stay in --out for a refused input: not an earlier run's
    // copy, not a partial one, not its lists.
    auto forget = [&](const InputSpec& spec) {
      RemovePath(spec.output + ".partial").IgnoreError();
      RemovePath(spec.output).IgnoreError();
      ::unlink(absl::StrCat(state_dir, "/", spec.name, ".done.json").c_str());
    };
    for (const InputSpec& spec : specs) {
      if (!spec.refusal.empty()) {
        forget(spec);
        result.refused.push_back({spec.path, spec.refusal});
        run.SkipBytes(spec.bytes);
        continue;
      }
      if (std::find(options.skip_inputs.begin(), options.skip_inputs.end(), spec.path) !=
          options.skip_inputs.end()) {
        run.SkipBytes(spec.bytes);
        continue;
      }
      if (auto done = options.digest_only != nullptr
                          ? std::nullopt
                          : LoadDone(state_dir, spec.name, spec.fingerprint);
          done.has_value()) {
        not_covered.push_back(spec.path);
        done->input = spec.path;
        result.inputs.push_back(*std::move(done));
        ++result.resumed;
        run.SkipBytes(spec.bytes);
        continue;
      }
      OPTOUT_ASSIGN_OR_RETURN(auto log, InputLog::Open(state_dir, spec.name));
      auto summary = run.CheckInput(spec, *log);
      if (summary.ok()) {
        result.inputs.push_back(*std::move(summary));
        continue;
      }
      log->Discard();
      forget(spec);
      if (IsRefusal(summary.status())) {
        absl::string_view reason = summary.status().message();
        absl::ConsumePrefix(&reason, spec.path + ": ");
        result.refused.push_back({spec.path, std::string(reason)});
        run.SkipBytes(spec.bytes);
        continue;
      }
      run.FinishProgress();
      if (summary.status().code() == absl::StatusCode::kCancelled) {
        return absl::CancelledError(absl::StrCat(
            "interrupted; ", result.inputs.size(), " of ", specs.size(),
            " input(s) finished and kept in ", options.out_dir));
      }
      return summary.status();
    }
    run.FinishProgress();
  }
  for (const InputSummary& s : result.inputs) {
    result.total.rows += s.rows;
    result.total.kept += s.kept;
    result.total.removed += s.removed;
    result.total.unchecked += s.unchecked;
    result.total.low_quality += s.low_quality;
    for (int k = 0; k < protocol::kMatchKindCount; ++k) {
      result.total.removed_by_kind[k] += s.removed_by_kind[k];
    }
  }
  if (!session_id.empty()) {
    auto signed_receipt = client.CloseCheckSession(session_id);
    if (!signed_receipt.ok()) {
      return absl::Status(signed_receipt.status().code(),
                          absl::StrCat("closing the check session: ", signed_receipt.status().message(),
                                       " (the filtered outputs are complete; --no-receipt runs without)"));
    }
    ReceiptSection section;
    section.receipt = *std::move(signed_receipt);
    section.client_digest = receipt::CombineParts({{0, sent.Finish()}});
    section.client_items = sent.counts();
    section.inputs = options.inputs;
    section.not_covered = not_covered;
    section.shard = run_info.shard;
    section.url_column = options.url_column;
    section.min_pdq_quality = run_info.min_pdq_quality;
    section.low_quality_pdq_floor = run_info.low_quality_pdq_floor;
    section.pdq_region_tiers = run_info.pdq_region_tiers;
    section.psl_sha256 = psl->sha256_hex();
    const std::string& server_digest = section.receipt.items_digest();
    result.receipt_ok =
        server_digest == std::string(section.client_digest.begin(), section.client_digest.end());
    result.receipt_note =
        result.receipt_ok
            ? absl::StrCat("receipt signed by registry key ", section.receipt.key_fingerprint(),
                           " over ", section.client_items.total(), " items (session ",
                           section.receipt.session_id(), ")")
            : absl::StrCat("the registry's receipt covers other items than this run sent (",
                           section.receipt.url_items() + section.receipt.pdq_items() +
                               section.receipt.sha256_items() + section.receipt.md5_items(),
                           " answered, ", section.client_items.total(),
                           " sent; an older registry counts batches re-sent after a "
                           "reconnect twice): verify-receipt will refuse it");
    if (result.receipt_ok && !info.receipt_key_fingerprint().empty() &&
        info.receipt_key_fingerprint() != section.receipt.key_fingerprint()) {
      // optout-admin rotate-keys ran during the check: the registry signs
      // with the key current at the close (README, "Signed check receipts").
      result.receipt_key_note = absl::StrCat(
          "the registry rotated its keys during the run: the receipt is signed by its new key ",
          section.receipt.key_fingerprint(), ", not ", info.receipt_key_fingerprint(),
          " it published at the start");
    }
    run_info.receipt = std::move(section);
  }
  run_info.finished = NowRfc3339();
  OPTOUT_RETURN_IF_ERROR(WriteReport(options.out_dir, state_dir, run_info, result.inputs, result.refused));
  result.report_path = options.out_dir + "/report.json";
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace optout::dataset
