#include "client/cli/item_flags.h"

#include "absl/strings/str_cat.h"

namespace optout::cli {

const char* FlagName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kUrl: return "--url";
    case ItemKind::kUrlAnyQuery: return "--url-any-query";
    case ItemKind::kScope: return "--scope";
    case ItemKind::kPdq: return "--pdq";
    case ItemKind::kSha256: return "--sha256";
    case ItemKind::kMd5: return "--md5";
    case ItemKind::kImage: return "--image";
  }
  return "";
}

std::string ItemName(const ItemArg& item) {
  switch (item.kind) {
    case ItemKind::kUrl:
    case ItemKind::kUrlAnyQuery:
    case ItemKind::kScope: return item.value;
    case ItemKind::kPdq: return absl::StrCat("pdq:", item.value);
    case ItemKind::kSha256: return absl::StrCat("sha256:", item.value);
    case ItemKind::kMd5: return absl::StrCat("md5:", item.value);
    case ItemKind::kImage: return absl::StrCat("image:", item.value);
  }
  return item.value;
}

void AddMaxPixelsFlag(CLI::App& cmd, int64_t* value) {
  cmd.add_option("--max-pixels", *value,
                 "largest image decoded, in pixels (width x height); larger images are refused "
                 "from their header. Decoding needs about 6 bytes of memory per pixel "
                 "(default: 100000000)")
      ->check(CLI::PositiveNumber);
}

CLI::Option* ItemFlags::Add(CLI::App& cmd, ItemKind kind, const std::string& help) {
  const size_t k = static_cast<size_t>(kind);
  CLI::Option* option = cmd.add_option(FlagName(kind), values_[k], help);
  options_[k] = option;
  if (kind == ItemKind::kImage) AddMaxPixelsFlag(cmd, &max_pixels_);
  return option;
}

std::vector<ItemArg> ItemFlags::InOrder(const CLI::App& cmd) const {
  // CLI11 records one parse_order() entry per value it stores, so the n-th
  // entry of a flag is that flag's n-th value.
  std::array<size_t, kKinds> taken{};
  std::vector<ItemArg> items;
  for (const CLI::Option* option : cmd.parse_order()) {
    for (size_t k = 0; k < kKinds; ++k) {
      if (option != options_[k] || option == nullptr || taken[k] >= values_[k].size()) continue;
      items.push_back({static_cast<ItemKind>(k), values_[k][taken[k]++]});
    }
  }
  // Never drop a value, should the two ever disagree.
  for (size_t k = 0; k < kKinds; ++k) {
    while (taken[k] < values_[k].size()) {
      items.push_back({static_cast<ItemKind>(k), values_[k][taken[k]++]});
    }
  }
  return items;
}

}  // namespace optout::cli
