// File: tests/e2e/child_processes.h
//
// A process-wide list of the server processes a test started (optoutd,
// nats-server), so that a watchdog can kill them all when a test overruns:
// a test that hangs would otherwise leave servers running after it is gone,
// holding ports and ctest's output pipe. Lock-free (a fixed table of
// atomics), so KillAllChildren works from any thread at any moment.
#ifndef OPTOUT_TESTS_E2E_CHILD_PROCESSES_H_
#define OPTOUT_TESTS_E2E_CHILD_PROCESSES_H_

#include <sys/types.h>

#include "absl/time/time.h"

namespace optout::testing {

void RememberChild(pid_t pid);
void ForgetChild(pid_t pid);
// SIGKILLs every remembered child (without reaping).
void KillAllChildren();

// Starts a thread that, unless the returned guard is destroyed first,
// prints `what` overran `limit`, kills every child and exits the test
// process with status 1: a bounded test stays bounded even if a wait inside
// it is not.
class Watchdog final {
 public:
  Watchdog(const char* what, absl::Duration limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // What the test is doing now (a string literal), printed if it overruns.
  void Phase(const char* phase);

 private:
  struct State;
  State* state_;
};

}  // namespace optout::testing

#endif  // OPTOUT_TESTS_E2E_CHILD_PROCESSES_H_
