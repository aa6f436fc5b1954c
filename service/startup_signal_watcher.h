// File: service/startup_signal_watcher.h
//
// optoutd takes SIGTERM / SIGINT with sigwait once it serves, but start-up
// can take minutes: waiting for NATS or a JetStream leader, catching up
// with the stream, re-keying after a rotation, loading a large index. An
// operator's Ctrl-C or a supervisor's SIGTERM then went unanswered until
// start-up ended. The watcher takes those signals while Server::Start
// runs: it raises stop_requested(), which the cluster's start-up waits
// check, and if start-up has not returned `grace` later it ends the
// process without a clean close (like a crash: RocksDB recovers from its
// write-ahead log at the next start).
#ifndef OPTOUT_SERVICE_STARTUP_SIGNAL_WATCHER_H_
#define OPTOUT_SERVICE_STARTUP_SIGNAL_WATCHER_H_

#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace optout::service {

class StartupSignalWatcher final {
 public:
  // `signals` must already be blocked in every thread (pthread_sigmask);
  // SIGHUP among them is logged and ignored until start-up ends.
  StartupSignalWatcher(const sigset_t& signals, absl::Duration grace);
  ~StartupSignalWatcher();  // Finish()
  StartupSignalWatcher(const StartupSignalWatcher&) = delete;
  StartupSignalWatcher& operator=(const StartupSignalWatcher&) = delete;

  // Set once a stopping signal arrived; start-up waits give up on it.
  const std::atomic<bool>* stop_requested() const { return &stop_requested_; }

  // Start-up returned: stops watching (signals from now on stay pending
  // for the caller's sigwait). Returns the stopping signal that arrived
  // during start-up, 0 if none.
  int Finish();

 private:
  void Watch();

  sigset_t signals_;
  absl::Duration grace_;
  std::atomic<bool> stop_requested_{false};
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int stopping_signal_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_STARTUP_SIGNAL_WATCHER_H_
