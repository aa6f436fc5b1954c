#include "client/common/receipt/items_digest.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace optout::receipt {
namespace {

std::string Bytes(char fill, size_t n) { return std::string(n, fill); }

// Three URL items (1, 3 and 2 digests) and two MD5s, packed in one batch.
v1::CheckRequest PackedBatch() {
  v1::CheckRequest r;
  v1::PackedItems* url = r.add_packed();
  url->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  url->set_data(Bytes('a', 32) + Bytes('b', 96) + Bytes('c', 64));
  url->add_counts(1);
  url->add_counts(3);
  url->add_counts(2);
  v1::PackedItems* md5 = r.add_packed();
  md5->set_kind(v1::PackedItems::KIND_MD5);
  md5->set_data(Bytes('m', 16) + Bytes('n', 16));
  return r;
}

TEST(ItemsDigestTest, DoesNotDependOnBatchBoundaries) {
  ItemsDigest one;
  one.Add(PackedBatch());

  // The same items in two batches, the first typed, the second packed.
  v1::CheckRequest first;
  v1::UrlDigests* d = first.add_items()->mutable_url_digests();
  d->set_exact(Bytes('a', 32));
  first.add_items()->set_md5(Bytes('m', 16));
  v1::CheckRequest second;
  v1::PackedItems* url = second.add_packed();
  url->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  url->set_data(Bytes('b', 96) + Bytes('c', 64));
  url->add_counts(3);
  url->add_counts(2);
  v1::PackedItems* md5 = second.add_packed();
  md5->set_kind(v1::PackedItems::KIND_MD5);
  md5->set_data(Bytes('n', 16));
  ItemsDigest two;
  two.Add(first);
  two.Add(second);

  EXPECT_EQ(one.Finish(), two.Finish());
  EXPECT_EQ(one.counts(), two.counts());
  EXPECT_EQ(one.counts().url, 3u);
  EXPECT_EQ(one.counts().md5, 2u);
}

TEST(ItemsDigestTest, ChangesWithAnyItemOrItsGrouping) {
  ItemsDigest base;
  base.Add(PackedBatch());

  v1::CheckRequest flipped = PackedBatch();
  (*flipped.mutable_packed(1)->mutable_data())[20] ^= 1;
  ItemsDigest other_byte;
  other_byte.Add(flipped);
  EXPECT_NE(base.Finish(), other_byte.Finish());

  // The same digest bytes split into other items.
  v1::CheckRequest regrouped = PackedBatch();
  regrouped.mutable_packed(0)->set_counts(1, 2);
  regrouped.mutable_packed(0)->set_counts(2, 3);
  ItemsDigest other_counts;
  other_counts.Add(regrouped);
  EXPECT_NE(base.Finish(), other_counts.Finish());

  // Order within a kind matters.
  v1::CheckRequest swapped = PackedBatch();
  swapped.mutable_packed(1)->set_data(Bytes('n', 16) + Bytes('m', 16));
  ItemsDigest other_order;
  other_order.Add(swapped);
  EXPECT_NE(base.Finish(), other_order.Finish());

  // An MD5 is not the same item as half of a SHA-256.
  v1::CheckRequest as_sha;
  as_sha.add_packed()->set_kind(v1::PackedItems::KIND_SHA256);
  as_sha.mutable_packed(0)->set_data(Bytes('m', 16) + Bytes('n', 16));
  v1::CheckRequest as_md5;
  as_md5.add_packed()->set_kind(v1::PackedItems::KIND_MD5);
  as_md5.mutable_packed(0)->set_data(Bytes('m', 16) + Bytes('n', 16));
  ItemsDigest sha, md5;
  sha.Add(as_sha);
  md5.Add(as_md5);
  EXPECT_NE(sha.Finish(), md5.Finish());
}

TEST(ItemsDigestTest, PackedAndTypedPdqWithVariantsAgree) {
  const std::string hash = Bytes('h', 32);
  std::string variants;
  for (char c = '0'; c < '8'; ++c) variants += Bytes(c, 32);
  v1::CheckRequest packed;
  v1::PackedItems* p = packed.add_packed();
  p->set_kind(v1::PackedItems::KIND_PDQ);
  p->set_pdq_dihedral(true);
  p->set_data(hash + variants);
  v1::CheckRequest typed;
  v1::PdqHash* t = typed.add_items()->mutable_pdq();
  t->set_hash(hash);
  for (int i = 0; i < 8; ++i) t->add_dihedral(variants.substr(i * 32, 32));
  ItemsDigest a, b;
  a.Add(packed);
  b.Add(typed);
  EXPECT_EQ(a.Finish(), b.Finish());
  EXPECT_EQ(a.counts().pdq, 1u);

  // Without the variants it is another item.
  v1::CheckRequest plain;
  plain.add_items()->mutable_pdq()->set_hash(hash);
  ItemsDigest c;
  c.Add(plain);
  EXPECT_NE(a.Finish(), c.Finish());
}

TEST(ItemsDigestTest, PackedPdqRegionsAgreeWithTypedOnes) {
  const std::string hash = Bytes('h', 32);
  const std::string regions = Bytes('r', 32) + Bytes('s', 32);
  v1::CheckRequest packed;
  v1::PackedItems* p = packed.add_packed();
  p->set_kind(v1::PackedItems::KIND_PDQ);
  p->set_data(hash + regions + hash);
  p->add_counts(2);
  p->add_counts(0);
  v1::CheckRequest typed;
  v1::PdqHash* t = typed.add_items()->mutable_pdq();
  t->set_hash(hash);
  t->add_regions(regions.substr(0, 32));
  t->add_regions(regions.substr(32));
  typed.add_items()->mutable_pdq()->set_hash(hash);
  ItemsDigest a, b;
  a.Add(packed);
  b.Add(typed);
  EXPECT_EQ(a.Finish(), b.Finish());
  EXPECT_EQ(a.counts().pdq, 2u);
}

// The low-quality flag changes what matches, so it changes the digest; an
// unflagged item feeds what it always did (receipts from before verify).
TEST(ItemsDigestTest, LowQualityPackedPdqItemsAreCovered) {
  const std::string hash = Bytes('h', 32);
  auto packed = [&](const std::string& low_bits) {
    v1::CheckRequest r;
    v1::PackedItems* p = r.add_packed();
    p->set_kind(v1::PackedItems::KIND_PDQ);
    p->set_data(hash + hash);
    p->set_pdq_low_quality(low_bits);
    ItemsDigest d;
    d.Add(r);
    return d.Finish();
  };
  v1::CheckRequest typed;
  typed.add_items()->mutable_pdq()->set_hash(hash);
  typed.add_items()->mutable_pdq()->set_hash(hash);
  ItemsDigest before;
  before.Add(typed);
  EXPECT_EQ(packed(""), before.Finish());
  EXPECT_EQ(packed(std::string(1, '\0')), before.Finish());
  EXPECT_NE(packed(std::string(1, '\x01')), before.Finish());
  EXPECT_NE(packed(std::string(1, '\x01')), packed(std::string(1, '\x02')));
}

// A typed PDQ item is low-quality when its quality is below the registry's
// minimum: it feeds what a packed item flagged in pdq_low_quality feeds.
TEST(ItemsDigestTest, LowQualityTypedPdqItemsAgreeWithFlaggedPackedOnes) {
  const std::string hash = Bytes('h', 32);
  v1::CheckRequest packed;
  v1::PackedItems* p = packed.add_packed();
  p->set_kind(v1::PackedItems::KIND_PDQ);
  p->set_data(hash + hash + hash);
  p->set_pdq_low_quality(std::string(1, '\x02'));  // the second item
  v1::CheckRequest typed;
  typed.add_items()->mutable_pdq()->set_hash(hash);        // no quality: not low
  typed.add_items()->mutable_pdq()->set_hash(hash);
  typed.mutable_items(1)->mutable_pdq()->set_quality(30);  // low under 50
  typed.add_items()->mutable_pdq()->set_hash(hash);
  typed.mutable_items(2)->mutable_pdq()->set_quality(50);  // at the minimum: not low
  ItemsDigest flagged, with_min(50), without_min;
  flagged.Add(packed);
  with_min.Add(typed);
  without_min.Add(typed);
  EXPECT_EQ(with_min.Finish(), flagged.Finish());
  EXPECT_NE(without_min.Finish(), flagged.Finish());
  ItemsDigest lower_min(30);  // 30 is not below 30
  lower_min.Add(typed);
  EXPECT_EQ(lower_min.Finish(), without_min.Finish());
}

// Regions in their own tiers (PdqHash.region_quality, a packed group's
// pdq_region_low_quality) change what matches, so the digest covers each
// region's tier; typed and packed forms of the same tiers agree, and items
// without region tiers feed what they always did.
TEST(ItemsDigestTest, RegionTiersAreCoveredAndTypedAgreesWithPacked) {
  const std::string hash = Bytes('h', 32);
  const std::string regions = Bytes('r', 32) + Bytes('s', 32);
  auto packed = [&](const std::string& region_bits) {
    v1::CheckRequest r;
    v1::PackedItems* p = r.add_packed();
    p->set_kind(v1::PackedItems::KIND_PDQ);
    p->set_data(hash + regions + hash + regions.substr(0, 32));
    p->add_counts(2);
    p->add_counts(1);
    p->set_pdq_region_low_quality(region_bits);
    ItemsDigest d;
    d.Add(r);
    return d.Finish();
  };
  auto typed = [&](std::vector<int> qualities) {
    v1::CheckRequest r;
    v1::PdqHash* t = r.add_items()->mutable_pdq();
    t->set_hash(hash);
    t->add_regions(regions.substr(0, 32));
    t->add_regions(regions.substr(32));
    v1::PdqHash* u = r.add_items()->mutable_pdq();
    u->set_hash(hash);
    u->add_regions(regions.substr(0, 32));
    if (!qualities.empty()) {
      for (int i = 0; i < 2; ++i) t->add_region_quality(qualities[i]);
      u->add_region_quality(qualities[2]);
    }
    ItemsDigest d(50);
    d.Add(r);
    return d.Finish();
  };
  EXPECT_EQ(packed(""), typed({}));
  // Regions 0..2 of the group: low, normal, low.
  EXPECT_EQ(packed(std::string(1, static_cast<char>(0b101))), typed({30, 60, 49}));
  EXPECT_EQ(packed(std::string(1, '\0')), typed({50, 90, 60}));
  EXPECT_NE(packed(std::string(1, '\0')), packed(""));
  EXPECT_NE(packed(std::string(1, static_cast<char>(0b101))),
            packed(std::string(1, static_cast<char>(0b011))));
}

// Regions' mirrors (PdqHash.region_mirrors) change what matches, so the
// digest covers them: which mirrors, and that they are mirrors rather than
// more regions.
TEST(ItemsDigestTest, RegionMirrorsAreCovered) {
  const std::string hash = Bytes('h', 32);
  auto typed = [&](std::vector<std::string> regions, std::vector<std::string> mirrors) {
    v1::CheckRequest r;
    v1::PdqHash* t = r.add_items()->mutable_pdq();
    t->set_hash(hash);
    for (const std::string& region : regions) t->add_regions(region);
    for (const std::string& mirror : mirrors) t->add_region_mirrors(mirror);
    ItemsDigest d;
    d.Add(r);
    return d.Finish();
  };
  const std::string a = Bytes('a', 32), b = Bytes('b', 32), c = Bytes('c', 32);
  const auto with = typed({a}, {b});
  EXPECT_NE(with, typed({a}, {}));
  EXPECT_NE(with, typed({a}, {c}));
  EXPECT_NE(with, typed({a, b}, {}));
  EXPECT_EQ(with, typed({a}, {b}));
}

// A registry keeps a session across a restart by its saved state: feeding
// on from the restored state gives what feeding on would have given.
TEST(ItemsDigestTest, SavedStateRestoresTheRunningDigest) {
  ItemsDigest running, restored;
  running.Add(PackedBatch());
  v1::CheckRequest odd;  // leaves a partial block buffered in each stream
  odd.add_items()->set_url("https://example.com/a.jpg");
  odd.add_items()->set_md5(Bytes('q', 16));
  running.Add(odd);
  ASSERT_TRUE(restored.RestoreState(running.SaveState()));
  EXPECT_EQ(restored.Finish(), running.Finish());
  EXPECT_EQ(restored.counts(), running.counts());
  running.Add(PackedBatch());
  restored.Add(PackedBatch());
  EXPECT_EQ(restored.Finish(), running.Finish());
  EXPECT_EQ(restored.counts().url, 7u);

  const std::string state = running.SaveState();
  for (const std::string& bad : {std::string(), state.substr(1), state + "x",
                                 "x" + state.substr(1)}) {
    EXPECT_FALSE(restored.RestoreState(bad));
  }
  EXPECT_EQ(restored.Finish(), running.Finish());  // unchanged by a refused state
  // Unused streams take 8 bytes, used ones their pending bytes only.
  ItemsDigest fresh;
  EXPECT_EQ(fresh.SaveState().size(), 28u + 7 * 8 + 4 * 8);
  EXPECT_LT(state.size(), 28u + 7 * 400 + 4 * 8);
}

TEST(ItemsDigestTest, FinishLetsFeedingGoOn) {
  ItemsDigest digest;
  digest.Add(PackedBatch());
  const Digest32 first = digest.Finish();
  EXPECT_EQ(first, digest.Finish());
  digest.Add(PackedBatch());
  EXPECT_NE(first, digest.Finish());
}

TEST(ItemsDigestTest, EmptyDigestIsFixed) {
  ItemsDigest a, b;
  EXPECT_EQ(a.Finish(), b.Finish());
  EXPECT_EQ(a.counts().total(), 0u);
}

TEST(CombinePartsTest, OrderOfArrivalDoesNotMatterButPartNumbersDo) {
  ItemsDigest x, y;
  x.Add(PackedBatch());
  const Digest32 dx = x.Finish(), dy = y.Finish();
  std::map<uint32_t, Digest32> in_order{{0, dx}, {1, dy}};
  std::map<uint32_t, Digest32> reversed;
  reversed.emplace(1, dy);
  reversed.emplace(0, dx);
  EXPECT_EQ(CombineParts(in_order), CombineParts(reversed));
  std::map<uint32_t, Digest32> swapped{{0, dy}, {1, dx}};
  EXPECT_NE(CombineParts(in_order), CombineParts(swapped));
}

TEST(HexTest, RoundTrips) {
  ItemsDigest x;
  const Digest32 d = x.Finish();
  Digest32 back{};
  ASSERT_TRUE(FromHex(ToHex(d), &back));
  EXPECT_EQ(back, d);
  EXPECT_FALSE(FromHex("abc", &back));
}

}  // namespace
}  // namespace optout::receipt
