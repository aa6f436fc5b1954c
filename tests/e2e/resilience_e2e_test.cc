// Issue 18 items 4-6 against a real optoutd: a taken port refuses a second
// server, a stopped server cannot hang the client, and `check --stdin`
// survives a server restart (SIGKILL or SIGTERM) mid-stream without losing,
// repeating or reordering a line.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/scope_prover.h"
#include "tests/e2e/test_files.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::OptoutCliBinary;
using testing::OptoutdBinary;
using testing::RunCommand;

// A child process whose stdin and stdout are pipes held by the test, so the
// test can feed lines and read answers while it restarts the server.
class Piped {
 public:
  explicit Piped(std::vector<std::string> argv, const std::string& err_path) {
    int in[2], out[2];
    // Close-on-exec, so that processes forked later (a restarted optoutd)
    // do not hold the input open.
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  ~Piped() {
    CloseInput();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }

  void Write(const std::string& text) {
    ASSERT_EQ(::write(in_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void CloseInput() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  // Reads until `n` complete lines arrived in all, or `timeout` passed.
  std::vector<std::string> ReadLines(size_t n, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::vector<std::string> lines;
    while (lines.size() < n && absl::Now() < deadline) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        lines.push_back(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
        continue;
      }
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[65536];
      const ssize_t got = ::read(out_, chunk, sizeof(chunk));
      if (got <= 0) break;
      buffer_.append(chunk, static_cast<size_t>(got));
    }
    return lines;
  }
  // Exit status, or -1 if the child is still running after `timeout`.
  int Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
};

using testing::ReadFile;

class ResilienceE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()) << server_.ReadLog(); }
  void TearDown() override { server_.Signal(SIGCONT); }
  std::vector<std::string> Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {OptoutCliBinary(), "--server", server_.address()});
    return args;
  }
  testing::ScopeProver prover_;
  testing::OptoutdProcess server_{prover_.ServerFlags()};
};

TEST_F(ResilienceE2eTest, SecondServerOnATakenPortRefusesToStart) {
  // Another data folder on the same port: before, both started and the
  // kernel split the checks between two registries.
  const std::string other = server_.root() + "/other";
  auto second = RunCommand({"/usr/bin/timeout", "30", OptoutdBinary(),
                            "--listen=" + server_.address(), "--data_dir=" + other,
                            "--secret_file=" + other + ".secret"});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_THAT(second.err, HasSubstr("cannot listen on " + server_.address()));
  EXPECT_THAT(second.err, HasSubstr("in use"));
  // The first one still answers.
  auto check = RunCommand(Cli({"check", "--url", "https://a.example/x"}));
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST_F(ResilienceE2eTest, StoppedServerFailsChecksWithinTheTimeoutInsteadOfHanging) {
  server_.Signal(SIGSTOP);
  const absl::Time start = absl::Now();
  auto one = RunCommand({"/usr/bin/timeout", "60", OptoutCliBinary(), "--server",
                         server_.address(), "--timeout", "2s", "check", "--url",
                         "https://a.example/x"});
  // The connection never completes (no SETTINGS frame) or the call times out.
  EXPECT_EQ(one.exit_code, 1) << one.err;
  EXPECT_THAT(one.err, ::testing::ContainsRegex("DEADLINE_EXCEEDED|UNAVAILABLE"));

  auto streamed = RunCommand({"/usr/bin/timeout", "60", OptoutCliBinary(), "--server",
                              server_.address(), "--timeout", "2s", "check", "--stdin",
                              "--retry-for", "0"},
                             "https://a.example/x\n");
  EXPECT_EQ(streamed.exit_code, 1) << streamed.err;
  EXPECT_THAT(streamed.err, ::testing::ContainsRegex("DEADLINE_EXCEEDED|UNAVAILABLE"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

TEST_F(ResilienceE2eTest, StreamThatLosesAnAnswerGivesUpAfterRetryForAndSaysHowFarItGot) {
  Piped check(Cli({"--timeout", "1s", "check", "--stdin", "--retry-for", "2s"}),
              server_.root() + "/err");
  check.Write("https://a.example/1\nhttps://a.example/2\n");
  EXPECT_EQ(check.ReadLines(2, absl::Seconds(30)).size(), 2u);
  server_.Kill();
  check.Write("https://a.example/3\n");
  check.CloseInput();
  EXPECT_EQ(check.Wait(absl::Seconds(30)), 1);
  const std::string err = ReadFile(server_.root() + "/err");
  EXPECT_THAT(err, HasSubstr("reconnecting"));
  EXPECT_THAT(err, HasSubstr("2 lines were answered"));
}

// Line i: a scope match, a clear URL or a line that is not a URL.
std::string Line(int i) {
  switch (i % 3) {
    case 0: return absl::StrCat("https://opted.example/p/", i);
    case 1: return absl::StrCat("https://clear.example/p/", i);
    default: return absl::StrCat("not a url ", i);
  }
}

std::string Lines(int begin, int end) {
  std::string text;
  for (int i = begin; i < end; ++i) absl::StrAppend(&text, Line(i), "\n");
  return text;
}

class RestartMidStreamTest : public ResilienceE2eTest,
                             public ::testing::WithParamInterface<bool> {};

TEST_P(RestartMidStreamTest, StdinResumesWithEveryLineAnsweredOnceInOrder) {
  const bool graceful = GetParam();
  auto reg = RunCommand(Cli({"register", "--json", "--scope", "https://opted.example/", "--receipt",
                             server_.root() + "/receipt.json"}));
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  ASSERT_TRUE(prover_.ProveWithCli({"--server", server_.address()}, nlohmann::json::parse(reg.out))
                  .ok());

  constexpr int kPhase = 400;
  Piped check(Cli({"check", "--stdin", "--retry-for", "60s"}), server_.root() + "/err");
  check.Write(Lines(0, kPhase));
  std::vector<std::string> out = check.ReadLines(kPhase, absl::Seconds(30));
  ASSERT_EQ(out.size(), static_cast<size_t>(kPhase));

  // Lines sent while the server is down wait, then go to the new server.
  if (graceful) {
    ASSERT_TRUE(server_.Stop().ok());
  } else {
    server_.Kill();
  }
  check.Write(Lines(kPhase, 2 * kPhase));
  absl::SleepFor(absl::Milliseconds(700));
  ASSERT_TRUE(server_.Start(/*same_port=*/true).ok()) << server_.ReadLog();
  check.Write(Lines(2 * kPhase, 3 * kPhase));
  check.CloseInput();
  for (const std::string& line : check.ReadLines(2 * kPhase, absl::Seconds(60))) {
    out.push_back(line);
  }
  // Some lines were not URLs, so the exit status says not everything was checked.
  EXPECT_EQ(check.Wait(absl::Seconds(30)), 2);
  const std::string err = ReadFile(server_.root() + "/err");
  EXPECT_THAT(err, HasSubstr("reconnecting"));

  ASSERT_EQ(out.size(), static_cast<size_t>(3 * kPhase)) << err;
  for (int i = 0; i < 3 * kPhase; ++i) {
    const auto j = nlohmann::json::parse(out[i]);
    ASSERT_EQ(j["url"], Line(i)) << "line " << i;
    switch (i % 3) {
      case 0: EXPECT_EQ(j["match"], "scope") << i; break;
      case 1: EXPECT_EQ(j["matched"], false) << i; break;
      default:
        EXPECT_TRUE(j["matched"].is_null()) << i;
        EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("NOT_A_HOST_NAME")) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(KillOrStop, RestartMidStreamTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Graceful" : "Sigkill"; });

}  // namespace
}  // namespace optout
