// File: storage/opt_out_store.h
//
// OptOutStore is the durable home of opt-out records: an embedded RocksDB
// with four column families,
//   "records":    opt-out id    -> record bytes (opaque here; the service encrypts)
//   "requests":   request key   -> opt-out id (idempotent registration)
//   "tombstones": tombstone key -> tombstone bytes (what a second revoke reports)
//   "api_keys":   key name      -> API key record (opaque here; sealed by the service)
// and, in the default family beside the meta values, the request keys of
// revoked opt-outs for a while (prefix "revoked_request/", see Delete).
// It knows bytes only: no crypto, no gRPC, no protobuf.
//
// Thread-safety: all methods may be called concurrently. Concurrent synced
// writes are group-committed by RocksDB (one WAL fsync for many writers).
//
// Errors: Unavailable when RocksDB reports an I/O error, Internal for
// corruption or other faults, InvalidArgument for bad options at Open.
#ifndef OPTOUT_STORAGE_OPT_OUT_STORE_H_
#define OPTOUT_STORAGE_OPT_OUT_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace optout::storage {

struct StoreOptions {
  // Fsync the WAL before a write returns. Turning it off loses acknowledged
  // opt-outs on power failure; only benchmarks of the engine itself do that.
  // Default: true.
  bool sync_writes = true;
  // RocksDB environment; nullptr means the real file system. Unit tests pass
  // rocksdb::NewMemEnv() to keep pure-logic tests off the disk.
  // Default: nullptr.
  rocksdb::Env* env = nullptr;
  // Block cache for record reads, in bytes. Default: 64 MiB.
  size_t block_cache_bytes = 64 << 20;
};

// Sizes RocksDB estimates, summed over the column families.
struct StoreStats {
  uint64_t live_data_bytes = 0;           // rocksdb.estimate-live-data-size
  uint64_t pending_compaction_bytes = 0;  // rocksdb.estimate-pending-compaction-bytes
  uint64_t sst_files_bytes = 0;           // rocksdb.total-sst-files-size
};

// What one backup holds (see OptOutStore::Backup).
struct BackupSummary {
  uint32_t id = 0;           // number of the backup in its folder, from 1
  int64_t unix_seconds = 0;  // when it was taken
  uint64_t bytes = 0;        // its files' payload (some shared with earlier backups)
  uint32_t files = 0;
};

// Progress of a replicated log (cluster mode: the stream sequence applied and
// a running digest, encoded by the caller), written in the same batch as the
// record change it belongs to, so that after a crash the data and the
// progress never disagree.
struct ProgressMark {
  absl::string_view value;
  // false: the write is not synced by itself; it becomes durable with the
  // next synced write (the WAL is one sequential file), which lets a node
  // catching up sync once per run of mutations. Default: true.
  bool sync = true;
};

class OptOutStore final {
 public:
  // Changes staged to be written as one atomic RocksDB write (OptOutStore::
  // Write): in cluster mode every registration of one stream message with
  // its progress, one WAL record, one memtable write group and at most one
  // fsync instead of one of each per registration. Reads through the batch
  // see what it staged over what the store holds (RocksDB
  // WriteBatchWithIndex), so a change staged after another reads that one's
  // result. Thread-safety: not thread-safe; the store must outlive it.
  class Batch {
   public:
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    // As OptOutStore::GetRecord, GetRequest and GetRevokedRequest, seeing
    // the staged changes.
    absl::StatusOr<std::optional<std::string>> GetRecord(absl::string_view id) const;
    absl::StatusOr<std::optional<std::string>> GetRequest(absl::string_view request_key) const;
    absl::StatusOr<std::optional<std::string>> GetRevokedRequest(
        absl::string_view request_key) const;
    // As OptOutStore::Insert, staged.
    absl::Status Insert(absl::string_view id, absl::string_view record,
                        absl::string_view request_key);
    // As OptOutStore::PutUnsyncedMeta, staged (durable with the batch).
    absl::Status PutMeta(absl::string_view key, absl::string_view value);
    bool empty() const;
    // Drops everything staged.
    void Clear();

   private:
    friend class OptOutStore;
    struct Impl;
    explicit Batch(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };

  // Opens (creating if missing) the database in directory `path`.
  static absl::StatusOr<std::unique_ptr<OptOutStore>> Open(const std::string& path,
                                                           const StoreOptions& options);
  ~OptOutStore();
  OptOutStore(const OptOutStore&) = delete;
  OptOutStore& operator=(const OptOutStore&) = delete;

  // Writes a record and (when `request_key` is non-empty) its request key in
  // one atomic, synced batch: after OK both are durable, after a crash either
  // both exist or neither does.
  // With `mark`, the progress mark is written in the same batch.
  absl::Status Insert(absl::string_view id, absl::string_view record,
                      absl::string_view request_key, const ProgressMark* mark = nullptr);

  // An empty batch of this store.
  std::unique_ptr<Batch> NewBatch();
  // Writes what `batch` staged, with `mark` (if any) in the same atomic
  // write, synced unless the mark defers the sync; the batch is empty after
  // (also after an error). Nothing staged and no mark: writes nothing.
  absl::Status Write(Batch* batch, const ProgressMark* mark = nullptr);

  // Deletes a record and its request key atomically and durably; when
  // `tombstone_key` is non-empty, writes `tombstone` under it in the same
  // batch, so a revocation and its tombstone are durable together. When
  // `revoked_request` and `request_key` are non-empty, the request key is
  // kept as a revoked request key with that value (GetRevokedRequest), in
  // the same batch, under `revoked_request_key` when that is non-empty (a
  // key rotation keeps it under the new version's key), else under
  // `request_key`.
  absl::Status Delete(absl::string_view id, absl::string_view request_key,
                      absl::string_view tombstone_key = {}, absl::string_view tombstone = {},
                      const ProgressMark* mark = nullptr, absl::string_view revoked_request = {},
                      absl::string_view revoked_request_key = {});

  // Revoked request keys (written by Delete): the value stored, nullopt if none.
  absl::StatusOr<std::optional<std::string>> GetRevokedRequest(
      absl::string_view request_key) const;
  // Calls `fn` for every revoked request key; stops at the first non-OK
  // status and returns it.
  absl::Status ForEachRevokedRequest(
      const std::function<absl::Status(absl::string_view request_key, absl::string_view value)>&
          fn) const;
  // Deletes the revoked request keys `request_keys` in one batch, with `mark`.
  absl::Status DeleteRevokedRequests(const std::vector<std::string>& request_keys,
                                     const ProgressMark* mark = nullptr);

  // Writes only the progress mark (a mutation that changes nothing here).
  absl::Status PutProgress(const ProgressMark& mark);
  // The last progress mark written, nullopt if none ever was.
  absl::StatusOr<std::optional<std::string>> GetProgress() const;
  // RocksDB's sequence number of the last write: grows with every write and
  // survives restarts (the single-node registry version).
  uint64_t LatestSequence() const;

  // nullopt when no record has that id.
  absl::StatusOr<std::optional<std::string>> GetRecord(absl::string_view id) const;
  // The opt-out id stored for `request_key`, nullopt if none.
  absl::StatusOr<std::optional<std::string>> GetRequest(absl::string_view request_key) const;
  // The tombstone stored under `tombstone_key`, nullopt if none.
  absl::StatusOr<std::optional<std::string>> GetTombstone(absl::string_view tombstone_key) const;

  // Calls `fn` for every record in id order; stops at the first non-OK status
  // and returns it. With `begin`/`end`, only ids in [begin, end) are visited
  // (an empty `end`: to the last id), so disjoint ranges can be scanned by
  // several threads at once.
  absl::Status ForEachRecord(
      const std::function<absl::Status(absl::string_view id, absl::string_view record)>& fn,
      absl::string_view begin = {}, absl::string_view end = {}) const;
  // One record rewritten in place by RewriteRecords: its request key (if any)
  // moves from `old_request_key` to `new_request_key` in the same batch.
  struct RecordRewrite {
    std::string id;
    std::string record;
    std::string old_request_key;  // deleted when non-empty and != new
    std::string new_request_key;  // written when non-empty
  };
  // Writes every rewrite and (when `meta_key` is non-empty) `meta_value`
  // under it in the default family, in one atomic, synced batch: a key
  // rotation's progress marker is durable exactly with the records it counts.
  absl::Status RewriteRecords(const std::vector<RecordRewrite>& rewrites,
                              absl::string_view meta_key, absl::string_view meta_value);

  // Small database-wide values (the key state) in the default family;
  // nullopt when absent. PutMeta is synced.
  absl::StatusOr<std::optional<std::string>> GetMeta(absl::string_view key) const;
  absl::Status PutMeta(absl::string_view key, absl::string_view value);

  // Server state that should outlive a restart but not a power failure
  // (open check sessions: service/check_session_journal.h), in the default
  // family under keys starting with a caller's prefix. Not synced: RocksDB
  // hands its WAL to the OS on every write, so a killed process keeps what
  // it wrote; a power loss may lose the last writes.
  absl::Status PutUnsyncedMeta(absl::string_view key, absl::string_view value);
  // Deletes every key that starts with `prefix` (non-empty), unsynced.
  absl::Status DeleteMetaPrefix(absl::string_view prefix);
  // Calls `fn` for every key starting with `prefix`, in key order.
  absl::Status ForEachMeta(
      absl::string_view prefix,
      const std::function<absl::Status(absl::string_view key, absl::string_view value)>& fn) const;

  // RocksDB's estimate of the number of records (for reserving memory).
  size_t EstimatedRecordCount() const;

  // API key records by name; synced like every other write, with `mark`
  // in the same batch (keys are replicated like opt-outs in a cluster).
  absl::Status PutApiKey(absl::string_view name, absl::string_view record,
                         const ProgressMark* mark = nullptr);
  absl::Status DeleteApiKey(absl::string_view name, const ProgressMark* mark = nullptr);
  absl::Status ForEachApiKey(
      const std::function<absl::Status(absl::string_view name, absl::string_view record)>& fn) const;

  // Flushes memtables to SST files and compacts everything (maintenance and
  // tests that inspect files on disk).
  absl::Status FlushAndCompact();

  // Cheap estimates (no I/O); a property RocksDB cannot give reads as 0.
  StoreStats Stats() const;

  // Takes an online, consistent backup into `backup_dir` (RocksDB
  // BackupEngine; the folder is created if missing, and each call adds one
  // backup that shares unchanged files with the earlier ones there). Writes
  // go on meanwhile; every write acknowledged before the call is in it (the
  // live WAL is copied with the SST files). Unavailable for I/O errors.
  absl::StatusOr<BackupSummary> Backup(const std::string& backup_dir);

  // Writes a consistent copy of the whole database into the new folder
  // `dir` (a RocksDB checkpoint: hard links to the SST files, so `dir` must
  // be on the data folder's file system; memtables are flushed first). A
  // cluster peer streams it to a node that re-bootstraps. Unavailable for
  // I/O errors, FailedPrecondition when `dir` exists.
  absl::Status Checkpoint(const std::string& dir);

  // Restores the newest backup in `backup_dir` into `data_dir`, after
  // verifying its files' checksums. FailedPrecondition when `data_dir`
  // already holds a database (restore never overwrites one), NotFound when
  // `backup_dir` holds no backup, DataLoss for a damaged backup. `env`
  // null: the real file system (tests pass an in-memory one).
  static absl::Status RestoreLatestBackup(const std::string& backup_dir,
                                          const std::string& data_dir,
                                          rocksdb::Env* env = nullptr);

 private:
  struct Impl;
  explicit OptOutStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace optout::storage

#endif  // OPTOUT_STORAGE_OPT_OUT_STORE_H_
