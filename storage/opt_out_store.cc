#include "storage/opt_out_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/cache.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace optout::storage {
namespace {

constexpr char kRecordsFamily[] = "records";
constexpr char kRequestsFamily[] = "requests";
constexpr char kTombstonesFamily[] = "tombstones";
constexpr char kApiKeysFamily[] = "api_keys";
// In the default family: the one ProgressMark.
constexpr char kProgressKey[] = "log_progress";
// In the default family: revoked request keys, few and short-lived next to
// the records (a family of their own would make older builds refuse the
// database).
constexpr absl::string_view kRevokedRequestPrefix = "revoked_request/";

std::string RevokedRequestKey(absl::string_view request_key) {
  return absl::StrCat(kRevokedRequestPrefix, request_key);
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The one place RocksDB statuses become absl statuses; `what` says which
// operation failed (never which key: keys are derived from user data).
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat("store ", what, ": ", s.ToString());
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsNoSpace()) {
    return absl::UnavailableError(message);
  }
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

}  // namespace

struct OptOutStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  // default, records, requests, tombstones, api_keys
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::WriteOptions write_options;

  rocksdb::ColumnFamilyHandle* records() const { return handles[1]; }
  rocksdb::ColumnFamilyHandle* requests() const { return handles[2]; }
  rocksdb::ColumnFamilyHandle* tombstones() const { return handles[3]; }
  rocksdb::ColumnFamilyHandle* api_keys() const { return handles[4]; }

  // Adds `mark` (if any) to `batch` and writes it, synced unless the mark
  // defers the sync.
  rocksdb::Status WriteWithMark(rocksdb::WriteBatch* batch, const ProgressMark* mark) {
    if (mark == nullptr) return db->Write(write_options, batch);
    rocksdb::Status s = batch->Put(handles[0], kProgressKey, ToSlice(mark->value));
    if (!s.ok()) return s;
    rocksdb::WriteOptions options = write_options;
    options.sync = write_options.sync && mark->sync;
    return db->Write(options, batch);
  }

  ~Impl() {
    if (db == nullptr) return;
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    // Close() flushes nothing by itself; the WAL already holds every synced
    // write, so a clean close needs no flush.
    db->Close().PermitUncheckedError();
  }
};

OptOutStore::OptOutStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OptOutStore::~OptOutStore() = default;

absl::StatusOr<std::unique_ptr<OptOutStore>> OptOutStore::Open(const std::string& path,
                                                               const StoreOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  if (options.env != nullptr) db_options.env = options.env;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Every registration reads keys that are mostly absent (its request key,
  // its revoked request key): a whole-key Bloom filter per SST file answers
  // those without reading the file's blocks (new files only; older builds
  // read files with it as before).
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The same in the memtable, for the families of those reads: without it a
  // miss walks the skip list from the top (4-8 % of a cluster node's CPU at
  // 2,000 registrations/s, perf). 1 % of the write buffer (640 KiB) each.
  rocksdb::ColumnFamilyOptions absent_reads = cf;
  absent_reads.memtable_prefix_bloom_size_ratio = 0.01;
  absent_reads.memtable_whole_key_filtering = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, absent_reads},
      {kRecordsFamily, cf},
      {kRequestsFamily, absent_reads},
      {kTombstonesFamily, cf},
      {kApiKeysFamily, cf},
  };
  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, families, &impl->handles, &raw);
  if (!s.ok()) return FromRocks(s, "open");
  impl->db.reset(raw);
  impl->write_options.sync = options.sync_writes;
  return std::unique_ptr<OptOutStore>(new OptOutStore(std::move(impl)));
}

absl::Status OptOutStore::Insert(absl::string_view id, absl::string_view record,
                                 absl::string_view request_key, const ProgressMark* mark) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(impl_->records(), ToSlice(id), ToSlice(record));
  if (s.ok() && !request_key.empty()) {
    s = batch.Put(impl_->requests(), ToSlice(request_key), ToSlice(id));
  }
  if (!s.ok()) return FromRocks(s, "insert");
  return FromRocks(impl_->WriteWithMark(&batch, mark), "insert");
}

struct OptOutStore::Batch::Impl {
  OptOutStore::Impl* store;
  // overwrite_key: a key staged twice is read as its last value.
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};

  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key) const {
    std::string value;
    rocksdb::Status s = const_cast<rocksdb::WriteBatchWithIndex&>(batch).GetFromBatchAndDB(
        store->db.get(), rocksdb::ReadOptions(), family, ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "get");
    return std::optional<std::string>(std::move(value));
  }
};

OptOutStore::Batch::Batch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OptOutStore::Batch::~Batch() = default;

absl::StatusOr<std::optional<std::string>> OptOutStore::Batch::GetRecord(
    absl::string_view id) const {
  return impl_->Get(impl_->store->records(), id);
}

absl::StatusOr<std::optional<std::string>> OptOutStore::Batch::GetRequest(
    absl::string_view request_key) const {
  return impl_->Get(impl_->store->requests(), request_key);
}

absl::StatusOr<std::optional<std::string>> OptOutStore::Batch::GetRevokedRequest(
    absl::string_view request_key) const {
  return impl_->Get(impl_->store->handles[0], RevokedRequestKey(request_key));
}

absl::Status OptOutStore::Batch::Insert(absl::string_view id, absl::string_view record,
                                        absl::string_view request_key) {
  rocksdb::Status s = impl_->batch.Put(impl_->store->records(), ToSlice(id), ToSlice(record));
  if (s.ok() && !request_key.empty()) {
    s = impl_->batch.Put(impl_->store->requests(), ToSlice(request_key), ToSlice(id));
  }
  return FromRocks(s, "insert");
}

absl::Status OptOutStore::Batch::PutMeta(absl::string_view key, absl::string_view value) {
  return FromRocks(impl_->batch.Put(impl_->store->handles[0], ToSlice(key), ToSlice(value)),
                   "put meta");
}

bool OptOutStore::Batch::empty() const { return impl_->batch.GetWriteBatch()->Count() == 0; }
void OptOutStore::Batch::Clear() { impl_->batch.Clear(); }

std::unique_ptr<OptOutStore::Batch> OptOutStore::NewBatch() {
  auto impl = std::make_unique<Batch::Impl>();
  impl->store = impl_.get();
  return std::unique_ptr<Batch>(new Batch(std::move(impl)));
}

absl::Status OptOutStore::Write(Batch* batch, const ProgressMark* mark) {
  if (batch->empty() && mark == nullptr) return absl::OkStatus();
  rocksdb::WriteBatchWithIndex& staged = batch->impl_->batch;
  absl::Status written = FromRocks(impl_->WriteWithMark(staged.GetWriteBatch(), mark), "write");
  staged.Clear();
  return written;
}

absl::Status OptOutStore::Delete(absl::string_view id, absl::string_view request_key,
                                 absl::string_view tombstone_key, absl::string_view tombstone,
                                 const ProgressMark* mark, absl::string_view revoked_request,
                                 absl::string_view revoked_request_key) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Delete(impl_->records(), ToSlice(id));
  if (s.ok() && !request_key.empty()) s = batch.Delete(impl_->requests(), ToSlice(request_key));
  if (s.ok() && !request_key.empty() && !revoked_request.empty()) {
    const absl::string_view kept = revoked_request_key.empty() ? request_key : revoked_request_key;
    s = batch.Put(impl_->handles[0], RevokedRequestKey(kept), ToSlice(revoked_request));
  }
  if (s.ok() && !tombstone_key.empty()) {
    s = batch.Put(impl_->tombstones(), ToSlice(tombstone_key), ToSlice(tombstone));
  }
  if (!s.ok()) return FromRocks(s, "delete");
  return FromRocks(impl_->WriteWithMark(&batch, mark), "delete");
}

absl::Status OptOutStore::ForEachRevokedRequest(
    const std::function<absl::Status(absl::string_view, absl::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handles[0]));
  for (it->Seek(ToSlice(kRevokedRequestPrefix)); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, kRevokedRequestPrefix)) break;
    const rocksdb::Slice v = it->value();
    absl::Status s = fn(key.substr(kRevokedRequestPrefix.size()),
                        absl::string_view(v.data(), v.size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scan revoked requests");
}

absl::Status OptOutStore::DeleteRevokedRequests(const std::vector<std::string>& request_keys,
                                                const ProgressMark* mark) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s;
  for (const std::string& key : request_keys) {
    if (s.ok()) s = batch.Delete(impl_->handles[0], RevokedRequestKey(key));
  }
  if (!s.ok()) return FromRocks(s, "expire revoked requests");
  return FromRocks(impl_->WriteWithMark(&batch, mark), "expire revoked requests");
}

absl::Status OptOutStore::RewriteRecords(const std::vector<RecordRewrite>& rewrites,
                                         absl::string_view meta_key,
                                         absl::string_view meta_value) {
  // Request keys are HMACs, in random order; added sorted, each memtable
  // insert starts next to the previous one instead of from the top of the
  // skip list (half of a rotation's CPU went there unsorted).
  std::vector<const RecordRewrite*> deletes, puts;
  for (const RecordRewrite& r : rewrites) {
    if (!r.old_request_key.empty() && r.old_request_key != r.new_request_key) deletes.push_back(&r);
    if (!r.new_request_key.empty()) puts.push_back(&r);
  }
  std::sort(deletes.begin(), deletes.end(), [](const RecordRewrite* a, const RecordRewrite* b) {
    return a->old_request_key < b->old_request_key;
  });
  std::sort(puts.begin(), puts.end(), [](const RecordRewrite* a, const RecordRewrite* b) {
    return a->new_request_key < b->new_request_key;
  });
  rocksdb::WriteBatch batch;
  rocksdb::Status s;
  for (const RecordRewrite& r : rewrites) {
    if (s.ok()) s = batch.Put(impl_->records(), ToSlice(r.id), ToSlice(r.record));
  }
  for (const RecordRewrite* r : deletes) {
    if (s.ok()) s = batch.Delete(impl_->requests(), ToSlice(r->old_request_key));
  }
  for (const RecordRewrite* r : puts) {
    if (s.ok()) s = batch.Put(impl_->requests(), ToSlice(r->new_request_key), ToSlice(r->id));
  }
  if (s.ok() && !meta_key.empty()) {
    s = batch.Put(impl_->handles[0], ToSlice(meta_key), ToSlice(meta_value));
  }
  if (!s.ok()) return FromRocks(s, "rewrite");
  return FromRocks(impl_->db->Write(impl_->write_options, &batch), "rewrite");
}

absl::Status OptOutStore::PutMeta(absl::string_view key, absl::string_view value) {
  return FromRocks(impl_->db->Put(impl_->write_options, impl_->handles[0], ToSlice(key),
                                  ToSlice(value)),
                   "put meta");
}
absl::Status OptOutStore::PutUnsyncedMeta(absl::string_view key, absl::string_view value) {
  rocksdb::WriteOptions options = impl_->write_options;
  options.sync = false;
  return FromRocks(impl_->db->Put(options, impl_->handles[0], ToSlice(key), ToSlice(value)),
                   "put meta");
}

absl::Status OptOutStore::DeleteMetaPrefix(absl::string_view prefix) {
  if (prefix.empty()) return absl::InvalidArgumentError("delete meta: empty prefix");
  rocksdb::WriteBatch batch;
  absl::Status listed = ForEachMeta(prefix, [&](absl::string_view key, absl::string_view) {
    return FromRocks(batch.Delete(impl_->handles[0], ToSlice(key)), "delete meta");
  });
  if (!listed.ok()) return listed;
  if (batch.Count() == 0) return absl::OkStatus();
  rocksdb::WriteOptions options = impl_->write_options;
  options.sync = false;
  return FromRocks(impl_->db->Write(options, &batch), "delete meta");
}

absl::Status OptOutStore::ForEachMeta(
    absl::string_view prefix,
    const std::function<absl::Status(absl::string_view, absl::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handles[0]));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const absl::string_view key(k.data(), k.size());
    if (key.substr(0, prefix.size()) != prefix) break;
    const rocksdb::Slice v = it->value();
    absl::Status s = fn(key, absl::string_view(v.data(), v.size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scan meta");
}

absl::Status OptOutStore::PutProgress(const ProgressMark& mark) {
  rocksdb::WriteBatch batch;
  return FromRocks(impl_->WriteWithMark(&batch, &mark), "progress");
}

uint64_t OptOutStore::LatestSequence() const { return impl_->db->GetLatestSequenceNumber(); }

namespace {

absl::StatusOr<std::optional<std::string>> GetFrom(rocksdb::DB& db,
                                                   rocksdb::ColumnFamilyHandle* family,
                                                   absl::string_view key) {
  std::string value;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), family, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

}  // namespace

absl::StatusOr<std::optional<std::string>> OptOutStore::GetRecord(absl::string_view id) const {
  return GetFrom(*impl_->db, impl_->records(), id);
}

absl::StatusOr<std::optional<std::string>> OptOutStore::GetProgress() const {
  return GetFrom(*impl_->db, impl_->handles[0], kProgressKey);
}

absl::StatusOr<std::optional<std::string>> OptOutStore::GetRequest(
    absl::string_view request_key) const {
  return GetFrom(*impl_->db, impl_->requests(), request_key);
}

absl::StatusOr<std::optional<std::string>> OptOutStore::GetRevokedRequest(
    absl::string_view request_key) const {
  return GetFrom(*impl_->db, impl_->handles[0], RevokedRequestKey(request_key));
}

absl::StatusOr<std::optional<std::string>> OptOutStore::GetTombstone(
    absl::string_view tombstone_key) const {
  return GetFrom(*impl_->db, impl_->tombstones(), tombstone_key);
}

absl::Status OptOutStore::ForEachRecord(
    const std::function<absl::Status(absl::string_view, absl::string_view)>& fn,
    absl::string_view begin, absl::string_view end) const {
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;  // a start-up scan should not evict hot blocks
  read_options.readahead_size = 2 << 20;  // sequential: fewer, larger reads
  const rocksdb::Slice upper_bound = ToSlice(end);
  if (!end.empty()) read_options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->records()));
  for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    absl::Status s = fn(absl::string_view(k.data(), k.size()), absl::string_view(v.data(), v.size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scan");
}

absl::StatusOr<std::optional<std::string>> OptOutStore::GetMeta(absl::string_view key) const {
  return GetFrom(*impl_->db, impl_->handles[0], key);
}

size_t OptOutStore::EstimatedRecordCount() const {
  uint64_t count = 0;
  if (!impl_->db->GetIntProperty(impl_->records(), "rocksdb.estimate-num-keys", &count)) return 0;
  return static_cast<size_t>(count);
}

absl::Status OptOutStore::PutApiKey(absl::string_view name, absl::string_view record,
                                    const ProgressMark* mark) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(impl_->api_keys(), ToSlice(name), ToSlice(record));
  if (!s.ok()) return FromRocks(s, "put api key");
  return FromRocks(impl_->WriteWithMark(&batch, mark), "put api key");
}

absl::Status OptOutStore::DeleteApiKey(absl::string_view name, const ProgressMark* mark) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Delete(impl_->api_keys(), ToSlice(name));
  if (!s.ok()) return FromRocks(s, "delete api key");
  return FromRocks(impl_->WriteWithMark(&batch, mark), "delete api key");
}

absl::Status OptOutStore::ForEachApiKey(
    const std::function<absl::Status(absl::string_view, absl::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->api_keys()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    absl::Status s = fn(absl::string_view(k.data(), k.size()), absl::string_view(v.data(), v.size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scan api keys");
}

absl::Status OptOutStore::FlushAndCompact() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  absl::Status s = FromRocks(impl_->db->Flush(flush, impl_->handles), "flush");
  if (!s.ok()) return s;
  for (auto* h : impl_->handles) {
    s = FromRocks(impl_->db->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr),
                  "compact");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

StoreStats OptOutStore::Stats() const {
  StoreStats stats;
  auto read = [this](const std::string& property, uint64_t* value) {
    if (!impl_->db->GetAggregatedIntProperty(property, value)) *value = 0;
  };
  read(rocksdb::DB::Properties::kEstimateLiveDataSize, &stats.live_data_bytes);
  read(rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &stats.pending_compaction_bytes);
  read(rocksdb::DB::Properties::kTotalSstFilesSize, &stats.sst_files_bytes);
  return stats;
}

namespace {

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> OpenBackupEngine(
    rocksdb::Env* env, const std::string& backup_dir) {
  rocksdb::BackupEngineOptions options(backup_dir);
  options.sync = true;  // a backup that answered OK survives a crash
  rocksdb::BackupEngine* raw = nullptr;
  absl::Status s = FromRocks(rocksdb::BackupEngine::Open(env, options, &raw),
                             "open backup folder");
  if (!s.ok()) return s;
  return std::unique_ptr<rocksdb::BackupEngine>(raw);
}

}  // namespace

absl::StatusOr<BackupSummary> OptOutStore::Backup(const std::string& backup_dir) {
  auto engine = OpenBackupEngine(impl_->db->GetEnv(), backup_dir);
  if (!engine.ok()) return engine.status();
  // Without a flush the backup copies the live WAL along with the SST files,
  // both taken while file deletions are held off: a consistent point that
  // includes every synced write, and no stall of the writers meanwhile.
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = false;
  rocksdb::BackupID id = 0;
  absl::Status s = FromRocks((*engine)->CreateNewBackup(options, impl_->db.get(), &id), "backup");
  if (!s.ok()) return s;
  s = FromRocks((*engine)->VerifyBackup(id, /*verify_with_checksum=*/false), "verify backup");
  if (!s.ok()) return s;
  rocksdb::BackupInfo info;
  s = FromRocks((*engine)->GetBackupInfo(id, &info), "backup info");
  if (!s.ok()) return s;
  BackupSummary summary;
  summary.id = id;
  summary.unix_seconds = info.timestamp;
  summary.bytes = info.size;
  summary.files = info.number_files;
  return summary;
}

absl::Status OptOutStore::Checkpoint(const std::string& dir) {
  if (impl_->db->GetEnv()->FileExists(dir).ok()) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint folder ", dir, " exists"));
  }
  rocksdb::Checkpoint* raw = nullptr;
  absl::Status s = FromRocks(rocksdb::Checkpoint::Create(impl_->db.get(), &raw), "checkpoint");
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: memtables are flushed, so the copy needs no WAL.
  return FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0), "checkpoint");
}

absl::Status OptOutStore::RestoreLatestBackup(const std::string& backup_dir,
                                              const std::string& data_dir, rocksdb::Env* env) {
  if (env == nullptr) env = rocksdb::Env::Default();
  if (env->FileExists(data_dir + "/CURRENT").ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " already holds a database; restore into an empty folder"));
  }
  if (!env->FileExists(backup_dir + "/meta").ok()) {
    return absl::NotFoundError(absl::StrCat(backup_dir, " holds no backup"));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  absl::Status s = FromRocks(
      rocksdb::BackupEngineReadOnly::Open(env, rocksdb::BackupEngineOptions(backup_dir), &raw),
      "open backup folder");
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  std::vector<rocksdb::BackupInfo> backups;
  engine->GetBackupInfo(&backups);
  if (backups.empty()) return absl::NotFoundError(absl::StrCat(backup_dir, " holds no backup"));
  const rocksdb::BackupID latest = backups.back().backup_id;
  rocksdb::IOStatus verified = engine->VerifyBackup(latest, /*verify_with_checksum=*/true);
  if (!verified.ok()) {
    return absl::DataLossError(absl::StrCat("backup ", latest, " in ", backup_dir,
                                            " is damaged: ", verified.ToString()));
  }
  return FromRocks(engine->RestoreDBFromBackup(latest, data_dir, data_dir), "restore");
}

}  // namespace optout::storage
