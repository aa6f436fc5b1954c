#include "tests/e2e/stored_versions.h"

#include "gtest/gtest.h"
#include "optout/internal/record.pb.h"
#include "storage/opt_out_store.h"

namespace optout::testing {

std::map<uint32_t, int> StoredVersions(const std::string& data_dir) {
  std::map<uint32_t, int> versions;
  auto store = storage::OptOutStore::Open(data_dir, storage::StoreOptions());
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return versions;
  EXPECT_TRUE((*store)
                  ->ForEachRecord([&](absl::string_view, absl::string_view bytes) {
                    internal::OptOutRecord record;
                    record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
                    ++versions[record.key_version()];
                    return absl::OkStatus();
                  })
                  .ok());
  return versions;
}

}  // namespace optout::testing
