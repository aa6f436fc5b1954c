// File: service/match_index.h
//
// MatchIndex is the in-memory serving state of the registry: keyed URL and
// file digests (exact lookups), PDQ codes (Hamming search), and the opt-out
// id behind every internal handle. It is rebuilt from the store at start and
// updated after each durable Register/Revoke.
//
// Values stored in the key index pack (kind strength << 61 | opt-out
// handle), the strength of protocol::MatchKindStrength (1 = strongest): it
// sits on top so that a key's values, which KeyIndex keeps in ascending
// order and visits only the first few of, list the strongest kind first
// (URL, URL_ANY_QUERY, SCOPE share one key space). PDQ entries are (opt-out
// handle << 16 | position in the opt-out); the region hashes of the PDQ hash
// at `position` (v1.PdqHash.regions) are (opt-out handle << 16 | 1 << 15 |
// region << 9 | position), so a region hit names its image's position and
// windows of one image count as one item.
//
// Thread-safety: all methods may be called concurrently.
#ifndef OPTOUT_SERVICE_MATCH_INDEX_H_
#define OPTOUT_SERVICE_MATCH_INDEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "absl/synchronization/mutex.h"
#include "client/common/protocol/match_kind.h"
#include "optout/v1/optout.pb.h"
#include "storage/hamming_index.h"
#include "storage/key_index.h"

namespace optout::service {

// Everything the index holds for one opt-out.
struct IndexedOptOut {
  std::string id;  // 16 raw bytes (MatchIndex::kIdSize)
  struct Key {
    v1::MatchKind kind;
    storage::Key32 key;
  };
  std::vector<Key> keys;  // URL, SCOPE, SHA256, MD5
  std::vector<storage::Code256> pdq;
  // Region hashes of pdq[position]: PdqHash.regions on registration.
  struct PdqRegion {
    uint16_t position;  // < MatchIndex::kMaxPdqWithRegions
    uint16_t region;    // < MatchIndex::kMaxRegionsPerPdq
    storage::Code256 code;
    // In the low-quality tier (MatchIndex::low_quality_pdq): when its image
    // is, or its own quality is below the minimum (region tiers).
    bool low_quality = false;
  };
  std::vector<PdqRegion> pdq_regions;
  // pdq_low_quality[position] (empty: none): that hash is in the
  // low-quality tier, indexed apart (MatchIndex::low_quality_pdq).
  std::vector<bool> pdq_low_quality;

  bool LowQuality(size_t position) const {
    return position < pdq_low_quality.size() && pdq_low_quality[position];
  }
};

class MatchIndex final {
 public:
  // Largest number of PDQ hashes one opt-out may hold (fits the packing).
  static constexpr size_t kMaxPdqPerOptOut = 1 << 16;
  // Size of an opt-out id (raw bytes).
  static constexpr size_t kIdSize = 16;

  MatchIndex() = default;
  MatchIndex(const MatchIndex&) = delete;
  MatchIndex& operator=(const MatchIndex&) = delete;

  // Adds an opt-out (no-op if its id is already present).
  void Add(const IndexedOptOut& opt_out);
  // Removes an opt-out and every entry of it; false if the id is unknown.
  bool Remove(const IndexedOptOut& opt_out);
  // Moves a live opt-out's keys from before.keys to after.keys (a key
  // rotation): the new ones go in first, so a lookup running meanwhile finds
  // the opt-out under one or both, never neither. PDQ entries stay. False if
  // the id is unknown (revoked).
  bool ReplaceKeys(const IndexedOptOut& before, const IndexedOptOut& after);
  // Adds or removes one key entry of an opt-out already in the index (a
  // scope whose proof came or lapsed); no-op when the id is not indexed.
  void AddKey(absl::string_view id, v1::MatchKind kind, const storage::Key32& key);
  void RemoveKey(absl::string_view id, v1::MatchKind kind, const storage::Key32& key);
  // Bulk start-up load into an empty index: much faster than Add one by one
  // (tables sized once, PDQ index built once; the id tables, the keys and
  // the PDQ index are built on three threads). Ids must be distinct, as
  // they are in the store. `ranges` are taken in order, as if concatenated
  // (each start-up reader thread hands over its own, uncopied).
  void Load(std::vector<IndexedOptOut> opt_outs);
  void Load(std::vector<std::vector<IndexedOptOut>> ranges);

  static constexpr int kKindShift = 61;
  static uint64_t KeyValue(uint64_t handle, v1::MatchKind kind) {
    return uint64_t{static_cast<uint32_t>(protocol::MatchKindStrength(kind))} << kKindShift |
           handle;
  }
  static uint64_t HandleOfKeyValue(uint64_t value) {
    return value & ((uint64_t{1} << kKindShift) - 1);
  }
  static v1::MatchKind KindOfKeyValue(uint64_t value) {
    // Indexed by strength (MatchKindStrength), 3 bits.
    static constexpr v1::MatchKind kKindOfStrength[8] = {
        v1::MATCH_KIND_NONE,   v1::MATCH_KIND_URL,    v1::MATCH_KIND_URL_ANY_QUERY,
        v1::MATCH_KIND_SCOPE,  v1::MATCH_KIND_PDQ,    v1::MATCH_KIND_SHA256,
        v1::MATCH_KIND_MD5,    v1::MATCH_KIND_NONE};
    return kKindOfStrength[value >> kKindShift];
  }
  // Region hashes fit the entry packing only for the first 512 PDQ hashes of
  // an opt-out, 64 regions each (validation enforces both).
  static constexpr size_t kMaxPdqWithRegions = 512;
  static constexpr size_t kMaxRegionsPerPdq = 64;
  static constexpr uint64_t kRegionBit = 1 << 15;
  static uint64_t PdqEntry(uint64_t handle, size_t position) { return handle << 16 | position; }
  static uint64_t RegionEntry(uint64_t handle, const IndexedOptOut::PdqRegion& r) {
    return handle << 16 | kRegionBit | uint64_t{r.region} << 9 | r.position;
  }
  static uint64_t HandleOfPdqEntry(uint64_t entry) { return entry >> 16; }
  // The position of the PDQ hash an entry belongs to (its own, or its
  // image's for a region hash).
  static uint64_t PdqPositionOfEntry(uint64_t entry) {
    return (entry & kRegionBit) != 0 ? entry & (kMaxPdqWithRegions - 1) : entry & 0xffff;
  }

  // Calls visit(i, id) with the opt-out id (16 raw bytes, valid during the
  // call) of each handles[i] not yet revoked, in order, under one reader
  // lock; stops early when visit returns false. `visit` must not call back in.
  void VisitIds(absl::Span<const uint64_t> handles,
                absl::FunctionRef<bool(size_t, absl::string_view)> visit) const;

  const storage::KeyIndex& keys() const { return keys_; }
  const storage::HammingIndex& pdq() const { return pdq_; }
  // Hashes registered with a quality below --min_pdq_quality (and their
  // regions), same entries as pdq(); searched at the stricter
  // --low_quality_pdq_distance. Apart so that the usual search pays nothing
  // for them and a pair's distance bound follows from where it was found.
  const storage::HammingIndex& low_quality_pdq() const { return low_quality_pdq_; }
  size_t opt_out_count() const;
  // Index entries of `kind`: keys for URL, SCOPE, SHA256, MD5; stored
  // hashes for PDQ (both tiers).
  size_t entries(v1::MatchKind kind) const;
  // Approximate heap bytes of the key index, the PDQ index and the id tables.
  size_t MemoryBytes() const;

 private:
  // Opt-out ids are 16 random bytes. Fixed-size entries keep the tables free
  // of a heap block per id, which is most of their start-up cost at 10M.
  using IdBytes = std::array<char, 16>;
  static IdBytes IdBytesOf(absl::string_view id);

  uint64_t AssignHandle(absl::string_view id, bool* fresh);
  // Handle of an indexed id; 0 when it is not indexed.
  uint64_t HandleOf(absl::string_view id) const;

  void CountKeys(const IndexedOptOut& opt_out, int64_t sign);

  storage::KeyIndex keys_;
  // Key entries by kind, kept beside keys_ (which does not know kinds).
  std::array<std::atomic<int64_t>, protocol::kMatchKindCount> key_entries_{};
  storage::HammingIndex& PdqIndexOf(const IndexedOptOut& opt_out, size_t position) {
    return opt_out.LowQuality(position) ? low_quality_pdq_ : pdq_;
  }
  storage::HammingIndex& PdqIndexOf(const IndexedOptOut::PdqRegion& region) {
    return region.low_quality ? low_quality_pdq_ : pdq_;
  }

  storage::HammingIndex pdq_;
  storage::HammingIndex low_quality_pdq_;
  mutable absl::Mutex mu_;  // protects the handle tables below
  // Handles are dense: handle h is entry h - 1 (revoked entries stay, not live).
  std::vector<IdBytes> id_of_handle_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> live_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<IdBytes, uint64_t> handle_of_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_MATCH_INDEX_H_
