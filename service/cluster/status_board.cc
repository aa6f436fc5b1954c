#include "service/cluster/status_board.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace optout::service::cluster {
namespace {

// Nodes beyond this many are not kept (names come from the network).
constexpr size_t kMaxNodes = 64;
constexpr absl::Duration kEvery = absl::Seconds(1);

}  // namespace

StatusBoard::StatusBoard(natsConnection* connection, const std::string& stream,
                         std::string node_name)
    : connection_(connection),
      subject_(absl::StrCat("optout.status.", stream)),
      node_name_(std::move(node_name)) {
  if (natsConnection_Subscribe(&subscription_, connection_, subject_.c_str(), &OnMessage, this) !=
      NATS_OK) {
    subscription_ = nullptr;  // only the peers' parts are missing then
  }
  publisher_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(kEvery)) Publish();
  });
}

StatusBoard::~StatusBoard() {
  stop_.Notify();
  publisher_.join();
  if (subscription_ != nullptr) {
    // Waits for a callback in progress, so none runs on a destroyed board.
    if (natsSubscription_Drain(subscription_) == NATS_OK) {
      natsSubscription_WaitForDrainCompletion(subscription_, 2000);
    }
    natsSubscription_Destroy(subscription_);
  }
}

void StatusBoard::Share(std::function<std::string()> source) {
  {
    absl::MutexLock publishing(&publish_mu_);
    absl::MutexLock lock(&mu_);
    source_ = std::move(source);
  }
  Publish();
}

std::vector<NodeStatus> StatusBoard::Statuses() const {
  absl::MutexLock lock(&mu_);
  std::vector<NodeStatus> out;
  for (const auto& [name, status] : statuses_) out.push_back(status);
  return out;
}

void StatusBoard::Publish() {
  absl::MutexLock publishing(&publish_mu_);
  std::function<std::string()> source;
  {
    absl::MutexLock lock(&mu_);
    source = source_;
  }
  if (!source) return;
  const std::string part = source();
  {
    absl::MutexLock lock(&mu_);
    statuses_[node_name_] = NodeStatus{node_name_, part, absl::Now()};
  }
  // "name\npart"; a name has no newline (--node_name).
  const std::string message = absl::StrCat(node_name_, "\n", part);
  natsConnection_Publish(connection_, subject_.c_str(), message.data(),
                         static_cast<int>(message.size()));
}

void StatusBoard::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* board = static_cast<StatusBoard*>(closure);
  const std::string data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  const size_t newline = data.find('\n');
  if (newline == std::string::npos || newline == 0) return;
  std::string name = data.substr(0, newline);
  if (name == board->node_name_) return;  // its own, kept as published
  absl::MutexLock lock(&board->mu_);
  if (board->statuses_.size() >= kMaxNodes && board->statuses_.count(name) == 0) return;
  board->statuses_[name] = NodeStatus{name, data.substr(newline + 1), absl::Now()};
}

}  // namespace optout::service::cluster
