// File: service/server.h
//
// Server wires the pieces of optoutd together: secret and keys, Public
// Suffix List, RocksDB store, Registry, and the gRPC server with health
// checking and reflection. Start() returns once it is listening.
//
// Thread-safety: Shutdown may be called from any thread, once;
// ReloadTlsCertificates from any thread before it.
#ifndef OPTOUT_SERVICE_SERVER_H_
#define OPTOUT_SERVICE_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/server_options.h"

namespace optout::service {

class Server final {
 public:
  // FailedPrecondition for a bad secret file, InvalidArgument for bad
  // options, Unavailable when the port or the database cannot be opened.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // Re-reads the TLS certificate, key and client CA files; new connections
  // use them, established ones are left alone. FailedPrecondition without
  // TLS; InvalidArgument for a bad file, and then nothing changes.
  absl::Status ReloadTlsCertificates();
  // Stops accepting calls, lets in-flight calls finish until `deadline`
  // (then cancels them), drains durable writes and closes the database.
  void Shutdown(absl::Duration deadline);

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SERVER_H_
