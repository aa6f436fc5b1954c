// File: service/cluster/internal/subscription_reaper.h
//
// SubscriptionReaper drops libnats subscriptions without freeing one that
// the connection's read loop may still be using. libnats 3.4.1 (Debian 12)
// finds an incoming message's subscription under the connection's lock,
// then releases the lock and goes on using the subscription without a
// reference (nats.c issue 637, fixed in 3.6.1). natsSubscription_Destroy
// of a subscription whose messages are arriving could therefore free it
// under the read loop, which then locked a freed mutex and queued the
// message on freed memory: the heap corruption seen when a delivering
// consumer was only destroyed. Here a dropped subscription is removed from
// its connection first, and freed only after a flush round trip (the read
// loop answers it after any message it was handling) or after the
// connection was closed (its read loop joined).
//
// Thread-safety: not thread-safe; one thread drops and reaps.
#ifndef OPTOUT_SERVICE_CLUSTER_INTERNAL_SUBSCRIPTION_REAPER_H_
#define OPTOUT_SERVICE_CLUSTER_INTERNAL_SUBSCRIPTION_REAPER_H_

#include <nats/nats.h>

#include <cstdint>
#include <vector>

namespace optout::service::cluster {

class SubscriptionReaper final {
 public:
  // `connection` must outlive the reaper; every subscription dropped here
  // must be one of its subscriptions.
  explicit SubscriptionReaper(natsConnection* connection) : connection_(connection) {}
  // Frees what is still held. Destroy the reaper only after
  // natsConnection_Close(connection) (which joins the read loop).
  ~SubscriptionReaper();
  SubscriptionReaper(const SubscriptionReaper&) = delete;
  SubscriptionReaper& operator=(const SubscriptionReaper&) = delete;

  // Takes ownership of `subscription` (nullptr: nothing to do) and
  // unsubscribes it. For a JetStream subscription whose consumer the
  // library made, that also deletes the consumer on the server, a request
  // that waits at most the default wait of the jsCtx it was made with.
  // Then reaps with `flush_wait_ms`.
  void Drop(natsSubscription* subscription, int64_t flush_wait_ms);

  // Frees the dropped subscriptions if a flush round trip succeeds within
  // `flush_wait_ms` (it cannot while the connection is down: they are kept
  // for a later call).
  void Reap(int64_t flush_wait_ms);

  // Dropped, not yet freed.
  size_t held() const { return dropped_.size(); }

 private:
  natsConnection* const connection_;
  std::vector<natsSubscription*> dropped_;
};

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_INTERNAL_SUBSCRIPTION_REAPER_H_
