// File: client/parquet/format.h
//
// The numbers of the Parquet format (parquet.thrift) this library reads and
// writes: physical types, encodings, codecs, page types, and the Thrift
// field ids of the structs it touches. Constants only.
#ifndef OPTOUT_CLIENT_PARQUET_FORMAT_H_
#define OPTOUT_CLIENT_PARQUET_FORMAT_H_

#include <cstdint>

namespace optout::parquet {

enum class PhysicalType : int {
  kBoolean = 0, kInt32 = 1, kInt64 = 2, kInt96 = 3, kFloat = 4, kDouble = 5,
  kByteArray = 6, kFixedLenByteArray = 7,
};
const char* PhysicalTypeName(PhysicalType type);

enum class Repetition : int { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : int {
  kPlain = 0, kPlainDictionary = 2, kRle = 3, kBitPacked = 4, kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6, kDeltaByteArray = 7, kRleDictionary = 8, kByteStreamSplit = 9,
};
const char* EncodingName(int encoding);

enum class Codec : int {
  kUncompressed = 0, kSnappy = 1, kGzip = 2, kLzo = 3, kBrotli = 4, kLz4 = 5, kZstd = 6,
  kLz4Raw = 7,
};
const char* CodecName(int codec);

enum class PageType : int { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

// Thrift field ids (parquet.thrift).
namespace fid {
// FileMetaData
inline constexpr int16_t kFileVersion = 1, kFileSchema = 2, kFileNumRows = 3, kFileRowGroups = 4,
                         kFileKeyValue = 5, kFileCreatedBy = 6, kFileEncryption = 8;
// SchemaElement
inline constexpr int16_t kSchemaType = 1, kSchemaTypeLength = 2, kSchemaRepetition = 3,
                         kSchemaName = 4, kSchemaNumChildren = 5;
// RowGroup
inline constexpr int16_t kRowGroupColumns = 1, kRowGroupTotalByteSize = 2, kRowGroupNumRows = 3,
                         kRowGroupFileOffset = 5, kRowGroupTotalCompressed = 6,
                         kRowGroupOrdinal = 7;
// ColumnChunk
inline constexpr int16_t kChunkFilePath = 1, kChunkFileOffset = 2, kChunkMetaData = 3,
                         kChunkOffsetIndexOffset = 4, kChunkOffsetIndexLength = 5,
                         kChunkColumnIndexOffset = 6, kChunkColumnIndexLength = 7,
                         kChunkCrypto = 8, kChunkEncryptedMeta = 9;
// ColumnMetaData
inline constexpr int16_t kMetaType = 1, kMetaEncodings = 2, kMetaPath = 3, kMetaCodec = 4,
                         kMetaNumValues = 5, kMetaUncompressed = 6, kMetaCompressed = 7,
                         kMetaDataPageOffset = 9, kMetaIndexPageOffset = 10,
                         kMetaDictionaryPageOffset = 11, kMetaStatistics = 12,
                         kMetaEncodingStats = 13, kMetaBloomOffset = 14, kMetaBloomLength = 15,
                         kMetaSizeStatistics = 16;
// PageHeader
inline constexpr int16_t kPageType = 1, kPageUncompressedSize = 2, kPageCompressedSize = 3,
                         kPageCrc = 4, kPageDataHeader = 5, kPageDictionaryHeader = 7,
                         kPageDataHeaderV2 = 8;
// DataPageHeader
inline constexpr int16_t kDataNumValues = 1, kDataEncoding = 2, kDataDefEncoding = 3,
                         kDataRepEncoding = 4;
// DictionaryPageHeader
inline constexpr int16_t kDictNumValues = 1, kDictEncoding = 2;
// DataPageHeaderV2
inline constexpr int16_t kV2NumValues = 1, kV2NumNulls = 2, kV2NumRows = 3, kV2Encoding = 4,
                         kV2DefLength = 5, kV2RepLength = 6, kV2IsCompressed = 7;
}  // namespace fid

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_FORMAT_H_
