// File: tests/e2e/optoutd_process.h
//
// OptoutdProcess runs the real optoutd binary as a child process on a free
// loopback port with its own temporary data directory and secret, for
// end-to-end tests (the MiniTabletServer idea). Kill() is SIGKILL, Stop()
// is SIGTERM and waits; Start() again reuses the same data (and, with
// same_port, the address clients already use, to test reconnecting). With
// Transport::kTls or kMutualTls it serves TLS with throwaway certificates
// (tests/e2e/test_certificates.h) made in root() at the first Start().
#ifndef OPTOUT_TESTS_E2E_OPTOUTD_PROCESS_H_
#define OPTOUT_TESTS_E2E_OPTOUTD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/common/base/testing/testdata_path.h"
#include "tests/e2e/test_certificates.h"

namespace optout::testing {

enum class Transport {
  kPlaintext,
  kTls,        // --tls_cert_file, --tls_key_file
  kMutualTls,  // and --tls_client_ca_file: clients need certificates
};

class OptoutdProcess final {
 public:
  // Creates a fresh temp directory; nothing runs yet.
  explicit OptoutdProcess(std::vector<std::string> extra_flags = {},
                          Transport transport = Transport::kPlaintext);
  ~OptoutdProcess();  // kills the child and removes the directory
  OptoutdProcess(const OptoutdProcess&) = delete;
  OptoutdProcess& operator=(const OptoutdProcess&) = delete;

  // Starts the next optoutd with RLIMIT_NOFILE `limit` (soft and hard), as a
  // machine with a low descriptor limit would. Default: inherited.
  void set_descriptor_limit(int limit) { descriptor_limit_ = limit; }

  // Adds a flag for the next Start() and every one after it.
  void AddFlag(std::string flag) { extra_flags_.push_back(std::move(flag)); }

  // Starts optoutd and waits until it listens (port file written). With
  // `same_port`, listens on the port of the previous start.
  absl::Status Start(bool same_port = false);
  // SIGTERM, then waits for exit; returns the exit status as an error if not 0.
  absl::Status Stop();
  // SIGKILL and reap: a crash at an arbitrary point.
  void Kill();
  // When the child ended by itself since it was started: its exit status
  // (128 + signal when killed), and it is reaped; -1 while it runs (or none does).
  int ExitedWith();
  // Sends `signal` (e.g. SIGHUP) to the running server.
  void Signal(int signal);

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Process id of the running child, -1 when none runs.
  pid_t pid() const { return pid_; }
  const std::string& root() const { return root_; }
  std::string data_dir() const { return root_ + "/data"; }
  std::string secret_file() const { return root_ + "/registry.secret"; }
  // Everything the child wrote to stderr so far.
  std::string ReadLog() const;

  Transport transport() const { return transport_; }
  // The certificates the server uses (valid after Start() with TLS); a test
  // may overwrite the server's files and send SIGHUP.
  const TestCertificates& certificates() const { return certificates_; }
  // The optout CLI flags to reach this server: --tls-ca, and the client
  // certificate under mutual TLS; none for plaintext.
  std::vector<std::string> CliTlsFlags() const;

 private:
  std::string root_;
  std::vector<std::string> extra_flags_;
  Transport transport_;
  TestCertificates certificates_;
  pid_t pid_ = -1;
  int port_ = 0;
  int descriptor_limit_ = 0;
};

// Path of a built binary next to optoutd (e.g. "optout"); set by CMake.
std::string OptoutdBinary();
std::string OptoutCliBinary();
std::string OptoutAdminBinary();

// Runs a command, returns its exit status and captures stdout (and stderr).
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Runs optout-admin on `server`'s data folder (`optout-admin --data-dir DIR args...`).
CommandResult RunAdmin(const OptoutdProcess& server, std::vector<std::string> args);

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_OPTOUTD_PROCESS_H_
