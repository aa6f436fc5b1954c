#include "client/common/protocol/packed_items.h"

namespace optout::protocol {

size_t PackedItemBytes(const v1::PackedItems& packed) {
  switch (packed.kind()) {
    case v1::PackedItems::KIND_MD5:
      return kMd5Bytes;
    case v1::PackedItems::KIND_PDQ:
      return packed.pdq_dihedral() ? kPdqDihedralItemBytes : kPdqBytes;
    case v1::PackedItems::KIND_SHA256:
      return kSha256Bytes;
    default:
      return kUrlDigestBytes;
  }
}

size_t PackedItemCount(const v1::PackedItems& packed) {
  if ((packed.kind() == v1::PackedItems::KIND_URL_DIGESTS ||
       packed.kind() == v1::PackedItems::KIND_PDQ) &&
      packed.counts_size() > 0) {
    return packed.counts_size();
  }
  return packed.data().size() / PackedItemBytes(packed);
}

}  // namespace optout::protocol
