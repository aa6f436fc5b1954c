#include "tests/e2e/optoutd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/e2e/child_processes.h"

namespace optout::testing {

// OPTOUT_OPTOUTD names another optoutd binary (e.g. a build of main, to
// compare in cluster_bench); the one built here otherwise.
std::string OptoutdBinary() {
  const char* other = std::getenv("OPTOUT_OPTOUTD");
  return other != nullptr && *other != '\0' ? other : OPTOUTD_PATH;
}

std::string OptoutCliBinary() { return OPTOUT_CLI_PATH; }
std::string OptoutAdminBinary() { return OPTOUT_ADMIN_PATH; }

OptoutdProcess::OptoutdProcess(std::vector<std::string> extra_flags, Transport transport)
    : extra_flags_(std::move(extra_flags)), transport_(transport) {
  char tmpl[] = "/tmp/optoutd-test-XXXXXX";
  root_ = mkdtemp(tmpl);
}

OptoutdProcess::~OptoutdProcess() {
  Kill();
  std::system(("rm -rf '" + root_ + "'").c_str());
}

absl::Status OptoutdProcess::Start(bool same_port) {
  const std::string port_file = root_ + "/port";
  ::unlink(port_file.c_str());
  std::vector<std::string> args = {OptoutdBinary(),
                                   "--listen=127.0.0.1:" + std::to_string(same_port ? port_ : 0),
                                   "--data_dir=" + data_dir(),
                                   "--secret_file=" + secret_file(),
                                   "--port_file=" + port_file,
                                   // Tests register in bulk from one address;
                                   // adversarial tests set their own limits.
                                   "--register_rate_per_peer=0",
                                   // Tests and benchmarks check many items from
                                   // 127.0.0.1 without a key; the anonymous
                                   // budget has its own tests (access_e2e_test),
                                   // which set it with an extra flag (the last
                                   // one given wins).
                                   "--anonymous_items_per_minute=1000000000"};
  if (transport_ != Transport::kPlaintext) {
    if (certificates_.ca_cert.empty()) {
      auto made = MakeTestCertificates(root_);
      if (!made.ok()) return made.status();
      certificates_ = *std::move(made);
    }
    args.push_back("--tls_cert_file=" + certificates_.server_cert);
    args.push_back("--tls_key_file=" + certificates_.server_key);
    if (transport_ == Transport::kMutualTls) {
      args.push_back("--tls_client_ca_file=" + certificates_.ca_cert);
    }
  }
  args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
  const std::string log = root_ + "/optoutd.log";
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 2);
    if (descriptor_limit_ > 0) {
      const rlimit limit{static_cast<rlim_t>(descriptor_limit_),
                         static_cast<rlim_t>(descriptor_limit_)};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  RememberChild(pid_);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    std::ifstream in(port_file);
    std::string text;
    if (in && std::getline(in, text) && absl::SimpleAtoi(text, &port_) && port_ > 0) {
      return absl::OkStatus();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      ForgetChild(pid_);
      pid_ = -1;
      return absl::InternalError(absl::StrCat(
          "optoutd exited at start (",
          WIFSIGNALED(status) ? absl::StrCat("signal ", WTERMSIG(status))
                              : absl::StrCat("status ", WEXITSTATUS(status)),
          "): ", ReadLog()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("optoutd did not start listening within 60 s");
}

absl::Status OptoutdProcess::Stop() {
  if (pid_ < 0) return absl::OkStatus();
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  ForgetChild(pid_);
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("optoutd exit status ", status));
  }
  return absl::OkStatus();
}

void OptoutdProcess::Kill() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  ForgetChild(pid_);
  pid_ = -1;
}

int OptoutdProcess::ExitedWith() {
  if (pid_ < 0) return -1;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return -1;
  ForgetChild(pid_);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void OptoutdProcess::Signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::vector<std::string> OptoutdProcess::CliTlsFlags() const {
  std::vector<std::string> flags;
  if (transport_ == Transport::kPlaintext) return flags;
  flags = {"--tls-ca", certificates_.ca_cert};
  if (transport_ == Transport::kMutualTls) {
    flags.insert(flags.end(), {"--tls-cert", certificates_.client_cert, "--tls-key",
                               certificates_.client_key});
  }
  return flags;
}

std::string OptoutdProcess::ReadLog() const {
  std::ifstream in(root_ + "/optoutd.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

std::string ReadAllFd(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv_in, const std::string& stdin_text) {
  char tmpl[] = "/tmp/optout-cmd-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string in_path = dir + "/in", out_path = dir + "/out", err_path = dir + "/err";
  std::ofstream(in_path) << stdin_text;
  CommandResult result;
  const pid_t pid = fork();
  if (pid == 0) {
    ::dup2(::open(in_path.c_str(), O_RDONLY), 0);
    ::dup2(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 1);
    ::dup2(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
    std::vector<std::string> args = argv_in;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const int out_fd = ::open(out_path.c_str(), O_RDONLY);
  result.out = ReadAllFd(out_fd);
  ::close(out_fd);
  const int err_fd = ::open(err_path.c_str(), O_RDONLY);
  result.err = ReadAllFd(err_fd);
  ::close(err_fd);
  std::system(("rm -rf '" + dir + "'").c_str());
  return result;
}

CommandResult RunAdmin(const OptoutdProcess& server, std::vector<std::string> args) {
  args.insert(args.begin(), {OptoutAdminBinary(), "--data-dir", server.data_dir()});
  return RunCommand(args);
}

}  // namespace optout::testing
