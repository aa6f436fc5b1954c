// File: client/parquet/thrift_compact.h
//
// Parquet's metadata (the footer's FileMetaData, each page's PageHeader) is
// Thrift in the compact protocol. Rather than generated classes, a value
// tree: parsing keeps every field, including ones this project does not
// know (logical types, column orders, key/value metadata written by Arrow
// or pandas), so a filtered copy re-serializes them unchanged and only the
// fields it means to change are touched.
//
// Parsing never trusts the input: every length is checked against the
// bytes left, nesting is bounded, and a failure is DataLoss naming the byte
// offset. Value types; thread-compatible.
#ifndef OPTOUT_CLIENT_PARQUET_THRIFT_COMPACT_H_
#define OPTOUT_CLIENT_PARQUET_THRIFT_COMPACT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::parquet {

// Compact protocol type codes (BOOL is kept as kTrue / kFalse).
enum class TType : uint8_t {
  kStop = 0, kTrue = 1, kFalse = 2, kByte = 3, kI16 = 4, kI32 = 5, kI64 = 6,
  kDouble = 7, kBinary = 8, kList = 9, kSet = 10, kMap = 11, kStruct = 12, kUuid = 13,
};

struct TValue {
  TType type = TType::kStruct;
  int16_t id = 0;  // field id, when this value is a struct's field
  int64_t i = 0;   // kByte, kI16, kI32, kI64; kTrue / kFalse: 1 / 0
  double d = 0;
  std::string bin;  // kBinary, kUuid (16 bytes)
  // kStruct: fields in input order. kList / kSet: elements. kMap: keys and
  // values alternating.
  std::vector<TValue> items;
  TType elem_type = TType::kStop;  // kList / kSet element, kMap key
  TType value_type = TType::kStop;  // kMap value

  // Struct access. Field() is null when absent.
  const TValue* Field(int16_t field_id) const;
  TValue* MutableField(int16_t field_id);
  int64_t IntOr(int16_t field_id, int64_t fallback) const;
  // Sets (adding when absent) an integer field of the given type.
  void SetInt(int16_t field_id, TType type, int64_t value);
  void RemoveField(int16_t field_id);

  static TValue Struct() { return TValue(); }
  static TValue Int(int16_t field_id, TType type, int64_t value);
  static TValue Binary(int16_t field_id, std::string value);
  static TValue List(int16_t field_id, TType elem_type);
};

// Parses one struct starting at `data[*pos]`; advances *pos past it.
absl::StatusOr<TValue> ParseStruct(absl::string_view data, size_t* pos);

// Appends the compact encoding of struct `value` to *out.
void SerializeStruct(const TValue& value, std::string* out);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_THRIFT_COMPACT_H_
