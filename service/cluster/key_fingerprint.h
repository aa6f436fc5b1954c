// File: service/cluster/key_fingerprint.h
//
// A public fingerprint of a node's keys: nodes of one cluster must share the
// registry secret (a record sealed on one node is opened on every other), so
// the stream carries the fingerprint of the keys that wrote it and a node
// with other keys refuses to join. It reveals nothing of the keys: each key
// MACs a fixed label, and the fingerprint is a hash of those MACs.
#ifndef OPTOUT_SERVICE_CLUSTER_KEY_FINGERPRINT_H_
#define OPTOUT_SERVICE_CLUSTER_KEY_FINGERPRINT_H_

#include <string>

#include "service/keyring.h"

namespace optout::service::cluster {

// 32 lower-case hex digits.
std::string KeyFingerprint(const Keyring& keyring);

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_KEY_FINGERPRINT_H_
