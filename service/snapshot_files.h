// File: service/snapshot_files.h
//
// Moving a whole database between cluster nodes (re-bootstrap, issue 13):
// a node whose needed history the stream no longer holds takes a peer's
// RocksDB checkpoint. The checkpoint holds the applied stream sequence and
// running digest (written in the same batches as the data), so the node
// then follows the stream from exactly there. gRPC-free: the admin service
// sends chunks, snapshot_bootstrap receives them.
//
// Install is crash-safe: files arrive in <data_dir>/snapshot.incoming,
// are synced and checked, then a marker file says "complete"; only then are
// the old database files removed and the new ones moved in. A start that
// finds the marker finishes the move (InstallPendingSnapshot); one that
// finds an incoming folder without it discards it.
#ifndef OPTOUT_SERVICE_SNAPSHOT_FILES_H_
#define OPTOUT_SERVICE_SNAPSHOT_FILES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "optout/admin/v1/admin.pb.h"
#include "storage/opt_out_store.h"

namespace optout::service {

// Takes a checkpoint of `store` in a fresh folder inside `data_dir` (hard
// links need the same file system), calls `send` with each chunk in order
// and removes the folder. Cancelled when `send` returns false (the peer went
// away); Unavailable for I/O errors.
absl::Status SendSnapshot(storage::OptOutStore* store, const std::string& data_dir,
                          const std::function<bool(const admin::v1::SnapshotChunk&)>& send);

class SnapshotReceiver final {
 public:
  // Starts an empty <data_dir>/snapshot.incoming (an older one is removed).
  explicit SnapshotReceiver(std::string data_dir);
  absl::Status Begin();
  // Writes one chunk. InvalidArgument for a name that is a path, a chunk
  // out of order or past the file's size.
  absl::Status Add(const admin::v1::SnapshotChunk& chunk);
  // With the `done` message: checks that every file is whole and as many
  // arrived as were sent, and syncs them. DataLoss when something is missing.
  absl::Status Finish(const admin::v1::SnapshotChunk& done);
  const std::string& incoming_dir() const { return incoming_; }

 private:
  absl::Status CloseCurrent();

  std::string data_dir_;
  std::string incoming_;
  std::map<std::string, uint64_t> sizes_;  // file -> announced size
  std::string current_;                    // file being written
  uint64_t written_ = 0;
  int fd_ = -1;
};

// Marks the finished (and checked) incoming copy complete: from here on it
// replaces the database, even if this process dies before it is moved in.
absl::Status MarkSnapshotComplete(const std::string& data_dir);

// Moves a complete incoming copy in place of the database files of
// `data_dir` (after a crash too), or discards an incomplete one, and
// removes checkpoints left by a send that a crash cut short. Nothing to do:
// OK. Call it with the store closed.
absl::Status InstallPendingSnapshot(const std::string& data_dir);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SNAPSHOT_FILES_H_
