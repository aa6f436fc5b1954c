#include "client/common/protocol/packed_items.h"

#include <string>

#include "gtest/gtest.h"

namespace optout::protocol {
namespace {

v1::PackedItems Group(v1::PackedItems::Kind kind, size_t bytes) {
  v1::PackedItems packed;
  packed.set_kind(kind);
  packed.set_data(std::string(bytes, 'x'));
  return packed;
}

TEST(PackedItemsTest, ItemSizesFollowTheKind) {
  EXPECT_EQ(PackedItemBytes(Group(v1::PackedItems::KIND_URL_DIGESTS, 0)), 32u);
  EXPECT_EQ(PackedItemBytes(Group(v1::PackedItems::KIND_SHA256, 0)), 32u);
  EXPECT_EQ(PackedItemBytes(Group(v1::PackedItems::KIND_MD5, 0)), 16u);
  v1::PackedItems pdq = Group(v1::PackedItems::KIND_PDQ, 0);
  EXPECT_EQ(PackedItemBytes(pdq), 32u);
  pdq.set_pdq_dihedral(true);
  EXPECT_EQ(PackedItemBytes(pdq), 9 * 32u);
}

TEST(PackedItemsTest, CountsDecideTheUrlItemCountElseTheDataLength) {
  v1::PackedItems urls = Group(v1::PackedItems::KIND_URL_DIGESTS, 7 * 32);
  EXPECT_EQ(PackedItemCount(urls), 7u);
  urls.add_counts(3);
  urls.add_counts(4);
  EXPECT_EQ(PackedItemCount(urls), 2u);
  EXPECT_EQ(PackedItemCount(Group(v1::PackedItems::KIND_MD5, 5 * 16)), 5u);
  v1::PackedItems pdq = Group(v1::PackedItems::KIND_PDQ, 2 * 9 * 32);
  pdq.set_pdq_dihedral(true);
  EXPECT_EQ(PackedItemCount(pdq), 2u);
}

}  // namespace
}  // namespace optout::protocol
