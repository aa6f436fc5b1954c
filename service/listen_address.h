// File: service/listen_address.h
//
// What optoutd can tell from its --listen address alone.
#ifndef OPTOUT_SERVICE_LISTEN_ADDRESS_H_
#define OPTOUT_SERVICE_LISTEN_ADDRESS_H_

#include "absl/strings/string_view.h"

namespace optout::service {

// True when only processes on this machine can connect: HOST:PORT whose host
// is "localhost", an IPv4 address in 127.0.0.0/8 or IPv6 ::1 (bracketed,
// also ::ffff:127.x.y.z), or a unix: / unix-abstract: socket. Everything
// else, including an empty host, 0.0.0.0, [::] and other host names, is
// reachable from the network.
bool IsLoopbackListenAddress(absl::string_view listen);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_LISTEN_ADDRESS_H_
