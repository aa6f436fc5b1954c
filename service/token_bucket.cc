#include "service/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace optout::service {

void TokenBucket::Refill(absl::Time now) {
  if (now <= updated_) return;  // a clock step back refills nothing
  const double refilled = absl::FDivDuration(now - updated_, period_) * capacity_;
  tokens_ = std::min(capacity_, tokens_ + refilled);
  updated_ = now;
}

absl::Duration TokenBucket::WaitFor(double n, absl::Time now) {
  Refill(now);
  if (n > capacity_) return absl::InfiniteDuration();
  if (tokens_ >= n) return absl::ZeroDuration();
  // Whole seconds, rounded up: after that long the tokens are surely there.
  const double seconds = (n - tokens_) / capacity_ * absl::ToDoubleSeconds(period_);
  return absl::Seconds(std::max(1.0, std::ceil(seconds)));
}

bool TokenBucket::Full(absl::Time now) {
  Refill(now);
  return tokens_ >= capacity_;
}

}  // namespace optout::service
