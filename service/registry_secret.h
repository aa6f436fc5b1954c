// File: service/registry_secret.h
//
// The registry secret: 32 random bytes in a file outside the database, from
// which every purpose key is derived. Losing it makes the stored data
// unmatchable; leaking it lets a thief test guesses against the store.
#ifndef OPTOUT_SERVICE_REGISTRY_SECRET_H_
#define OPTOUT_SERVICE_REGISTRY_SECRET_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace optout::service {

using SecretBytes = std::array<uint8_t, 32>;

// Reads the secret at `path`, or creates it (mode 0600, 32 bytes from the
// OS CSPRNG, written to a temp file and renamed so a crash never leaves a
// short secret) when the file does not exist.
// Errors: FailedPrecondition if the file is readable or writable by group or
// others, or is not exactly 32 bytes; Unavailable on I/O errors.
absl::StatusOr<SecretBytes> LoadOrCreateRegistrySecret(const std::string& path);

// Reads an existing secret file with the same checks; never creates one.
absl::StatusOr<SecretBytes> ReadRegistrySecret(const std::string& path);

// Where the secret lives when --secret_file is not given: in a config folder
// apart from the data, so that a copy of the data folder (or of its parent)
// never carries the key that opens it: $XDG_CONFIG_HOME/optoutd/registry.secret,
// else $HOME/.config/optoutd/registry.secret (the folder is created, 0700).
// FailedPrecondition when neither variable is set, or when the old default
// <data_dir>.secret exists: then --secret_file must name it explicitly (a
// fresh secret would make every stored opt-out unreadable).
absl::StatusOr<std::string> DefaultRegistrySecretPath(const std::string& data_dir);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_REGISTRY_SECRET_H_
