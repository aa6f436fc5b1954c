// File: tests/e2e/tcp_proxy.h
//
// TcpProxy: a loopback TCP proxy for fault tests. It forwards every
// connection to a target port and, on request, drops them all as a network
// drop or a restarted load balancer would: the client sees its calls fail
// with UNAVAILABLE and reconnects through the proxy, while the server keeps
// running (and may have answered what the client never received).
//
// Thread-safe; one forwarding thread, stopped by the destructor.
#ifndef OPTOUT_TESTS_E2E_TCP_PROXY_H_
#define OPTOUT_TESTS_E2E_TCP_PROXY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace optout::testing {

class TcpProxy final {
 public:
  // Listens on an ephemeral loopback port and forwards to 127.0.0.1:target_port.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::string address() const;  // "127.0.0.1:PORT"

  // Arms one drop: once `after_bytes` more bytes went from clients to the
  // target, answers stop reaching the clients for `stall` (the server goes
  // on answering what it has), then every connection is closed and the
  // answers held back are lost.
  void DropAfter(int64_t after_bytes, absl::Duration stall);
  // Drops done so far, and bytes forwarded from clients to the target.
  int drops() const { return drops_.load(); }
  int64_t upstream_bytes() const { return upstream_.load(); }

 private:
  TcpProxy(int listen_fd, int port, int target_port);
  void Loop();

  const int listen_fd_;
  const int port_;
  const int target_port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> drops_{0};
  std::atomic<int64_t> upstream_{0};
  absl::Mutex mu_;
  int64_t drop_at_ ABSL_GUARDED_BY(mu_) = -1;  // upstream byte count; -1: none armed
  absl::Duration stall_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_TCP_PROXY_H_
