// File: service/descriptor_limit.h
//
// File descriptors are what idle connections exhaust (issue 9, finding 4):
// optoutd raises its soft RLIMIT_NOFILE to the hard limit at start and
// derives the default --max_connections from it, keeping a reserve for the
// database and for refusing connections.
#ifndef OPTOUT_SERVICE_DESCRIPTOR_LIMIT_H_
#define OPTOUT_SERVICE_DESCRIPTOR_LIMIT_H_

#include "absl/status/statusor.h"

namespace optout::service {

// Descriptors kept out of --max_connections: RocksDB files, gRPC's own,
// connections being refused. At least kMinDescriptorReserve, else 1/8th.
constexpr int kMinDescriptorReserve = 64;

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
int RaiseDescriptorLimit();

// The descriptor number the next open() would get: with Linux's
// lowest-free-number rule, this many descriptors (at least) are open.
int LowestFreeDescriptor();

// Default --max_connections for `limit` descriptors with `in_use` open.
int DefaultMaxConnections(int limit, int in_use);

// InvalidArgument naming --max_connections when `max_connections` plus the
// reserve does not fit in `limit` descriptors.
absl::Status CheckMaxConnections(int max_connections, int limit, int in_use);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_DESCRIPTOR_LIMIT_H_
