#include "client/parquet/column_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/parquet/compression.h"
#include "client/parquet/rle.h"

namespace optout::parquet {
namespace {

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Most a reserve made from a chunk's first page asks for; past it the
// buffers grow as they fill.
constexpr size_t kMaxEstimatedBytes = size_t{256} << 20;
constexpr size_t kMaxEstimatedValues = size_t{1} << 23;

// Appends `count` PLAIN values from `data` to *out; *used = bytes taken.
// `expected_values`: how many the whole chunk may hold (0: unknown); byte
// arrays are then sized for all of them at this page's mean length, so the
// chunk's later pages do not each regrow (and copy) what came before.
absl::Status DecodePlain(absl::string_view data, size_t count, ColumnData* out, size_t* used,
                         size_t expected_values = 0) {
  if (out->type == PhysicalType::kBoolean) {
    if ((count + 7) / 8 > data.size()) return absl::DataLossError("PLAIN booleans cut short");
    for (size_t i = 0; i < count; ++i) out->fixed.push_back((data[i >> 3] >> (i & 7)) & 1);
    *used = (count + 7) / 8;
  } else if (out->width > 0) {
    const uint64_t n = static_cast<uint64_t>(count) * out->width;
    if (n > data.size()) return absl::DataLossError("PLAIN values cut short");
    out->fixed.append(data.data(), n);
    *used = n;
  } else {
    // Two passes: the lengths are checked and summed first, so the values
    // are copied into buffers grown once per page rather than appended one
    // by one (the URL and md5 columns: a value per row).
    size_t pos = 0;
    for (size_t i = 0; i < count; ++i) {
      if (data.size() - pos < 4) return absl::DataLossError("PLAIN byte array cut short");
      const uint32_t len = LoadU32(data.data() + pos);
      pos += 4;
      if (len > data.size() - pos) return absl::DataLossError("PLAIN byte array runs past its page");
      pos += len;
    }
    *used = pos;
    const size_t base = out->bytes.size();
    const size_t value_bytes = pos - 4 * count;
    const size_t after = out->num_values + count;
    const size_t expected = std::min(expected_values, kMaxEstimatedValues);
    if (count > 0 && expected > after && base + pos > out->bytes.capacity()) {
      const size_t rest = expected - after;
      // Room for the later pages' values with their length prefixes: each
      // page is appended whole before it is closed up.
      const size_t target = std::min(base + pos + (pos / count + 1) * rest, kMaxEstimatedBytes);
      // (reserve below the capacity could shrink the buffer)
      if (target > out->bytes.capacity()) out->bytes.reserve(target);
      if (expected + 1 > out->offsets.capacity()) out->offsets.reserve(expected + 1);
    }
    // The page's values are appended whole, length prefixes included, and
    // then closed up in place: sizing the buffer first (resize) zero-filled
    // every byte before it was copied, ~3 % of a Parquet check's client CPU.
    out->bytes.append(data.data(), pos);
    char* write = out->bytes.data() + base;
    const char* read = write;  // never behind `write`
    const size_t first_offset = out->offsets.size();
    out->offsets.resize(first_offset + count);
    uint64_t* offsets = out->offsets.data() + first_offset;
    uint64_t end = base;
    for (size_t i = 0; i < count; ++i) {
      const uint32_t len = LoadU32(read);
      std::memmove(write, read + 4, len);
      write += len;
      read += 4 + len;
      end += len;
      offsets[i] = end;
    }
    out->bytes.resize(base + value_bytes);
  }
  out->num_values += count;
  return absl::OkStatus();
}

class ChunkDecoder {
 public:
  // `indices`: dictionary-encoded values are kept as their indices (INT32)
  // rather than looked up (DictionaryChunk).
  ChunkDecoder(absl::string_view bytes, int64_t file_offset, const ColumnDescriptor& column,
               const ChunkInfo& chunk, const ReadLimits& limits, bool indices = false)
      : bytes_(bytes), file_offset_(file_offset), column_(column), chunk_(chunk), limits_(limits),
        keep_indices_(indices) {
    out_.type = indices ? PhysicalType::kInt32 : column.type;
    out_.width = indices ? 4 : ValueWidth(column.type, column.type_length);
    dict_.type = column.type;
    dict_.width = ValueWidth(column.type, column.type_length);
  }

  // Run() in dictionary form; nullopt when a page is not dictionary-encoded.
  absl::StatusOr<std::optional<DictionaryChunk>> RunIndices() {
    OPTOUT_ASSIGN_OR_RETURN(ColumnData indices, Run());
    if (not_dictionary_ || !has_dict_) return std::nullopt;
    DictionaryChunk chunk;
    chunk.dictionary.page = std::string(dict_page_);
    chunk.dictionary.uncompressed_bytes = dict_page_uncompressed_;
    chunk.dictionary.values = dict_.num_values;
    chunk.dictionary.encoding = dict_encoding_;
    chunk.indices = std::move(indices);
    return chunk;
  }

  absl::StatusOr<ColumnData> Run() {
    if (chunk_.num_values > limits_.max_values_per_chunk) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "column ", column_.name, ": chunk of ", chunk_.num_values, " values is over the limit of ",
          limits_.max_values_per_chunk));
    }
    if (!CodecSupported(chunk_.codec)) {
      return absl::UnimplementedError(absl::StrCat("column ", column_.name, ": compression ",
                                                   CodecName(chunk_.codec), " is not supported"));
    }
    const size_t total = static_cast<size_t>(chunk_.num_values);
    size_t pos = 0;
    while (out_.num_levels < total && !not_dictionary_) {
      if (pos >= bytes_.size()) {
        return Error(pos, absl::StrCat("column chunk ends after ", out_.num_levels, " of ", total, " values"));
      }
      page_at_ = pos;
      auto header = ParseStruct(bytes_, &pos);
      if (!header.ok()) return Error(page_at_, absl::StrCat("bad page header: ", header.status().message()));
      const int64_t type = header->IntOr(fid::kPageType, -1);
      const int64_t raw_size = header->IntOr(fid::kPageUncompressedSize, -1);
      const int64_t size = header->IntOr(fid::kPageCompressedSize, -1);
      if (size < 0 || raw_size < 0 || static_cast<uint64_t>(size) > bytes_.size() - pos) {
        return Error(page_at_, "page size runs past the column chunk");
      }
      if (raw_size > limits_.max_page_bytes) return Error(page_at_, "page larger than the limit");
      const absl::string_view body = bytes_.substr(pos, size);
      pos += size;
      absl::Status s;
      switch (static_cast<PageType>(type)) {
        case PageType::kDictionaryPage:
          s = Dictionary(*header, body, raw_size);
          dict_page_ = bytes_.substr(page_at_, pos - page_at_);
          dict_page_uncompressed_ = static_cast<int64_t>(pos - size - page_at_) + raw_size;
          break;
        case PageType::kDataPage:
          s = DataV1(*header, body, raw_size, total);
          break;
        case PageType::kDataPageV2:
          s = DataV2(*header, body, raw_size, total);
          break;
        case PageType::kIndexPage:
          break;  // never written by current writers; nothing to decode
        default:
          s = absl::DataLossError(absl::StrCat("unknown page type ", type));
      }
      if (!s.ok()) {
        if (s.code() == absl::StatusCode::kDataLoss) return Error(page_at_, s.message());
        return absl::Status(s.code(), absl::StrCat("column ", column_.name, ": ", s.message()));
      }
    }
    return std::move(out_);
  }

 private:
  absl::Status Error(size_t at, absl::string_view what) const {
    return absl::DataLossError(absl::StrCat("column ", column_.name, ", page at byte ",
                                            file_offset_ + static_cast<int64_t>(at), ": ", what));
  }

  absl::Status Dictionary(const TValue& header, absl::string_view body, int64_t raw_size) {
    const TValue* h = header.Field(fid::kPageDictionaryHeader);
    if (h == nullptr) return absl::DataLossError("dictionary page without its header");
    if (has_dict_ || out_.num_levels > 0) return absl::DataLossError("a second or late dictionary page");
    const int64_t count = h->IntOr(fid::kDictNumValues, -1);
    const int64_t encoding = h->IntOr(fid::kDictEncoding, 0);
    if (encoding != static_cast<int>(Encoding::kPlain) &&
        encoding != static_cast<int>(Encoding::kPlainDictionary)) {
      return absl::UnimplementedError(absl::StrCat("dictionary encoding ", EncodingName(encoding),
                                                   " is not supported"));
    }
    OPTOUT_RETURN_IF_ERROR(Decompress(chunk_.codec, body, raw_size, &page_));
    if (count < 0 || static_cast<uint64_t>(count) > page_.size() * 8) {
      return absl::DataLossError("bad dictionary size");
    }
    size_t used = 0;
    OPTOUT_RETURN_IF_ERROR(DecodePlain(page_, count, &dict_, &used));
    has_dict_ = true;
    dict_encoding_ = static_cast<int>(encoding);
    return absl::OkStatus();
  }

  // Levels of one page, appended to out_; returns how many hold a value.
  absl::Status Levels(absl::string_view data, int max, size_t count, bool prefixed, int encoding,
                      std::vector<uint8_t>* levels, size_t* used) {
    const int width = BitWidth(max);
    if (encoding == static_cast<int>(Encoding::kBitPacked)) {
      *used = (static_cast<uint64_t>(count) * width + 7) / 8;
      return DecodeBitPackedLevels(data, width, count, levels);
    }
    if (encoding != static_cast<int>(Encoding::kRle)) {
      return absl::UnimplementedError(absl::StrCat("level encoding ", EncodingName(encoding),
                                                   " is not supported"));
    }
    if (prefixed) {
      if (data.size() < 4) return absl::DataLossError("levels cut short");
      const uint32_t len = LoadU32(data.data());
      if (len > data.size() - 4) return absl::DataLossError("levels run past their page");
      *used = 4 + len;
      return DecodeLevels(data.substr(4, len), width, count, levels);
    }
    *used = data.size();
    return DecodeLevels(data, width, count, levels);
  }

  size_t CountValues(size_t first_level, size_t count) const {
    if (column_.max_def == 0) return count;
    size_t n = 0;
    for (size_t i = first_level; i < first_level + count; ++i) n += out_.def[i] == column_.max_def;
    return n;
  }

  absl::Status CheckCount(int64_t count, size_t total) const {
    if (count < 0 || static_cast<uint64_t>(count) > total - out_.num_levels) {
      return absl::DataLossError("page holds more values than its column chunk");
    }
    return absl::OkStatus();
  }

  absl::Status DataV1(const TValue& header, absl::string_view body, int64_t raw_size, size_t total) {
    const TValue* h = header.Field(fid::kPageDataHeader);
    if (h == nullptr) return absl::DataLossError("data page without its header");
    const int64_t count = h->IntOr(fid::kDataNumValues, -1);
    OPTOUT_RETURN_IF_ERROR(CheckCount(count, total));
    OPTOUT_RETURN_IF_ERROR(Decompress(chunk_.codec, body, raw_size, &page_));
    absl::string_view data = page_;
    size_t used = 0;
    const size_t first = out_.num_levels;
    if (column_.max_rep > 0) {
      OPTOUT_RETURN_IF_ERROR(Levels(data, column_.max_rep, count, true,
                                    h->IntOr(fid::kDataRepEncoding, 3), &out_.rep, &used));
      data.remove_prefix(used);
    }
    if (column_.max_def > 0) {
      OPTOUT_RETURN_IF_ERROR(Levels(data, column_.max_def, count, true,
                                    h->IntOr(fid::kDataDefEncoding, 3), &out_.def, &used));
      data.remove_prefix(used);
    }
    out_.num_levels += count;
    return Values(data, h->IntOr(fid::kDataEncoding, 0), CountValues(first, count));
  }

  absl::Status DataV2(const TValue& header, absl::string_view body, int64_t raw_size, size_t total) {
    const TValue* h = header.Field(fid::kPageDataHeaderV2);
    if (h == nullptr) return absl::DataLossError("data page v2 without its header");
    const int64_t count = h->IntOr(fid::kV2NumValues, -1);
    OPTOUT_RETURN_IF_ERROR(CheckCount(count, total));
    const int64_t rep_len = h->IntOr(fid::kV2RepLength, 0);
    const int64_t def_len = h->IntOr(fid::kV2DefLength, 0);
    if (rep_len < 0 || def_len < 0 || rep_len + def_len > static_cast<int64_t>(body.size()) ||
        rep_len + def_len > raw_size) {
      return absl::DataLossError("level lengths run past the page");
    }
    size_t used = 0;
    const size_t first = out_.num_levels;
    if (column_.max_rep > 0) {
      OPTOUT_RETURN_IF_ERROR(Levels(body.substr(0, rep_len), column_.max_rep, count, false,
                                    static_cast<int>(Encoding::kRle), &out_.rep, &used));
    }
    if (column_.max_def > 0) {
      OPTOUT_RETURN_IF_ERROR(Levels(body.substr(rep_len, def_len), column_.max_def, count, false,
                                    static_cast<int>(Encoding::kRle), &out_.def, &used));
    }
    out_.num_levels += count;
    const absl::string_view values = body.substr(rep_len + def_len);
    const bool compressed = h->IntOr(fid::kV2IsCompressed, 1) != 0;
    absl::string_view data = values;
    if (compressed && chunk_.codec != static_cast<int>(Codec::kUncompressed)) {
      OPTOUT_RETURN_IF_ERROR(Decompress(chunk_.codec, values, raw_size - rep_len - def_len, &page_));
      data = page_;
    }
    return Values(data, h->IntOr(fid::kV2Encoding, 0), CountValues(first, count));
  }

  absl::Status Values(absl::string_view data, int64_t encoding, size_t count) {
    size_t used = 0;
    if (keep_indices_ && encoding != static_cast<int>(Encoding::kPlainDictionary) &&
        encoding != static_cast<int>(Encoding::kRleDictionary)) {
      not_dictionary_ = true;  // RunIndices gives up; nothing more is read
      return absl::OkStatus();
    }
    switch (static_cast<Encoding>(encoding)) {
      case Encoding::kPlain:
        return DecodePlain(data, count, &out_, &used, static_cast<size_t>(chunk_.num_values));
      case Encoding::kPlainDictionary:
      case Encoding::kRleDictionary: {
        if (!has_dict_) return absl::DataLossError("dictionary-encoded page without a dictionary");
        if (count == 0) return absl::OkStatus();
        if (data.empty()) return absl::DataLossError("dictionary indices missing");
        const int width = static_cast<uint8_t>(data[0]);
        indices_.clear();
        OPTOUT_RETURN_IF_ERROR(DecodeHybrid(data.substr(1), width, count, &indices_));
        if (keep_indices_) {
          for (uint32_t index : indices_) {
            if (index >= dict_.num_values) return absl::DataLossError("dictionary index out of range");
          }
          static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "indices kept as INT32 LE");
          out_.fixed.append(reinterpret_cast<const char*>(indices_.data()), indices_.size() * 4);
          out_.num_values += indices_.size();
          return absl::OkStatus();
        }
        for (uint32_t index : indices_) {
          if (index >= dict_.num_values) return absl::DataLossError("dictionary index out of range");
          out_.AppendValue(dict_.Value(index));
        }
        return absl::OkStatus();
      }
      case Encoding::kRle: {
        if (column_.type != PhysicalType::kBoolean) break;
        if (data.size() < 4) return absl::DataLossError("RLE booleans cut short");
        const uint32_t len = LoadU32(data.data());
        if (len > data.size() - 4) return absl::DataLossError("RLE booleans run past their page");
        indices_.clear();
        OPTOUT_RETURN_IF_ERROR(DecodeHybrid(data.substr(4, len), 1, count, &indices_));
        for (uint32_t b : indices_) out_.fixed.push_back(static_cast<char>(b));
        out_.num_values += count;
        return absl::OkStatus();
      }
      default:
        break;
    }
    return absl::UnimplementedError(absl::StrCat("value encoding ", EncodingName(encoding),
                                                 " is not supported"));
  }

  const absl::string_view bytes_;
  const int64_t file_offset_;
  const ColumnDescriptor& column_;
  const ChunkInfo& chunk_;
  const ReadLimits& limits_;
  const bool keep_indices_;
  ColumnData out_, dict_;
  bool has_dict_ = false;
  bool not_dictionary_ = false;  // keep_indices_: a page holds its values otherwise
  absl::string_view dict_page_;  // header and body, as stored
  int64_t dict_page_uncompressed_ = 0;
  int dict_encoding_ = 0;
  std::string page_;
  std::vector<uint32_t> indices_;
  size_t page_at_ = 0;
};

}  // namespace

absl::StatusOr<ColumnData> DecodeColumnChunk(absl::string_view bytes, int64_t file_offset,
                                             const ColumnDescriptor& column,
                                             const ChunkInfo& chunk, const ReadLimits& limits) {
  return ChunkDecoder(bytes, file_offset, column, chunk, limits).Run();
}

absl::StatusOr<std::optional<DictionaryChunk>> DecodeDictionaryChunk(
    absl::string_view bytes, int64_t file_offset, const ColumnDescriptor& column,
    const ChunkInfo& chunk, const ReadLimits& limits) {
  return ChunkDecoder(bytes, file_offset, column, chunk, limits, true).RunIndices();
}

}  // namespace optout::parquet
