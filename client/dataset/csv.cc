#include "client/dataset/csv.h"

namespace optout::dataset {

size_t CsvRecordLength(absl::string_view data, char delimiter, bool at_eof,
                       bool* unterminated_quote) {
  *unterminated_quote = false;
  // Quotes only open a quoted field at the start of a field; elsewhere they
  // are data (as in most real-world CSV writers and readers).
  bool field_start = true;
  bool in_quotes = false;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < data.size() && data[i + 1] == '"') {
          ++i;
        } else if (i + 1 == data.size() && !at_eof) {
          return 0;  // cannot tell "" from a closing quote yet
        } else {
          in_quotes = false;
        }
      }
      continue;
    }
    if (c == '\n') return i + 1;
    if (c == delimiter) {
      field_start = true;
      continue;
    }
    if (c == '"' && field_start) in_quotes = true;
    field_start = false;
  }
  if (!at_eof) return 0;
  *unterminated_quote = in_quotes;
  return data.size();
}

bool SplitCsvRecord(absl::string_view record, char delimiter, std::vector<std::string>* fields,
                    size_t max_fields) {
  if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  bool ok = true;
  size_t i = 0;
  size_t n = 0;
  for (; n < max_fields; ++n) {
    // Reuses the strings of earlier calls: no allocation per field per row.
    if (n == fields->size()) fields->emplace_back();
    std::string& field = (*fields)[n];
    field.clear();
    if (i < record.size() && record[i] == '"') {
      ++i;
      bool closed = false;
      while (i < record.size()) {
        if (record[i] == '"') {
          if (i + 1 < record.size() && record[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field.push_back(record[i++]);
      }
      if (!closed) ok = false;
      // Anything between the closing quote and the delimiter is malformed;
      // keep it so the field is not silently shortened.
      while (i < record.size() && record[i] != delimiter) {
        ok = false;
        field.push_back(record[i++]);
      }
    } else {
      while (i < record.size() && record[i] != delimiter) field.push_back(record[i++]);
    }
    if (i >= record.size()) {
      ++n;
      break;
    }
    ++i;  // the delimiter
  }
  fields->resize(n);
  return ok;
}

}  // namespace optout::dataset
