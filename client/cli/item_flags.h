// File: client/cli/item_flags.h
//
// The repeatable item flags of `register` and `check` (--url,
// --url-any-query (register only), --scope, --pdq, --sha256, --md5, --image),
// read back in the order they were given on the
// command line, across flags, so that results can follow that order and name
// their input.
#ifndef OPTOUT_CLIENT_CLI_ITEM_FLAGS_H_
#define OPTOUT_CLIENT_CLI_ITEM_FLAGS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace optout::cli {

// kImage stays last (it sizes the tables of ItemFlags).
enum class ItemKind { kUrl, kUrlAnyQuery, kScope, kPdq, kSha256, kMd5, kImage };

// The --max-pixels default: pdq::HashOptions' 100 MP.
inline constexpr int64_t kDefaultMaxPixels = 100'000'000;

// Adds --max-pixels (bound to `*value`) to a command that decodes images.
void AddMaxPixelsFlag(CLI::App& cmd, int64_t* value);

// One flag value: a URL, a hex hash or digest, or an image path, as typed.
struct ItemArg {
  ItemKind kind;
  std::string value;
};

// "--url", "--url-any-query", "--scope", "--pdq", "--sha256", "--md5" or
// "--image".
const char* FlagName(ItemKind kind);

// How a result names its input: the URL (or scope) itself, else
// "pdq:<hex>", "sha256:<hex>", "md5:<hex>" or "image:PATH", as typed.
std::string ItemName(const ItemArg& item);

// Owns the values of the item flags added to one subcommand. Must outlive the
// parse (keep it in the subcommand's shared args).
class ItemFlags {
 public:
  // Adds the repeatable flag of `kind` to `cmd`.
  CLI::Option* Add(CLI::App& cmd, ItemKind kind, const std::string& help);

  // After parsing `cmd`: every value of the flags added here, in command-line
  // order.
  std::vector<ItemArg> InOrder(const CLI::App& cmd) const;
  // After parsing: the values of one flag, in order.
  const std::vector<std::string>& Values(ItemKind kind) const {
    return values_[static_cast<size_t>(kind)];
  }
  // After parsing: true when no flag added here was given a value.
  bool empty() const {
    for (const auto& v : values_) {
      if (!v.empty()) return false;
    }
    return true;
  }
  // --max-pixels, added with the --image flag: the largest image decoded.
  int64_t max_pixels() const { return max_pixels_; }

 private:
  static constexpr size_t kKinds = static_cast<size_t>(ItemKind::kImage) + 1;
  std::array<std::vector<std::string>, kKinds> values_;
  std::array<const CLI::Option*, kKinds> options_{};
  int64_t max_pixels_ = kDefaultMaxPixels;
};

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_ITEM_FLAGS_H_
