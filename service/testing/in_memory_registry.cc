#include "service/testing/in_memory_registry.h"

#include <utility>

#include "client/common/base/status_macros.h"

namespace optout::service::testing {

SecretBytes FilledSecret(uint8_t fill) {
  SecretBytes secret{};
  secret.fill(fill);
  return secret;
}

InMemoryRegistry::InMemoryRegistry() : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {}

InMemoryRegistry::~InMemoryRegistry() { Close(); }

absl::Status InMemoryRegistry::Init() {
  OPTOUT_ASSIGN_OR_RETURN(psl_, url::PublicSuffixList::Load());
  return absl::OkStatus();
}

absl::Status InMemoryRegistry::ReopenStore() {
  Close();
  storage::StoreOptions options;
  options.env = env_.get();
  OPTOUT_ASSIGN_OR_RETURN(store_, storage::OptOutStore::Open("/mem/db", options));
  return absl::OkStatus();
}

absl::Status InMemoryRegistry::OpenRegistry(Keyring keyring, const RegistryOptions& options) {
  CloseRegistry();
  OPTOUT_ASSIGN_OR_RETURN(registry_,
                          Registry::Open(store_.get(), std::move(keyring), psl_.get(), options));
  return absl::OkStatus();
}

absl::Status InMemoryRegistry::OpenRegistry(KeySet keys, const RegistryOptions& options) {
  CloseRegistry();
  OPTOUT_ASSIGN_OR_RETURN(registry_,
                          Registry::Open(store_.get(), std::move(keys), psl_.get(), options));
  return absl::OkStatus();
}

absl::Status InMemoryRegistry::Reopen(const SecretBytes& secret, const RegistryOptions& options) {
  OPTOUT_RETURN_IF_ERROR(ReopenStore());
  OPTOUT_ASSIGN_OR_RETURN(Keyring keyring, Keyring::Derive(secret));
  return OpenRegistry(std::move(keyring), options);
}

void InMemoryRegistry::CloseRegistry() { registry_.reset(); }

void InMemoryRegistry::Close() {
  CloseRegistry();
  store_.reset();
}

}  // namespace optout::service::testing
