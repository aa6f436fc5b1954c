#include "client/cli/flag_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace optout::cli {

absl::Status RenameFieldAsFlag(const absl::Status& status, absl::Span<const FieldFlag> fields) {
  const absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (status.ok() || colon == absl::string_view::npos) return status;
  // "name", "name[3]", "name[3].quality" or "name.sub".
  absl::string_view path = message.substr(0, colon);
  size_t name_end = 0;
  while (name_end < path.size() &&
         (absl::ascii_islower(path[name_end]) || path[name_end] == '_' ||
          absl::ascii_isdigit(path[name_end]))) {
    ++name_end;
  }
  const absl::string_view name = path.substr(0, name_end);
  absl::string_view rest = path.substr(name_end);
  int index = -1;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(1, close - 1), &index)) {
      return status;
    }
    rest.remove_prefix(close + 1);
  }
  if (!rest.empty() && rest.front() != '.') return status;  // not a field path
  for (const FieldFlag& f : fields) {
    if (f.field != name) continue;
    std::string named(f.flag);
    if (f.values != nullptr && index >= 0 && static_cast<size_t>(index) < f.values->size()) {
      absl::StrAppend(&named, " ", (*f.values)[index]);
    }
    if (!rest.empty()) absl::StrAppend(&named, ": ", rest.substr(1));
    return absl::Status(status.code(), absl::StrCat(named, message.substr(colon)));
  }
  return status;
}

absl::Span<const FieldFlag> ManageFieldFlags() {
  static const FieldFlag kFields[] = {{"opt_out_id", "--id"}, {"manage_token", "--token"}};
  return kFields;
}

}  // namespace optout::cli
