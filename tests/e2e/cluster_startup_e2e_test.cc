// A cluster node's start-up as an operator meets it: a configuration that
// can never work is refused at once with the flag to change, and a signal
// while the node still waits for NATS stops it promptly, instead of a
// minute of silence followed by an opaque JetStream error code.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/nats_cluster.h"
#include "tests/e2e/optoutd_process.h"

extern char** environ;

namespace optout::testing {
namespace {

using ::testing::HasSubstr;

// A temp folder with a registry secret, removed at the end.
class NodeFolder {
 public:
  NodeFolder() {
    char tmpl[] = "/tmp/optout-cluster-startup-XXXXXX";
    root_ = mkdtemp(tmpl);
    std::ofstream(root_ + "/registry.secret") << std::string(32, 's');
    ::chmod((root_ + "/registry.secret").c_str(), 0600);
  }
  ~NodeFolder() { std::system(("rm -rf '" + root_ + "'").c_str()); }
  std::vector<std::string> Flags(const std::string& nats_urls) const {
    return {OptoutdBinary(), "--data_dir=" + root_ + "/data",
            "--secret_file=" + root_ + "/registry.secret", "--cluster_nats=" + nats_urls,
            "--cluster_stream=startup", "--node_name=startup0", "--listen=127.0.0.1:0",
            "--admin_listen=unix:" + root_ + "/admin.sock"};
  }
  std::string log_file() const { return root_ + "/optoutd.log"; }
  std::string ReadLog() const {
    std::ifstream in(log_file());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string root_;
};

// Starts `argv` with stdout and stderr into `log_file`; returns its pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_file) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &files, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&files);
  return pid;
}

// Waits for `pid` to exit until `deadline`; its exit status, or -1 (then
// it is killed and reaped).
int WaitForExit(pid_t pid, absl::Time deadline) {
  int status = 0;
  while (absl::Now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

TEST(ClusterStartupTest, ThreeReplicasOnAnUnclusteredNatsServerAreRefusedAtOnceNamingTheFlag) {
  NatsCluster nats(1);  // one JetStream server, not clustered
  ASSERT_TRUE(nats.StartAll().ok());
  NodeFolder folder;
  const pid_t pid = Spawn(folder.Flags(nats.Urls()), folder.log_file());
  ASSERT_GT(pid, 0);
  // It used to retry the stream's creation for a minute, then exit with
  // "JetStream error 10074" alone; 30 s leaves room for a loaded machine.
  const int exit_code = WaitForExit(pid, absl::Now() + absl::Seconds(30));
  const std::string log = folder.ReadLog();
  EXPECT_EQ(exit_code, 1) << log;
  EXPECT_THAT(log, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(log, HasSubstr("not clustered"));
  EXPECT_THAT(log, HasSubstr("--cluster_replicas=1"));
}

TEST(ClusterStartupTest, SigtermWhileWaitingForNatsStopsTheNodeCleanly) {
  NodeFolder folder;
  // Nobody listens there: the node keeps trying to connect for a minute.
  const std::string nowhere = absl::StrCat("nats://127.0.0.1:", FreeLoopbackPorts(1)[0]);
  const pid_t pid = Spawn(folder.Flags(nowhere), folder.log_file());
  ASSERT_GT(pid, 0);
  // Past the store's opening, into the wait for NATS.
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       absl::Now() < until && folder.ReadLog().find("loaded ") == std::string::npos;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  // The connect loop notices within a quarter second; the watcher's own
  // deadline (--shutdown_grace_seconds, 10 s) would end it otherwise, with 1.
  const int exit_code = WaitForExit(pid, absl::Now() + absl::Seconds(20));
  const std::string log = folder.ReadLog();
  EXPECT_EQ(exit_code, 0) << log;
  EXPECT_THAT(log, HasSubstr("received signal 15 during start-up"));
  EXPECT_THAT(log, HasSubstr("stopped by a signal while connecting to --cluster_nats"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("without closing the database")));
}

TEST(ClusterStartupTest, AWaitForNatsIsLoggedWithTheUrlsItTries) {
  NodeFolder folder;
  const std::string nowhere = absl::StrCat("nats://127.0.0.1:", FreeLoopbackPorts(1)[0]);
  const pid_t pid = Spawn(folder.Flags(nowhere), folder.log_file());
  ASSERT_GT(pid, 0);
  bool logged = false;
  for (const absl::Time until = absl::Now() + absl::Seconds(20); absl::Now() < until && !logged;) {
    logged = folder.ReadLog().find("waiting for NATS (--cluster_nats " + nowhere) !=
             std::string::npos;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitForExit(pid, absl::Now() + absl::Seconds(20)), 0);
  EXPECT_TRUE(logged) << folder.ReadLog();
}

}  // namespace
}  // namespace optout::testing
