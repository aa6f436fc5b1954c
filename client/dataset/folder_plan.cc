#include "client/dataset/folder_plan.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "client/dataset/sniff.h"

namespace optout::dataset {

namespace fs = std::filesystem;

absl::StatusOr<FolderPlan> PlanFolder(const std::string& root) {
  FolderPlan plan;
  // Without trailing separators, so that every path found is base/rel.
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::error_code ec;
  fs::recursive_directory_iterator it(base, ec), end;
  if (ec) return absl::NotFoundError(absl::StrCat("cannot read folder ", root, ": ", ec.message()));
  std::vector<std::pair<std::string, std::string>> listing;  // name, "size:mtime"
  for (; it != end; it.increment(ec)) {
    if (ec) return absl::UnavailableError(absl::StrCat("cannot list ", root, ": ", ec.message()));
    const std::string rel = it->path().lexically_relative(base).generic_string();
    struct stat st;
    if (::stat(it->path().c_str(), &st) != 0) {
      // A dangling link: nothing to check or copy, but said so.
      plan.samples.push_back({rel, "broken symbolic link: not checked"});
      listing.emplace_back(rel, "dangling");
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (it->is_symlink(ec)) {
        plan.samples.push_back({rel, "symbolic link to a folder: not followed, not checked"});
        listing.emplace_back(rel, "link");
      }
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      plan.samples.push_back({rel, "not a regular file: not checked"});
      listing.emplace_back(rel, "special");
      continue;
    }
    plan.bytes += st.st_size;
    listing.emplace_back(rel, absl::StrCat(st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec));
    if (absl::EndsWithIgnoreCase(rel, ".tar")) {
      plan.shards.push_back(rel);
    } else if (IsTableName(rel)) {
      plan.tables.push_back(rel);
    } else {
      plan.samples.push_back({rel, ""});
    }
  }
  std::sort(listing.begin(), listing.end());
  std::string text;
  for (const auto& [name, stamp] : listing) absl::StrAppend(&text, name, "\n", stamp, "\n");
  plan.fingerprint = digest::ToHex(digest::Sha256(text));
  std::sort(plan.shards.begin(), plan.shards.end());
  std::sort(plan.tables.begin(), plan.tables.end());
  return plan;
}

void SortSamples(std::vector<FolderFile>* files) {
  std::sort(files->begin(), files->end(), [](const FolderFile& a, const FolderFile& b) {
    if (a.unchecked.empty() != b.unchecked.empty()) return a.unchecked.empty();
    return a.name < b.name;
  });
}

}  // namespace optout::dataset
