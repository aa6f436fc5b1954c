// File: client/common/receipt/items_digest.h
//
// ItemsDigest: the SHA-256 combination of exactly the items of the check
// requests fed to it, which optoutd computes over what it answered in a
// check session and a client over what it sent, so that a receipt binds
// the registry's signature to the rows of a dataset.
//
// Definition (version 1). Items are sorted into seven streams by kind,
// each a running SHA-256 in the order the items were fed:
//   url          the 32-byte expression digests of each URL item, exact first
//   url_counts   the number of digests of each URL item, u32 little-endian
//   sha256, md5  the file digests
//   pdq          each PDQ item's 32-byte hash
//   pdq_variants per PDQ item: u8 variant count (| 0x80 for a low-quality
//                item: a packed one flagged in pdq_low_quality, a typed one
//                whose quality is below the registry's min_pdq_quality),
//                u8 region count (| 0x80 when the regions carry their own
//                tiers: PdqHash.region_quality, a packed group's
//                pdq_region_low_quality), then the variants and regions (32
//                bytes each; packed regions are the `counts` of a KIND_PDQ
//                group), then with own tiers one bit per region, set for a
//                low-quality one, in (regions + 7) / 8 bytes; a typed item
//                with PdqHash.region_mirrors sets 0x40 in the region count
//                and its mirrors (32 bytes each, in region order) follow
//                the regions (items without them feed what they always did)
//   url_text     per typed URL string: u32 LE length, then its bytes
// Each stream is hashed as four interleaved SHA-256 lanes
// (interleaved_sha256.h: the hash of the stream's bytes, made four
// compressions at a time), and the digest is
// SHA-256("optout-items-digest-v2" || for each stream in that order: u64 LE
// byte count || its 32-byte InterleavedSha256). (v1, before, hashed each
// stream as one running SHA-256: the same items bound, at ~1.7x the CPU;
// receipts made under v1 do not verify with v2 code.) Typed and packed forms
// of the same items feed the same bytes, and since each stream is a plain
// concatenation, the digest does not depend on how items were split into
// batches, only on their order within each kind: a verifier recomputes it
// from the dataset without knowing the batch sizes of the run.
//
// Parallel streams of one session are parts (`optout-session-part`), each
// with its own ItemsDigest; CombineParts folds them in part-number order,
// so the session digest does not depend on which part's batches arrived
// first. Within a part, batches are fed in answer order (one stream at a
// time per part).
//
// Cost: one SHA-256 pass over the bytes sent (about 290 bytes per dataset
// row with 8 URL digests and an MD5), four compressions at a time.
// Thread-compatible.
#ifndef OPTOUT_CLIENT_COMMON_RECEIPT_ITEMS_DIGEST_H_
#define OPTOUT_CLIENT_COMMON_RECEIPT_ITEMS_DIGEST_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "optout/v1/optout.pb.h"

namespace optout::receipt {

using Digest32 = std::array<uint8_t, 32>;

// Items fed so far, by kind (a URL item counts once, whatever its number of
// expressions; typed URL strings count as URL items).
struct ItemCounts {
  uint64_t url = 0;
  uint64_t pdq = 0;
  uint64_t sha256 = 0;
  uint64_t md5 = 0;
  uint64_t total() const { return url + pdq + sha256 + md5; }
  ItemCounts& operator+=(const ItemCounts& o) {
    url += o.url, pdq += o.pdq, sha256 += o.sha256, md5 += o.md5;
    return *this;
  }
  bool operator==(const ItemCounts& o) const {
    return url == o.url && pdq == o.pdq && sha256 == o.sha256 && md5 == o.md5;
  }
};

// Sees the bytes an ItemsDigest feeds its streams, call by call, in
// feeding order (`stream` 0..6 in the order listed above): the registry
// fingerprints each batch with it (service/batch_fingerprint.h).
class StreamBytesObserver {
 public:
  virtual ~StreamBytesObserver() = default;
  virtual void Feed(int stream, const void* data, size_t n) = 0;
};

class ItemsDigest final {
 public:
  // `min_pdq_quality`: the registry's (GetInfo's min_pdq_quality, as the
  // report's receipt_inputs record it). A typed PdqHash whose quality is
  // below it is low-quality (the registry answers it in its low-quality
  // tier), fed like a packed item flagged in pdq_low_quality. 0: no typed
  // item is low-quality.
  explicit ItemsDigest(int min_pdq_quality = 0);
  ~ItemsDigest();
  ItemsDigest(ItemsDigest&&) noexcept;
  ItemsDigest& operator=(ItemsDigest&&) noexcept;
  ItemsDigest(const ItemsDigest&) = delete;
  ItemsDigest& operator=(const ItemsDigest&) = delete;

  // Feeds every item of `request` (typed, then packed groups, in order).
  // The request must be well formed (as the server validated it); packed
  // data not a whole number of items has its tail ignored.
  // `also`, when set, sees every byte fed, for this call only.
  void Add(const v1::CheckRequest& request, StreamBytesObserver* also = nullptr);

  const ItemCounts& counts() const { return counts_; }
  // The digest of everything fed so far; Add may go on afterwards.
  Digest32 Finish() const;

  // The running state (streams, byte and item counts; not min_pdq_quality)
  // as bytes, and back, so that a registry keeps a session across a
  // restart. Restore returns false, changing nothing, for bytes SaveState
  // did not write.
  std::string SaveState() const;
  bool RestoreState(const std::string& state);

 private:
  struct Streams;
  std::unique_ptr<Streams> streams_;
  ItemCounts counts_;
  int min_pdq_quality_ = 0;
};

// SHA-256("optout-session-digest-v1" || for each part in ascending part
// number: u32 LE part || its 32-byte ItemsDigest). A session used as one
// part 0 (check-dataset's) has the digest of its single part folded once.
Digest32 CombineParts(const std::map<uint32_t, Digest32>& parts);

// Lower-case hex of a digest, and back (false on anything but 64 hex chars).
std::string ToHex(const Digest32& digest);
bool FromHex(const std::string& hex, Digest32* digest);

}  // namespace optout::receipt

#endif  // OPTOUT_CLIENT_COMMON_RECEIPT_ITEMS_DIGEST_H_
