#include "service/cluster/key_fingerprint.h"

#include "client/common/digest/digest.h"

namespace optout::service::cluster {

std::string KeyFingerprint(const Keyring& keyring) {
  constexpr absl::string_view kLabel = "optout-registry cluster key fingerprint v1";
  std::string macs;
  for (const HmacSha256* key : {&keyring.url_key(), &keyring.file_key(), &keyring.request_key(),
                                &keyring.api_key_key(), &keyring.match_id_key()}) {
    const Mac32 mac = key->Mac(kLabel);
    macs.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  }
  // The record cipher has no MAC; sealing is randomized, so its key is
  // covered by the others (all derive from the one secret).
  const digest::Sha256Digest d = digest::Sha256(macs);
  return digest::ToHex(absl::string_view(reinterpret_cast<const char*>(d.data()), 16));
}

}  // namespace optout::service::cluster
