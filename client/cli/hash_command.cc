// File: client/cli/hash_command.cc
//
// `optout hash [--dihedral] [--jobs N] FILE...`: hashes image files locally
// (nothing is sent anywhere). One line per file, in argument order:
//   pdq_hex quality sha256 md5 path
// with --dihedral the 8 dihedral PDQ hashes (orig, rot90, rot180, rot270,
// flipX, flipY, flipPlus1, flipMinus1) come between md5 and path. With --json
// each line is a JSON object instead. A file that cannot be hashed prints one
// line on stderr naming it and the reason (and, with --json, an
// {"path":…,"error":CODE,"reason":…} line); the other files go on and the exit
// status is 1.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/cli/item_flags.h"
#include "client/cli/request_builder.h"
#include "client/common/digest/digest.h"
#include "client/pdq/image_hasher.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

constexpr const char* kDihedralNames[8] = {"orig",  "rot90", "rot180",    "rot270",
                                           "flipX", "flipY", "flipPlus1", "flipMinus1"};
// Files hashed between two flushes of output; bounds memory for huge lists
// while keeping every core busy.
constexpr size_t kFilesPerThreadPerBatch = 16;

struct HashArgs {
  std::vector<std::string> files;
  bool dihedral = false;
  int jobs = 0;
  int64_t max_pixels = kDefaultMaxPixels;
};

std::string TextLine(const std::string& path, const pdq::ImageHashes& h, bool dihedral) {
  std::string line = absl::StrCat(h.pdq.ToHex(), " ", h.quality, " ", digest::ToHex(h.sha256), " ",
                                  digest::ToHex(h.md5), " ");
  if (dihedral) {
    for (const pdq::PdqHash& variant : h.dihedral) absl::StrAppend(&line, variant.ToHex(), " ");
  }
  absl::StrAppend(&line, path);
  return line;
}

std::string Dump(const nlohmann::ordered_json& json) {
  // Paths need not be UTF-8; replace rather than throw.
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string JsonLine(const std::string& path, const pdq::ImageHashes& h, bool dihedral) {
  nlohmann::ordered_json json;
  json["path"] = path;
  json["pdq"] = h.pdq.ToHex();
  json["quality"] = h.quality;
  json["sha256"] = digest::ToHex(h.sha256);
  json["md5"] = digest::ToHex(h.md5);
  json["width"] = h.width;
  json["height"] = h.height;
  if (dihedral) {
    nlohmann::ordered_json variants;
    for (int i = 0; i < 8; ++i) variants[kDihedralNames[i]] = h.dihedral[i].ToHex();
    json["dihedral"] = variants;
  }
  return Dump(json);
}

std::string JsonError(const std::string& path, const absl::Status& status) {
  absl::string_view reason = status.message();
  // HashImageFile prefixes "<path>: "; the path has its own field here.
  const std::string prefix = path + ": ";
  if (absl::StartsWith(reason, prefix)) reason.remove_prefix(prefix.size());
  nlohmann::ordered_json json;
  json["path"] = path;
  json["error"] = absl::StatusCodeToString(status.code());
  json["reason"] = std::string(reason);
  return Dump(json);
}

void RunHash(const HashArgs& args, CommandContext& ctx) {
  pdq::HashOptions options;
  options.dihedral = args.dihedral;
  options.max_pixels = args.max_pixels;
  const size_t threads =
      args.jobs > 0 ? static_cast<size_t>(args.jobs)
                    : std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t batch = threads * kFilesPerThreadPerBatch;
  std::vector<absl::StatusOr<pdq::ImageHashes>> results;
  for (size_t begin = 0; begin < args.files.size(); begin += batch) {
    const size_t end = std::min(args.files.size(), begin + batch);
    results.assign(end - begin, absl::UnknownError("not hashed"));
    std::atomic<size_t> next{begin};
    auto work = [&] {
      for (size_t i = next++; i < end; i = next++) {
        results[i - begin] = pdq::HashImageFile(args.files[i], options);
        if (!results[i - begin].ok()) {
          results[i - begin] = WithPixelLimitHint(results[i - begin].status());
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < std::min(threads, end - begin); ++t) pool.emplace_back(work);
    work();
    for (std::thread& thread : pool) thread.join();

    for (size_t i = begin; i < end; ++i) {
      const std::string& path = args.files[i];
      const auto& result = results[i - begin];
      if (!result.ok()) {
        ReportError(ctx, "hash", result.status());
        if (ctx.json) std::cout << JsonError(path, result.status()) << "\n";
        continue;
      }
      std::cout << (ctx.json ? JsonLine(path, *result, args.dihedral)
                             : TextLine(path, *result, args.dihedral))
                << "\n";
    }
    std::cout << std::flush;
  }
}

}  // namespace

void AddHashCommand(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<HashArgs>();
  CLI::App* cmd = app.add_subcommand(
      "hash",
      "Hash image files locally (JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF, AVIF); nothing "
      "leaves this machine.\n"
      "Prints per file: pdq_hex quality sha256 md5 [8 dihedral hashes] path");
  cmd->add_option("files", args->files, "image files")->required();
  cmd->add_flag("--dihedral", args->dihedral,
                "also print the 8 dihedral PDQ hashes (orig rot90 rot180 rot270 flipX flipY "
                "flipPlus1 flipMinus1)");
  cmd->add_option("-j,--jobs", args->jobs, "hashing threads (0 = one per core)")
      ->check(CLI::NonNegativeNumber);
  AddMaxPixelsFlag(*cmd, &args->max_pixels);
  cmd->callback([args, &ctx] { RunHash(*args, ctx); });
}

}  // namespace optout::cli
