#include "client/dataset/field_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace optout::dataset {
namespace {

// Best first. Names used by LAION, DataComp, COYO, CC3M/CC12M and common
// scrapes.
constexpr const char* kUrlNames[] = {"url",  "image_url", "img_url", "imageurl", "image_link",
                                     "link", "uri",       "src"};

}  // namespace

int UrlNameRank(absl::string_view name, absl::string_view wanted) {
  name = absl::StripAsciiWhitespace(name);
  if (!wanted.empty()) {
    if (name == wanted) return 0;
    return absl::EqualsIgnoreCase(name, wanted) ? 1 : -1;
  }
  for (size_t i = 0; i < sizeof(kUrlNames) / sizeof(kUrlNames[0]); ++i) {
    if (absl::EqualsIgnoreCase(name, kUrlNames[i])) return static_cast<int>(i);
  }
  return -1;
}

int FindUrlName(const std::vector<std::string>& names, absl::string_view wanted) {
  int best = -1, best_rank = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    const int rank = UrlNameRank(names[i], wanted);
    if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
      best = static_cast<int>(i);
      best_rank = rank;
    }
  }
  return best;
}

nlohmann::json::const_iterator FindUrlKey(const nlohmann::json& object, absl::string_view wanted) {
  auto best = object.end();
  int best_rank = -1;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const int rank = UrlNameRank(it.key(), wanted);
    if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
      best = it;
      best_rank = rank;
    }
  }
  return best;
}

nlohmann::json::const_iterator FindKeyIgnoringCase(const nlohmann::json& object,
                                                   absl::string_view name) {
  auto exact = object.find(std::string(name));
  if (exact != object.end()) return exact;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (absl::EqualsIgnoreCase(it.key(), name)) return it;
  }
  return object.end();
}

std::string UrlNameList() { return absl::StrJoin(kUrlNames, ", "); }

}  // namespace optout::dataset
