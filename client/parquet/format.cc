#include "client/parquet/format.h"

namespace optout::parquet {

const char* PhysicalTypeName(PhysicalType type) {
  static const char* const kNames[] = {"BOOLEAN", "INT32",     "INT64",      "INT96",
                                       "FLOAT",   "DOUBLE",    "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  const int i = static_cast<int>(type);
  return i >= 0 && i < 8 ? kNames[i] : "unknown type";
}

const char* EncodingName(int encoding) {
  static const char* const kNames[] = {
      "PLAIN",           "GROUP_VAR_INT",       "PLAIN_DICTIONARY", "RLE",
      "BIT_PACKED",      "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
      "DELTA_BYTE_ARRAY", "RLE_DICTIONARY",     "BYTE_STREAM_SPLIT"};
  return encoding >= 0 && encoding < 10 ? kNames[encoding] : "unknown encoding";
}

const char* CodecName(int codec) {
  static const char* const kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                       "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec < 8 ? kNames[codec] : "unknown codec";
}

}  // namespace optout::parquet
