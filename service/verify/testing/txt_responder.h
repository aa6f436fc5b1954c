// File: service/verify/testing/txt_responder.h
//
// A tiny authoritative DNS server on 127.0.0.1 for tests: answers TXT
// questions from a table the test edits, NXDOMAIN for other names, or
// nothing at all when told to stay silent (a slow server).
//
// Thread-safety: Set/Remove/set_silent may be called while it serves.
#ifndef OPTOUT_SERVICE_VERIFY_TESTING_TXT_RESPONDER_H_
#define OPTOUT_SERVICE_VERIFY_TESTING_TXT_RESPONDER_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace optout::verify::testing {

class TxtResponder final {
 public:
  // Binds a free UDP port on 127.0.0.1 and starts serving.
  TxtResponder();
  ~TxtResponder();
  TxtResponder(const TxtResponder&) = delete;
  TxtResponder& operator=(const TxtResponder&) = delete;

  // "127.0.0.1:PORT".
  std::string address() const;
  // Names are compared case-insensitively, without a trailing dot.
  void Set(const std::string& name, std::vector<std::string> values);
  void Remove(const std::string& name);
  void set_silent(bool silent) { silent_ = silent; }
  int queries() const { return queries_; }

 private:
  void Serve();
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<int> queries_{0};
  absl::Mutex mu_;
  std::map<std::string, std::vector<std::string>> records_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace optout::verify::testing

#endif  // OPTOUT_SERVICE_VERIFY_TESTING_TXT_RESPONDER_H_
