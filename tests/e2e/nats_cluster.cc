#include "tests/e2e/nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/e2e/child_processes.h"

namespace optout::testing {
namespace {

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// The end of a server's log, for an error message: the log itself is removed
// with the cluster's folder when the test ends.
std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kTail = 2000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

}  // namespace

std::string NatsServerBinary() {
  for (const char* path : {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                           "/usr/local/bin/nats-server"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

std::vector<int> FreeLoopbackPorts(int count) {
  // All bound at once, so that no two are the same.
  std::vector<int> fds, ports;
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ports.push_back(ntohs(addr.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

std::vector<int> QuietLoopbackPorts(int count) {
  // Ports handed out earlier in this process: the NATS servers' ports are
  // chosen before the optoutd nodes' ports, and none of them listens yet
  // when the next ones are chosen, so a bind test alone could hand a port
  // out twice (a node then failed at start, once in a CI run).
  static std::mutex handed_out_mu;
  static std::set<int> handed_out;
  const std::lock_guard<std::mutex> lock(handed_out_mu);
  int ephemeral_low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &ephemeral_low) != 1) ephemeral_low = 32768;
    std::fclose(f);
  }
  const int low = std::max(1024, ephemeral_low - 12000);
  const int high = std::max(low + 1000, ephemeral_low - 1);
  std::mt19937 rng(std::random_device{}());
  std::vector<int> ports;
  for (int tries = 0; static_cast<int>(ports.size()) < count && tries < 10000; ++tries) {
    const int port = low + static_cast<int>(rng() % static_cast<unsigned>(high - low));
    if (handed_out.count(port) > 0) continue;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (free) {
      ports.push_back(port);
      handed_out.insert(port);
    }
  }
  if (static_cast<int>(ports.size()) < count) return FreeLoopbackPorts(count);
  return ports;
}

NatsCluster::NatsCluster(int size) : pids_(size, -1) {
  char tmpl[] = "/tmp/nats-test-XXXXXX";
  root_ = mkdtemp(tmpl);
  const std::vector<int> ports = QuietLoopbackPorts(2 * size);
  client_ports_.assign(ports.begin(), ports.begin() + size);
  route_ports_.assign(ports.begin() + size, ports.end());
}

NatsCluster::~NatsCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
  // OPTOUT_KEEP_NATS=1 keeps the servers' logs and stores to look into.
  if (std::getenv("OPTOUT_KEEP_NATS") == nullptr) std::system(("rm -rf '" + root_ + "'").c_str());
}

std::string NatsCluster::Urls() const {
  std::vector<std::string> urls;
  for (int port : client_ports_) urls.push_back(absl::StrCat("nats://127.0.0.1:", port));
  return absl::StrJoin(urls, ",");
}

absl::Status NatsCluster::StartAll() {
  for (int i = 0; i < size(); ++i) {
    absl::Status s = Start(i);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status NatsCluster::Start(int i) {
  if (pids_[i] > 0) return absl::OkStatus();
  const std::string binary = NatsServerBinary();
  if (binary.empty()) return absl::NotFoundError("nats-server is not installed");
  std::vector<std::string> routes;
  for (int j = 0; j < size(); ++j) {
    if (j != i) routes.push_back(absl::StrCat("nats://127.0.0.1:", route_ports_[j]));
  }
  std::vector<std::string> args = {
      binary, "-a", "127.0.0.1", "-p", absl::StrCat(client_ports_[i]), "-js",
      "-sd", absl::StrCat(root_, "/store", i), "--server_name", absl::StrCat("n", i)};
  if (size() > 1) {  // one server runs JetStream on its own, unclustered
    for (std::string arg : {std::string("--cluster_name"), std::string("optout-test"),
                            std::string("--cluster"),
                            absl::StrCat("nats://127.0.0.1:", route_ports_[i]),
                            std::string("--routes"), absl::StrJoin(routes, ",")}) {
      args.push_back(std::move(arg));
    }
  }
  const std::string log = absl::StrCat(root_, "/nats", i, ".log");
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  pids_[i] = pid;
  RememberChild(pid);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (Accepts(client_ports_[i])) return absl::OkStatus();
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ForgetChild(pid);
      pids_[i] = -1;
      return absl::InternalError(
          absl::StrCat("nats-server ", i, " exited at start; its log ends: ", LogTail(log)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("nats-server ", i, " did not listen in 20 s; its log ends: ", LogTail(log)));
}

int NatsCluster::StreamLeader(const std::string& stream) const {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* info = nullptr;
  int leader = -1;
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) {
    if (pids_[i] > 0) urls.push_back(absl::StrCat("nats://127.0.0.1:", client_ports_[i]));
  }
  std::vector<const char*> url_pointers;
  for (const std::string& url : urls) url_pointers.push_back(url.c_str());
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = 1000;
  if (!urls.empty() && natsOptions_Create(&options) == NATS_OK &&
      natsOptions_SetServers(options, url_pointers.data(), static_cast<int>(url_pointers.size())) ==
          NATS_OK &&
      natsOptions_SetTimeout(options, 1000) == NATS_OK &&
      natsOptions_SetMaxReconnect(options, 0) == NATS_OK &&
      natsConnection_Connect(&connection, options) == NATS_OK &&
      natsConnection_JetStream(&js, connection, &js_options) == NATS_OK &&
      js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK &&
      info->Cluster != nullptr && info->Cluster->Leader != nullptr) {
    const std::string name = info->Cluster->Leader;  // "n<i>" (--server_name)
    for (int i = 0; i < size(); ++i) {
      if (name == absl::StrCat("n", i)) leader = i;
    }
  }
  if (info != nullptr) jsStreamInfo_Destroy(info);
  if (js != nullptr) jsCtx_Destroy(js);
  if (connection != nullptr) {
    natsConnection_Close(connection);
    natsConnection_Destroy(connection);
  }
  if (options != nullptr) natsOptions_Destroy(options);
  return leader;
}

void NatsCluster::Kill(int i) {
  if (pids_[i] <= 0) return;
  ::kill(pids_[i], SIGKILL);
  int status = 0;
  ::waitpid(pids_[i], &status, 0);
  ForgetChild(pids_[i]);
  pids_[i] = -1;
}

}  // namespace optout::testing
