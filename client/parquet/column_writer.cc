#include "client/parquet/column_writer.h"

#include <cstring>
#include "absl/container/flat_hash_map.h"

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/parquet/compression.h"
#include "client/parquet/rle.h"

namespace optout::parquet {
namespace {

constexpr size_t kMaxDictionaryBytes = 16 << 20;

void PutU32(uint32_t v, std::string* out) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

// PLAIN values [begin, end) of `data`.
void Plain(const ColumnData& data, size_t begin, size_t end, std::string* out) {
  if (data.type == PhysicalType::kBoolean) {
    const size_t base = out->size();
    out->resize(base + (end - begin + 7) / 8, 0);
    for (size_t i = begin; i < end; ++i) {
      if (data.fixed[i] != 0) (*out)[base + ((i - begin) >> 3)] |= static_cast<char>(1 << ((i - begin) & 7));
    }
  } else if (data.width > 0) {
    out->append(data.fixed, begin * data.width, (end - begin) * data.width);
  } else if (begin < end) {
    // Sized once, then written in place: a value per row for URL-like
    // columns, where appending two pieces per value cost more than the copy.
    const size_t base = out->size();
    out->resize(base + 4 * (end - begin) + (data.offsets[end] - data.offsets[begin]));
    char* p = out->data() + base;
    for (size_t i = begin; i < end; ++i) {
      const absl::string_view v = data.Value(i);
      const uint32_t len = static_cast<uint32_t>(v.size());
      std::memcpy(p, &len, 4);
      std::memcpy(p + 4, v.data(), v.size());
      p += 4 + v.size();
    }
  }
}

void PutLevels(const std::vector<uint8_t>& levels, size_t begin, size_t end, int max,
               bool prefixed, std::string* out) {
  if (max == 0) return;
  std::string encoded;
  EncodeLevels(levels.data() + begin, end - begin, BitWidth(max), &encoded);
  if (prefixed) PutU32(static_cast<uint32_t>(encoded.size()), out);
  out->append(encoded);
}

struct Dictionary {
  std::vector<uint32_t> indices;  // one per value
  ColumnData values;
};

// The dictionary of `data`, or false when it would be too large.
bool BuildDictionary(const ColumnData& data, Dictionary* dict) {
  absl::flat_hash_map<absl::string_view, uint32_t> seen;
  dict->values.type = data.type;
  dict->values.width = data.width;
  dict->indices.reserve(data.num_values);
  size_t bytes = 0;
  for (size_t i = 0; i < data.num_values; ++i) {
    const absl::string_view v = data.Value(i);
    auto [it, added] = seen.emplace(v, static_cast<uint32_t>(seen.size()));
    if (added) {
      bytes += v.size() + 4;
      if (bytes > kMaxDictionaryBytes) return false;
    }
    dict->indices.push_back(it->second);
  }
  // The map's keys point into `data`; the dictionary copies them in order.
  std::vector<absl::string_view> ordered(seen.size());
  for (const auto& [v, index] : seen) ordered[index] = v;
  for (absl::string_view v : ordered) dict->values.AppendValue(v);
  return true;
}

class ChunkEncoder {
 public:
  ChunkEncoder(const ColumnData& data, const ColumnDescriptor& column,
               const ColumnWriteOptions& options, int64_t file_offset)
      : data_(data), column_(column), options_(options), file_offset_(file_offset) {}

  absl::StatusOr<EncodedChunk> Run() {
    const StoredDictionary* stored = options_.stored_dictionary;
    const bool dictionary = stored != nullptr ||
                            (options_.dictionary && data_.type != PhysicalType::kBoolean &&
                             data_.num_values > 0 && BuildDictionary(data_, &dict_));
    int64_t dictionary_offset = -1;
    if (stored != nullptr) {
      // The stored page as it is: its values, encoding and compression do
      // not depend on which rows were kept.
      dictionary_offset = file_offset_;
      dict_.indices.resize(data_.num_values);
      std::memcpy(dict_.indices.data(), data_.fixed.data(), data_.num_values * 4);
      dict_.values.num_values = stored->values;
      out_.bytes.append(stored->page);
      out_.uncompressed_bytes += stored->uncompressed_bytes;
    } else if (dictionary) {
      dictionary_offset = file_offset_;
      std::string plain;
      Plain(dict_.values, 0, dict_.values.num_values, &plain);
      TValue dh = TValue::Struct();
      dh.id = fid::kPageDictionaryHeader;
      dh.items.push_back(TValue::Int(fid::kDictNumValues, TType::kI32, dict_.values.num_values));
      dh.items.push_back(TValue::Int(fid::kDictEncoding, TType::kI32, static_cast<int>(Encoding::kPlain)));
      OPTOUT_RETURN_IF_ERROR(Page(PageType::kDictionaryPage, std::move(dh), plain, "", true));
    }
    const int64_t data_offset = file_offset_ + static_cast<int64_t>(out_.bytes.size());
    const int value_encoding = static_cast<int>(dictionary ? Encoding::kRleDictionary : Encoding::kPlain);
    // Pages end at row boundaries once they hold about page_bytes of values.
    size_t level = 0, value = 0;
    const size_t value_bytes = data_.width > 0 ? data_.width : 0;
    while (level < data_.num_levels || (level == 0 && data_.num_levels == 0 && !wrote_page_)) {
      const size_t first_level = level, first_value = value;
      size_t bytes = 0, rows = 0;
      while (level < data_.num_levels) {
        if (level > first_level && (column_.max_rep == 0 || data_.rep[level] == 0) &&
            bytes >= options_.page_bytes) {
          break;
        }
        if (column_.max_rep == 0 || data_.rep[level] == 0) ++rows;
        if (column_.max_def == 0 || data_.def[level] == column_.max_def) {
          bytes += value_bytes > 0 ? value_bytes : data_.Value(value).size() + 4;
          ++value;
        }
        ++level;
      }
      OPTOUT_RETURN_IF_ERROR(DataPage(first_level, level, first_value, value, rows, value_encoding,
                                      dictionary));
      wrote_page_ = true;
    }
    TValue& meta = out_.meta;
    meta.items.push_back(TValue::Int(fid::kMetaType, TType::kI32, static_cast<int>(column_.type)));
    TValue encodings = TValue::List(fid::kMetaEncodings, TType::kI32);
    encodings.items.push_back(TValue::Int(0, TType::kI32, static_cast<int>(Encoding::kPlain)));
    encodings.items.push_back(TValue::Int(0, TType::kI32, static_cast<int>(Encoding::kRle)));
    if (dictionary) {
      encodings.items.push_back(TValue::Int(0, TType::kI32, static_cast<int>(Encoding::kRleDictionary)));
    }
    if (stored != nullptr && stored->encoding == static_cast<int>(Encoding::kPlainDictionary)) {
      encodings.items.push_back(TValue::Int(0, TType::kI32, stored->encoding));
    }
    meta.items.push_back(std::move(encodings));
    TValue path = TValue::List(fid::kMetaPath, TType::kBinary);
    for (const std::string& part : column_.path) path.items.push_back(TValue::Binary(0, part));
    meta.items.push_back(std::move(path));
    meta.items.push_back(TValue::Int(fid::kMetaCodec, TType::kI32, options_.codec));
    meta.items.push_back(TValue::Int(fid::kMetaNumValues, TType::kI64, data_.num_levels));
    meta.items.push_back(TValue::Int(fid::kMetaUncompressed, TType::kI64, out_.uncompressed_bytes));
    meta.items.push_back(TValue::Int(fid::kMetaCompressed, TType::kI64, out_.bytes.size()));
    meta.items.push_back(TValue::Int(fid::kMetaDataPageOffset, TType::kI64, data_offset));
    if (dictionary) {
      meta.items.push_back(TValue::Int(fid::kMetaDictionaryPageOffset, TType::kI64, dictionary_offset));
    }
    return std::move(out_);
  }

 private:
  absl::Status DataPage(size_t level_begin, size_t level_end, size_t value_begin,
                        size_t value_end, size_t rows, int encoding, bool dictionary) {
    const size_t count = level_end - level_begin;
    TValue h = TValue::Struct();
    std::string levels;
    if (!options_.page_v2) {
      // v1: levels then values in one body, written into one buffer.
      PutLevels(data_.rep, level_begin, level_end, column_.max_rep, true, &levels);
      PutLevels(data_.def, level_begin, level_end, column_.max_def, true, &levels);
      Values(value_begin, value_end, dictionary, &levels);
      h.id = fid::kPageDataHeader;
      h.items.push_back(TValue::Int(fid::kDataNumValues, TType::kI32, count));
      h.items.push_back(TValue::Int(fid::kDataEncoding, TType::kI32, encoding));
      h.items.push_back(TValue::Int(fid::kDataDefEncoding, TType::kI32, static_cast<int>(Encoding::kRle)));
      h.items.push_back(TValue::Int(fid::kDataRepEncoding, TType::kI32, static_cast<int>(Encoding::kRle)));
      return Page(PageType::kDataPage, std::move(h), levels, "", true);
    }
    std::string values;
    Values(value_begin, value_end, dictionary, &values);
    PutLevels(data_.rep, level_begin, level_end, column_.max_rep, false, &levels);
    const size_t rep_len = levels.size();
    PutLevels(data_.def, level_begin, level_end, column_.max_def, false, &levels);
    h.id = fid::kPageDataHeaderV2;
    h.items.push_back(TValue::Int(fid::kV2NumValues, TType::kI32, count));
    h.items.push_back(TValue::Int(fid::kV2NumNulls, TType::kI32, count - (value_end - value_begin)));
    h.items.push_back(TValue::Int(fid::kV2NumRows, TType::kI32, rows));
    h.items.push_back(TValue::Int(fid::kV2Encoding, TType::kI32, encoding));
    h.items.push_back(TValue::Int(fid::kV2DefLength, TType::kI32, levels.size() - rep_len));
    h.items.push_back(TValue::Int(fid::kV2RepLength, TType::kI32, rep_len));
    return Page(PageType::kDataPageV2, std::move(h), values, levels,
                options_.codec != static_cast<int>(Codec::kUncompressed));
  }

  // The page's values, appended to `*out`: dictionary indices or PLAIN.
  void Values(size_t value_begin, size_t value_end, bool dictionary, std::string* out) const {
    if (dictionary) {
      // (A stored dictionary may be empty when every value is null.)
      const size_t n = dict_.values.num_values;
      const int width = std::max(1, BitWidth(n > 0 ? n - 1 : 0));
      out->push_back(static_cast<char>(width));
      EncodeHybrid(dict_.indices.data() + value_begin, value_end - value_begin, width, out);
    } else {
      Plain(data_, value_begin, value_end, out);
    }
  }

  // Writes header + `prefix` (v2 levels, never compressed) + `body`
  // (compressed when `compress`).
  absl::Status Page(PageType type, TValue type_header, absl::string_view body,
                    absl::string_view prefix, bool compress) {
    // One compression buffer per thread, reused page after page and chunk
    // after chunk (compression.h, CompressTo).
    thread_local std::string scratch;
    absl::string_view packed = body;
    if (compress) {
      OPTOUT_ASSIGN_OR_RETURN(packed, CompressTo(options_.codec, body, &scratch));
    }
    TValue header = TValue::Struct();
    header.items.push_back(TValue::Int(fid::kPageType, TType::kI32, static_cast<int>(type)));
    header.items.push_back(TValue::Int(fid::kPageUncompressedSize, TType::kI32, prefix.size() + body.size()));
    header.items.push_back(TValue::Int(fid::kPageCompressedSize, TType::kI32, prefix.size() + packed.size()));
    if (type == PageType::kDataPageV2 && !compress) {
      type_header.items.push_back(TValue::Int(fid::kV2IsCompressed, TType::kFalse, 0));
    }
    header.items.push_back(std::move(type_header));
    const size_t before = out_.bytes.size();
    SerializeStruct(header, &out_.bytes);
    out_.uncompressed_bytes += static_cast<int64_t>(out_.bytes.size() - before + prefix.size() + body.size());
    out_.bytes.append(prefix.data(), prefix.size());
    out_.bytes.append(packed.data(), packed.size());
    return absl::OkStatus();
  }

  const ColumnData& data_;
  const ColumnDescriptor& column_;
  const ColumnWriteOptions& options_;
  const int64_t file_offset_;
  Dictionary dict_;
  EncodedChunk out_;
  bool wrote_page_ = false;
};

}  // namespace

absl::StatusOr<EncodedChunk> EncodeColumnChunk(const ColumnData& data,
                                               const ColumnDescriptor& column,
                                               const ColumnWriteOptions& options,
                                               int64_t file_offset) {
  if (!CodecSupported(options.codec)) {
    return absl::UnimplementedError(absl::StrCat("column ", column.name, ": cannot write compression ",
                                                 CodecName(options.codec)));
  }
  return ChunkEncoder(data, column, options, file_offset).Run();
}

}  // namespace optout::parquet
