#ifndef OPTOUT_SERVICE_TESTING_IN_MEMORY_REGISTRY_H_
#define OPTOUT_SERVICE_TESTING_IN_MEMORY_REGISTRY_H_

// A Registry over a RocksDB that lives in memory, for tests of the registry's
// own logic. Reopening keeps what was stored, as a restart of optoutd would,
// so tests can pin down what survives one.

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "client/common/url/public_suffix_list.h"
#include "rocksdb/env.h"
#include "service/keyring.h"
#include "service/registry.h"
#include "service/registry_secret.h"
#include "storage/opt_out_store.h"

namespace optout::service::testing {

// A secret of 32 equal bytes: tests that reopen with the same fill read
// their records back, a different fill is a different registry key.
SecretBytes FilledSecret(uint8_t fill);

class InMemoryRegistry {
 public:
  InMemoryRegistry();
  ~InMemoryRegistry();

  // Loads the public suffix list the registry canonicalizes with.
  absl::Status Init();

  // Closes the registry and the store, then opens the store again on the
  // same memory: for tests that read the store before the registry (keys).
  absl::Status ReopenStore();
  // Opens a registry on the open store (closing a previous one first).
  absl::Status OpenRegistry(Keyring keyring, const RegistryOptions& options);
  absl::Status OpenRegistry(KeySet keys, const RegistryOptions& options);
  // ReopenStore, then OpenRegistry with the keys derived from `secret`.
  absl::Status Reopen(const SecretBytes& secret, const RegistryOptions& options);
  // Closes the registry alone: the store stays open for tests to inspect.
  void CloseRegistry();
  // Closes the registry, then the store (the memory keeps their data).
  void Close();

  Registry* registry() const { return registry_.get(); }
  storage::OptOutStore* store() const { return store_.get(); }
  const url::PublicSuffixList& psl() const { return *psl_; }

 private:
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<url::PublicSuffixList> psl_;
  std::unique_ptr<storage::OptOutStore> store_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace optout::service::testing

#endif  // OPTOUT_SERVICE_TESTING_IN_MEMORY_REGISTRY_H_
