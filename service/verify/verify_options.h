// File: service/verify/verify_options.h
//
// How optoutd checks scope challenges: bounds on time and memory, and the
// test-only redirections (--verify_resolve, --verify_dns, --verify_ca) that
// point the checks at servers on 127.0.0.1.
#ifndef OPTOUT_SERVICE_VERIFY_VERIFY_OPTIONS_H_
#define OPTOUT_SERVICE_VERIFY_VERIFY_OPTIONS_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/time/time.h"

namespace optout::verify {

struct VerifyOptions {
  // Whole-check bound for one method on one host (connect, TLS, redirects,
  // body; or every DNS attempt). Default: 5 s.
  absl::Duration timeout = absl::Seconds(5);
  // The challenge file holds a 32-character token; larger bodies are
  // refused as soon as they pass this. Default: 1024 bytes.
  size_t max_body_bytes = 1024;
  // Same-host redirects followed per HTTPS check. Default: 3.
  int max_redirects = 3;
  // Test only: host -> "127.0.0.1:PORT" to connect to instead of HOST:443.
  std::map<std::string, std::string> resolve;
  // Test only: DNS server "IP:PORT" for TXT queries. Empty: the first
  // nameserver of /etc/resolv.conf, port 53.
  std::string dns_server;
  // Test only: PEM CA file trusted for challenge servers instead of the
  // system store.
  std::string ca_file;
  // Loopback, private and link-local addresses are refused unless set (only
  // --testing sets it), so a registrant cannot make optoutd probe the
  // operator's own network.
  bool allow_private_addresses = false;
};

}  // namespace optout::verify

#endif  // OPTOUT_SERVICE_VERIFY_VERIFY_OPTIONS_H_
