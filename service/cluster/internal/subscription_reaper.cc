#include "service/cluster/internal/subscription_reaper.h"

namespace optout::service::cluster {

SubscriptionReaper::~SubscriptionReaper() {
  for (natsSubscription* subscription : dropped_) natsSubscription_Destroy(subscription);
}

void SubscriptionReaper::Drop(natsSubscription* subscription, int64_t flush_wait_ms) {
  if (subscription == nullptr) return;
  // Removes it from the connection's table, so the read loop no longer
  // finds it for messages that arrive from now on. An error means it was
  // already removed (the connection closed, or it was unsubscribed).
  (void)natsSubscription_Unsubscribe(subscription);
  dropped_.push_back(subscription);
  Reap(flush_wait_ms);
}

void SubscriptionReaper::Reap(int64_t flush_wait_ms) {
  if (dropped_.empty()) return;
  // The read loop handles one message at a time, in order: the PONG to a
  // PING sent after the removals above comes after any message it was
  // handing to one of them, so none is in its hands any more.
  if (natsConnection_FlushTimeout(connection_, flush_wait_ms) != NATS_OK) return;
  for (natsSubscription* subscription : dropped_) natsSubscription_Destroy(subscription);
  dropped_.clear();
}

}  // namespace optout::service::cluster
