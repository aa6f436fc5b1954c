#include "client/parquet/parquet_writer.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::parquet {
namespace {

// Moves every offset of a copied chunk's metadata by `delta` and drops the
// indexes and bloom filters, which are not copied.
void Relocate(TValue* chunk, int64_t delta) {
  if (TValue* m = chunk->MutableField(fid::kChunkMetaData)) {
    for (int16_t id : {fid::kMetaDataPageOffset, fid::kMetaIndexPageOffset, fid::kMetaDictionaryPageOffset}) {
      if (TValue* f = m->MutableField(id); f != nullptr && f->i > 0) f->i += delta;
    }
    m->RemoveField(fid::kMetaBloomOffset);
    m->RemoveField(fid::kMetaBloomLength);
  }
  if (TValue* f = chunk->MutableField(fid::kChunkFileOffset); f != nullptr && f->i > 0) f->i += delta;
  for (int16_t id : {fid::kChunkOffsetIndexOffset, fid::kChunkOffsetIndexLength,
                     fid::kChunkColumnIndexOffset, fid::kChunkColumnIndexLength}) {
    chunk->RemoveField(id);
  }
}

}  // namespace

ParquetWriter::ParquetWriter(std::string path, std::FILE* file, const FileMetadata& model)
    : path_(std::move(path)), file_(file), model_(model) {}

ParquetWriter::~ParquetWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::StatusOr<std::unique_ptr<ParquetWriter>> ParquetWriter::Create(const std::string& path,
                                                                     const FileMetadata& model) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  std::unique_ptr<ParquetWriter> writer(new ParquetWriter(path, file, model));
  OPTOUT_RETURN_IF_ERROR(writer->Append(kMagic));
  return writer;
}

absl::Status ParquetWriter::Append(absl::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  }
  offset_ += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::Status ParquetWriter::WriteRowGroup(const std::vector<ColumnData>& columns,
                                          const std::vector<ColumnWriteOptions>& options) {
  if (columns.size() != model_.columns.size() || options.size() != columns.size()) {
    return absl::InvalidArgumentError("one ColumnData and options per column needed");
  }
  TValue group = TValue::Struct();
  TValue chunks = TValue::List(fid::kRowGroupColumns, TType::kStruct);
  const int64_t first = offset_;
  int64_t uncompressed = 0;
  int64_t rows = -1;
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnDescriptor& desc = model_.columns[c];
    int64_t column_rows = static_cast<int64_t>(columns[c].num_levels);
    if (desc.max_rep > 0) {
      column_rows = 0;
      for (uint8_t r : columns[c].rep) column_rows += r == 0;
    }
    if (rows >= 0 && column_rows != rows) {
      return absl::InvalidArgumentError(absl::StrCat("column ", desc.name, " has ", column_rows,
                                                     " rows, the others ", rows));
    }
    rows = column_rows;
    const int64_t at = offset_;
    OPTOUT_ASSIGN_OR_RETURN(EncodedChunk encoded, EncodeColumnChunk(columns[c], desc, options[c], at));
    OPTOUT_RETURN_IF_ERROR(Append(encoded.bytes));
    uncompressed += encoded.uncompressed_bytes;
    TValue chunk = TValue::Struct();
    chunk.items.push_back(TValue::Int(fid::kChunkFileOffset, TType::kI64, at));
    encoded.meta.id = fid::kChunkMetaData;
    chunk.items.push_back(std::move(encoded.meta));
    chunks.items.push_back(std::move(chunk));
  }
  group.items.push_back(std::move(chunks));
  group.items.push_back(TValue::Int(fid::kRowGroupTotalByteSize, TType::kI64, uncompressed));
  group.items.push_back(TValue::Int(fid::kRowGroupNumRows, TType::kI64, std::max<int64_t>(rows, 0)));
  group.items.push_back(TValue::Int(fid::kRowGroupFileOffset, TType::kI64, first));
  group.items.push_back(TValue::Int(fid::kRowGroupTotalCompressed, TType::kI64, offset_ - first));
  group.items.push_back(TValue::Int(fid::kRowGroupOrdinal, TType::kI16, row_groups_.size()));
  rows_ += std::max<int64_t>(rows, 0);
  row_groups_.push_back(std::move(group));
  return absl::OkStatus();
}

absl::Status ParquetWriter::CopyRowGroup(ParquetFile& source, int row_group) {
  const TValue* groups = source.metadata().tree.Field(fid::kFileRowGroups);
  TValue group = groups->items.at(row_group);
  TValue* chunks = group.MutableField(fid::kRowGroupColumns);
  const int64_t first = offset_;
  for (size_t c = 0; c < chunks->items.size(); ++c) {
    const ChunkInfo& info = source.metadata().row_groups[row_group].chunks[c];
    OPTOUT_ASSIGN_OR_RETURN(const std::string bytes, source.ReadChunkBytes(row_group, static_cast<int>(c)));
    Relocate(&chunks->items[c], offset_ - info.start);
    OPTOUT_RETURN_IF_ERROR(Append(bytes));
  }
  group.SetInt(fid::kRowGroupFileOffset, TType::kI64, first);
  group.SetInt(fid::kRowGroupTotalCompressed, TType::kI64, offset_ - first);
  group.SetInt(fid::kRowGroupOrdinal, TType::kI16, static_cast<int64_t>(row_groups_.size()));
  rows_ += source.metadata().row_groups[row_group].num_rows;
  row_groups_.push_back(std::move(group));
  return absl::OkStatus();
}

absl::Status ParquetWriter::Close() {
  TValue meta = model_.tree;
  meta.SetInt(fid::kFileNumRows, TType::kI64, rows_);
  meta.RemoveField(fid::kFileRowGroups);
  TValue groups = TValue::List(fid::kFileRowGroups, TType::kStruct);
  groups.items = std::move(row_groups_);
  meta.items.push_back(std::move(groups));
  std::string footer;
  SerializeStruct(meta, &footer);
  OPTOUT_RETURN_IF_ERROR(Append(footer));
  char length[4];
  const uint32_t n = static_cast<uint32_t>(footer.size());
  std::memcpy(length, &n, 4);
  OPTOUT_RETURN_IF_ERROR(Append(absl::string_view(length, 4)));
  OPTOUT_RETURN_IF_ERROR(Append(kMagic));
  const bool ok = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) return absl::UnavailableError(absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

FileMetadata MakeFlatSchema(const std::vector<NewColumn>& columns) {
  FileMetadata meta;
  meta.tree.items.push_back(TValue::Int(fid::kFileVersion, TType::kI32, 1));
  TValue schema = TValue::List(fid::kFileSchema, TType::kStruct);
  TValue root = TValue::Struct();
  root.items.push_back(TValue::Binary(fid::kSchemaName, "schema"));
  root.items.push_back(TValue::Int(fid::kSchemaNumChildren, TType::kI32, columns.size()));
  schema.items.push_back(std::move(root));
  for (const NewColumn& c : columns) {
    TValue e = TValue::Struct();
    e.items.push_back(TValue::Int(fid::kSchemaType, TType::kI32, static_cast<int>(c.type)));
    if (c.type == PhysicalType::kFixedLenByteArray) {
      e.items.push_back(TValue::Int(fid::kSchemaTypeLength, TType::kI32, c.type_length));
    }
    e.items.push_back(TValue::Int(fid::kSchemaRepetition, TType::kI32,
                                  static_cast<int>(c.optional ? Repetition::kOptional : Repetition::kRequired)));
    e.items.push_back(TValue::Binary(fid::kSchemaName, c.name));
    if (c.utf8) {
      e.items.push_back(TValue::Int(6, TType::kI32, 0));  // ConvertedType UTF8
      TValue logical = TValue::Struct();
      logical.id = 10;
      TValue string_type = TValue::Struct();
      string_type.id = 1;  // LogicalType.STRING (an empty struct)
      logical.items.push_back(std::move(string_type));
      e.items.push_back(std::move(logical));
    }
    schema.items.push_back(std::move(e));
    ColumnDescriptor d;
    d.name = c.name;
    d.path = {c.name};
    d.type = c.type;
    d.type_length = c.type_length;
    d.max_def = c.optional ? 1 : 0;
    d.utf8 = c.utf8;
    meta.columns.push_back(std::move(d));
  }
  meta.tree.items.push_back(std::move(schema));
  meta.tree.items.push_back(TValue::Int(fid::kFileNumRows, TType::kI64, 0));
  meta.tree.items.push_back(TValue::Binary(fid::kFileCreatedBy, "optout parquet writer"));
  return meta;
}

}  // namespace optout::parquet
