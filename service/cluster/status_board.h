// File: service/cluster/status_board.h
//
// StatusBoard: a small status every node of a cluster shares with the
// others (e.g. how far its key rotation got), over core NATS on the
// subject optout.status.<stream>, not on the stream: it is news, not
// history. Each node publishes its part about every second; a node that
// restarts learns the others' within a second or so.
//
// Thread-safety: thread-safe. `connection` must outlive the board.
#ifndef OPTOUT_SERVICE_CLUSTER_STATUS_BOARD_H_
#define OPTOUT_SERVICE_CLUSTER_STATUS_BOARD_H_

#include <nats/nats.h>

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "service/mutation_log.h"

namespace optout::service::cluster {

class StatusBoard final {
 public:
  // Subscribes at once (what peers publish from then on is kept).
  StatusBoard(natsConnection* connection, const std::string& stream, std::string node_name);
  ~StatusBoard();  // stops publishing and unsubscribes
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // This node's part, asked for every second from the board's own thread;
  // nullptr stops sharing. Returns once the source it replaces is no
  // longer called.
  void Share(std::function<std::string()> source);
  // Every node's last part, by node name (this node's included).
  std::vector<NodeStatus> Statuses() const;

 private:
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  void Publish();

  natsConnection* const connection_;
  const std::string subject_;
  const std::string node_name_;
  natsSubscription* subscription_ = nullptr;
  // Held while the source is asked, so that Share returns only once no
  // call of the source it replaces is running.
  absl::Mutex publish_mu_;
  mutable absl::Mutex mu_;
  std::function<std::string()> source_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, NodeStatus> statuses_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread publisher_;
};

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_STATUS_BOARD_H_
