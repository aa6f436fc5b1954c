// File: client/dataset/csv.h
//
// RFC 4180 style record splitting for CSV and TSV: fields separated by one
// delimiter byte, optionally enclosed in double quotes ("" inside quotes is a
// quote; quoted fields may hold delimiters and line breaks). Used both to cut
// a byte stream into records (keeping their exact bytes) and to extract the
// few fields a check needs. Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_DATASET_CSV_H_
#define OPTOUT_CLIENT_DATASET_CSV_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace optout::dataset {

// Length of the first record of `data`, including its line break, when the
// record ends inside `data`. Returns 0 when more input is needed (or, with
// `at_eof`, the whole remainder, which then ends without a line break).
// `*unterminated_quote` is set when, at EOF, a quoted field never closed.
size_t CsvRecordLength(absl::string_view data, char delimiter, bool at_eof,
                       bool* unterminated_quote);

// Splits one record (with or without its line break) into unquoted fields,
// at most `max_fields` of them (the rest of the record is not parsed).
// Returns false when the parsed part is malformed (a quote that never
// closes, or text after a closing quote); `*fields` then holds what could be
// parsed. `*fields` keeps its strings' capacity from call to call.
bool SplitCsvRecord(absl::string_view record, char delimiter, std::vector<std::string>* fields,
                    size_t max_fields = static_cast<size_t>(-1));

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_CSV_H_
