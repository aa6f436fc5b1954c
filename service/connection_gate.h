// File: service/connection_gate.h
//
// ConnectionGate enforces --max_connections (issue 9, finding 4). gRPC 1.51
// has no such limit, and once accept() fails with EMFILE its listener stops
// for good, even after descriptors free up. The gate sees every accepted
// socket first (a gRPC socket mutator) and refuses the ones past the limit
// by shutting them down, so gRPC closes them at once and the process never
// runs out of descriptors.
//
// The count is the descriptor number itself: Linux hands out the lowest free
// number, so an accepted socket numbered at or above `fd_ceiling` means at
// least that many descriptors are open. fd_ceiling = descriptors open at
// start + max_connections; the reserve above it (see descriptor_limit.h)
// absorbs database files and sockets being refused.
//
// gRPC accepts in a loop on one poller thread, so a refused socket that gRPC
// itself must close is only closed after that loop ends; a backlog of
// thousands of connections would use up the reserve first. When the gate
// refuses, it therefore empties the listening socket's backlog itself
// (accept + close at once, on the same thread) and leaves only the one
// socket in hand for gRPC to close. Nothing waits, so a new client that
// arrives after a flood is served as soon as descriptors are free.
//
// gRPC adapter only; the gate must outlive the server (it is reference
// counted by gRPC through the channel argument).
#ifndef OPTOUT_SERVICE_CONNECTION_GATE_H_
#define OPTOUT_SERVICE_CONNECTION_GATE_H_

#include <memory>

#include "grpcpp/server_builder.h"

namespace optout::service {

// Installs the gate on `builder`: sockets accepted at descriptor number
// `fd_ceiling` or above are refused.
void InstallConnectionGate(grpc::ServerBuilder* builder, int fd_ceiling);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CONNECTION_GATE_H_
