// File: service/token_bucket.h
//
// TokenBucket: `capacity` tokens that refill evenly over `period` (so a full
// budget per period, taken at once or spread out). Budgets of several buckets
// are checked with WaitFor on each before any of them is charged with Take,
// so a refused call costs nothing. Time comes from the caller (tests pass a
// fake clock). Not thread-safe: the owner locks.
#ifndef OPTOUT_SERVICE_TOKEN_BUCKET_H_
#define OPTOUT_SERVICE_TOKEN_BUCKET_H_

#include "absl/time/time.h"

namespace optout::service {

class TokenBucket final {
 public:
  // Starts full.
  TokenBucket(double capacity, absl::Duration period, absl::Time now)
      : capacity_(capacity), period_(period), tokens_(capacity), updated_(now) {}

  // How long until `n` tokens are there: zero when they are now,
  // absl::InfiniteDuration() when `n` exceeds the capacity.
  absl::Duration WaitFor(double n, absl::Time now);
  // Removes `n` tokens; call after WaitFor(n, now) returned zero.
  void Take(double n) { tokens_ -= n; }
  // True when full again (a forgotten bucket would be the same).
  bool Full(absl::Time now);

  double capacity() const { return capacity_; }
  absl::Duration period() const { return period_; }

 private:
  void Refill(absl::Time now);

  double capacity_;
  absl::Duration period_;
  double tokens_;
  absl::Time updated_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_TOKEN_BUCKET_H_
