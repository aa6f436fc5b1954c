#include "client/common/receipt/items_digest.h"

#include <openssl/evp.h>

#include <cstring>

#include "client/common/digest/digest.h"
#include "client/common/receipt/interleaved_sha256.h"

namespace optout::receipt {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "url_counts are fed straight from the repeated field's memory");

enum Stream { kUrl, kUrlCounts, kSha256, kMd5, kPdq, kPdqVariants, kUrlText, kStreams };

constexpr size_t kDigestBytes = 32;
constexpr size_t kMd5Bytes = 16;
constexpr size_t kPdqBytes = 32;
constexpr size_t kDihedralVariants = 8;

void PutU32(uint32_t v, char* out) { std::memcpy(out, &v, 4); }
void PutU64(uint64_t v, char* out) { std::memcpy(out, &v, 8); }

}  // namespace

struct ItemsDigest::Streams {
  InterleavedSha256 hash[kStreams];
  StreamBytesObserver* observer = nullptr;  // during one Add

  void Feed(Stream s, const void* data, size_t n) {
    if (n == 0) return;
    hash[s].Update(data, n);
    if (observer != nullptr) observer->Feed(s, data, n);
  }
  void Feed(Stream s, const std::string& data) { Feed(s, data.data(), data.size()); }
  void FeedU32(Stream s, uint32_t v) {
    char b[4];
    PutU32(v, b);
    Feed(s, b, 4);
  }
  // One PDQ item: its hash, then its variant and region counts and bytes.
  // A low-quality item (packed: flagged in PackedItems.pdq_low_quality;
  // typed: a quality below the registry's minimum) has the high bit of its
  // variant count set: the tier changes what matches, so the receipt covers
  // it; other items feed the bytes they always did.
  // Regions in their own tiers (PdqHash.region_quality,
  // PackedItems.pdq_region_low_quality) set the high bit of the region
  // count, and their tiers follow the regions: `region_low` (n_regions
  // bits, least significant first) in (n_regions + 7) / 8 bytes.
  // Regions' mirrors (PdqHash.region_mirrors, one per region) set 0x40 of
  // the region count and follow the regions: they change what matches.
  void FeedPdq(const char* hash, const char* variants, size_t n_variants, const char* regions,
               size_t n_regions, bool low_quality = false,
               const std::string* region_low = nullptr,
               const std::string* region_mirrors = nullptr) {
    Feed(kPdq, hash, kPdqBytes);
    const uint8_t counts[2] = {
        static_cast<uint8_t>(n_variants | (low_quality ? 0x80 : 0)),
        static_cast<uint8_t>(n_regions | (region_low ? 0x80 : 0) | (region_mirrors ? 0x40 : 0))};
    Feed(kPdqVariants, counts, 2);
    Feed(kPdqVariants, variants, n_variants * kPdqBytes);
    Feed(kPdqVariants, regions, n_regions * kPdqBytes);
    if (region_mirrors != nullptr) Feed(kPdqVariants, *region_mirrors);
    if (region_low != nullptr) Feed(kPdqVariants, *region_low);
  }
};

ItemsDigest::ItemsDigest(int min_pdq_quality)
    : streams_(std::make_unique<Streams>()), min_pdq_quality_(min_pdq_quality) {}
ItemsDigest::~ItemsDigest() = default;
ItemsDigest::ItemsDigest(ItemsDigest&&) noexcept = default;
ItemsDigest& ItemsDigest::operator=(ItemsDigest&&) noexcept = default;

void ItemsDigest::Add(const v1::CheckRequest& request, StreamBytesObserver* also) {
  Streams& s = *streams_;
  s.observer = also;
  for (const v1::CheckItem& item : request.items()) {
    switch (item.kind_case()) {
      case v1::CheckItem::kUrl:
        s.FeedU32(kUrlText, static_cast<uint32_t>(item.url().size()));
        s.Feed(kUrlText, item.url());
        ++counts_.url;
        break;
      case v1::CheckItem::kUrlDigests: {
        const v1::UrlDigests& d = item.url_digests();
        s.Feed(kUrl, d.exact());
        for (const std::string& e : d.expressions()) s.Feed(kUrl, e);
        s.FeedU32(kUrlCounts, static_cast<uint32_t>(1 + d.expressions_size()));
        ++counts_.url;
        break;
      }
      case v1::CheckItem::kPdq: {
        const v1::PdqHash& p = item.pdq();
        if (p.hash().size() != kPdqBytes) break;
        std::string variants, regions;
        for (const std::string& v : p.dihedral()) variants += v;
        for (const std::string& r : p.regions()) regions += r;
        const bool low_quality = p.has_quality() && p.quality() < min_pdq_quality_;
        std::string region_low;
        if (p.region_quality_size() > 0) {
          region_low.assign((p.regions_size() + 7) / 8, '\0');
          for (int r = 0; r < p.region_quality_size() && r < p.regions_size(); ++r) {
            if (p.region_quality(r) < min_pdq_quality_) region_low[r / 8] |= static_cast<char>(1 << (r % 8));
          }
        }
        std::string mirrors;
        for (const std::string& m : p.region_mirrors()) mirrors += m;
        s.FeedPdq(p.hash().data(), variants.data(), p.dihedral_size(), regions.data(),
                  p.regions_size(), low_quality,
                  p.region_quality_size() > 0 ? &region_low : nullptr,
                  p.region_mirrors_size() > 0 ? &mirrors : nullptr);
        ++counts_.pdq;
        break;
      }
      case v1::CheckItem::kSha256:
        s.Feed(kSha256, item.sha256());
        ++counts_.sha256;
        break;
      case v1::CheckItem::kMd5:
        s.Feed(kMd5, item.md5());
        ++counts_.md5;
        break;
      default: break;
    }
  }
  for (const v1::PackedItems& packed : request.packed()) {
    const std::string& data = packed.data();
    switch (packed.kind()) {
      case v1::PackedItems::KIND_URL_DIGESTS: {
        const size_t whole = data.size() / kDigestBytes * kDigestBytes;
        s.Feed(kUrl, data.data(), whole);
        if (packed.counts_size() > 0) {
          s.Feed(kUrlCounts, packed.counts().data(), packed.counts_size() * sizeof(uint32_t));
          counts_.url += packed.counts_size();
        } else {
          // Without counts every digest is an item of its own.
          for (size_t i = 0; i < whole / kDigestBytes; ++i) s.FeedU32(kUrlCounts, 1);
          counts_.url += whole / kDigestBytes;
        }
        break;
      }
      case v1::PackedItems::KIND_SHA256: {
        const size_t n = data.size() / kDigestBytes;
        s.Feed(kSha256, data.data(), n * kDigestBytes);
        counts_.sha256 += n;
        break;
      }
      case v1::PackedItems::KIND_MD5: {
        const size_t n = data.size() / kMd5Bytes;
        s.Feed(kMd5, data.data(), n * kMd5Bytes);
        counts_.md5 += n;
        break;
      }
      case v1::PackedItems::KIND_PDQ: {
        // Each item: its hash, its variants with pdq_dihedral, then (with
        // counts) counts[i] region hashes.
        const size_t variants = packed.pdq_dihedral() ? kDihedralVariants : 0;
        const size_t item_bytes = (1 + variants) * kPdqBytes;
        const bool with_regions = packed.counts_size() > 0;
        const std::string& region_bits = packed.pdq_region_low_quality();
        std::string region_low;
        size_t region = 0;  // of the group, in order
        size_t at = 0;
        for (size_t i = 0; with_regions ? i < static_cast<size_t>(packed.counts_size())
                                        : at + item_bytes <= data.size();
             ++i) {
          const size_t regions = with_regions ? packed.counts(static_cast<int>(i)) : 0;
          if (at + item_bytes + regions * kPdqBytes > data.size()) break;
          const char* p = data.data() + at;
          const std::string& low = packed.pdq_low_quality();
          const bool low_quality =
              i / 8 < low.size() && (static_cast<uint8_t>(low[i / 8]) >> (i % 8) & 1) != 0;
          if (!region_bits.empty()) {
            region_low.assign((regions + 7) / 8, '\0');
            for (size_t r = 0; r < regions; ++r, ++region) {
              if (region / 8 < region_bits.size() &&
                  (static_cast<uint8_t>(region_bits[region / 8]) >> (region % 8) & 1) != 0) {
                region_low[r / 8] |= static_cast<char>(1 << (r % 8));
              }
            }
          }
          s.FeedPdq(p, p + kPdqBytes, variants, p + item_bytes, regions, low_quality,
                    region_bits.empty() ? nullptr : &region_low);
          at += item_bytes + regions * kPdqBytes;
          ++counts_.pdq;
        }
        break;
      }
      default: break;
    }
  }
  s.observer = nullptr;
}

Digest32 ItemsDigest::Finish() const {
  static constexpr char kLabel[] = "optout-items-digest-v2";
  EVP_MD_CTX* outer = EVP_MD_CTX_new();
  EVP_DigestInit_ex(outer, EVP_sha256(), nullptr);
  EVP_DigestUpdate(outer, kLabel, sizeof(kLabel) - 1);
  for (int i = 0; i < kStreams; ++i) {
    char len[8];
    PutU64(streams_->hash[i].length(), len);
    EVP_DigestUpdate(outer, len, 8);
    const std::array<uint8_t, 32> inner = streams_->hash[i].Finish();
    EVP_DigestUpdate(outer, inner.data(), inner.size());
  }
  Digest32 out{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(outer, out.data(), &n);
  EVP_MD_CTX_free(outer);
  return out;
}

namespace {

// SaveState's layout: the tag, each stream's InterleavedSha256 state
// (8 bytes for an unused stream), then the item counts url, pdq, sha256,
// md5 (u64 little-endian). v2, before, saved every stream at its largest
// (kLegacyStateBytes): still read.
constexpr char kStateTag[] = "optout-items-digest-state-v3";
constexpr char kLegacyStateTag[] = "optout-items-digest-state-v2";
constexpr size_t kTagBytes = sizeof(kStateTag) - 1;
static_assert(sizeof(kLegacyStateTag) == sizeof(kStateTag));
constexpr size_t kCountBytes = 4 * 8;
constexpr size_t kLegacyStateBytes =
    kTagBytes + kStreams * InterleavedSha256::kLegacyStateBytes + kCountBytes;

uint64_t GetU64(const char* in) {
  uint64_t v;
  std::memcpy(&v, in, 8);
  return v;
}

}  // namespace

std::string ItemsDigest::SaveState() const {
  std::string out(kStateTag, kTagBytes);
  out.reserve(kTagBytes + kStreams * InterleavedSha256::kMaxStateBytes + kCountBytes);
  for (const InterleavedSha256& h : streams_->hash) h.Save(&out);
  char b[8];
  for (uint64_t v : {counts_.url, counts_.pdq, counts_.sha256, counts_.md5}) {
    PutU64(v, b);
    out.append(b, 8);
  }
  return out;
}

bool ItemsDigest::RestoreState(const std::string& state) {
  if (state.size() < kTagBytes + kCountBytes) return false;
  const bool legacy = state.compare(0, kTagBytes, kLegacyStateTag) == 0;
  if (!legacy && state.compare(0, kTagBytes, kStateTag) != 0) return false;
  if (legacy && state.size() != kLegacyStateBytes) return false;
  auto streams = std::make_unique<Streams>();
  const char* at = state.data() + kTagBytes;
  const char* const counts_at = state.data() + state.size() - kCountBytes;
  for (InterleavedSha256& h : streams->hash) {
    if (legacy) {
      if (!h.RestoreLegacy(at)) return false;
      at += InterleavedSha256::kLegacyStateBytes;
      continue;
    }
    const size_t taken = h.Restore(at, static_cast<size_t>(counts_at - at));
    if (taken == 0) return false;
    at += taken;
  }
  if (at != counts_at) return false;
  ItemCounts counts;
  counts.url = GetU64(at), counts.pdq = GetU64(at + 8), counts.sha256 = GetU64(at + 16),
  counts.md5 = GetU64(at + 24);
  streams_ = std::move(streams);
  counts_ = counts;
  return true;
}

Digest32 CombineParts(const std::map<uint32_t, Digest32>& parts) {
  std::string buffer = "optout-session-digest-v1";
  for (const auto& [part, digest] : parts) {
    char b[4];
    PutU32(part, b);
    buffer.append(b, 4);
    buffer.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  return digest::Sha256(buffer);
}

std::string ToHex(const Digest32& digest) { return digest::ToHex(digest); }

bool FromHex(const std::string& hex, Digest32* out) {
  auto bytes = digest::FromHex(hex, 32);
  if (!bytes.ok() || bytes->size() != 32) return false;
  std::memcpy(out->data(), bytes->data(), 32);
  return true;
}

}  // namespace optout::receipt
