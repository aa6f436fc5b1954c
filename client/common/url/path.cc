#include "client/common/url/path.h"

#include "absl/container/inlined_vector.h"
#include "client/common/url/escape.h"

namespace optout::url {

void AppendCanonicalPath(absl::string_view path, std::string* out) {
  absl::InlinedVector<absl::string_view, 16> stack;
  bool trailing_slash = false;
  // Skip the leading separator; each following piece ends at '/', '\' or the end.
  size_t i = path.empty() ? 0 : 1;
  bool more = !path.empty();
  while (more) {
    size_t j = i;
    while (j < path.size() && path[j] != '/' && path[j] != '\\') ++j;
    const absl::string_view piece = path.substr(i, j - i);
    more = j < path.size();
    i = j + 1;
    if (piece.empty() || piece == ".") {
      trailing_slash = true;
    } else if (piece == "..") {
      if (!stack.empty()) stack.pop_back();
      trailing_slash = true;
    } else {
      stack.push_back(piece);
      trailing_slash = false;
    }
  }
  out->push_back('/');
  for (size_t k = 0; k < stack.size(); ++k) {
    if (k > 0) out->push_back('/');
    AppendEscaped(stack[k], out);
  }
  if (trailing_slash && !stack.empty()) out->push_back('/');
}

}  // namespace optout::url
