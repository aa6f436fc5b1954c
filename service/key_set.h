// File: service/key_set.h
//
// The keyrings a registry uses at one moment: `current` for every new write
// and every lookup, and, while a key rotation runs, `previous`, the version
// its not yet re-keyed records still use (lookups try both). Immutable once
// built; the registry swaps whole sets, and a reader keeps the set it took.
#ifndef OPTOUT_SERVICE_KEY_SET_H_
#define OPTOUT_SERVICE_KEY_SET_H_

#include <cstdint>
#include <memory>

#include "service/keyring.h"

namespace optout::service {

struct KeySet {
  std::shared_ptr<const Keyring> current;
  std::shared_ptr<const Keyring> previous;  // null unless a rotation runs

  // The keyring of records of `version`; nullptr when neither is.
  const Keyring* ForVersion(uint32_t version) const {
    if (current != nullptr && current->version() == version) return current.get();
    if (previous != nullptr && previous->version() == version) return previous.get();
    return nullptr;
  }
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_KEY_SET_H_
