#include "client/parquet/metadata.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace optout::parquet {
namespace {

absl::Status Corrupt(absl::string_view what) { return absl::DataLossError(what); }

// Walks the depth-first schema list from element `*index`, collecting leaves.
absl::Status WalkSchema(const std::vector<TValue>& schema, size_t* index, int depth,
                        std::vector<std::string>* path, int def, int rep,
                        std::vector<ColumnDescriptor>* leaves) {
  if (depth > 64 || def > 200 || rep > 200) return Corrupt("schema nested too deeply");
  if (*index >= schema.size()) return Corrupt("schema has fewer elements than its groups claim");
  const TValue& e = schema[(*index)++];
  if (e.type != TType::kStruct) return Corrupt("schema element is not a struct");
  const TValue* name = e.Field(fid::kSchemaName);
  path->push_back(name != nullptr ? name->bin : "");
  const int repetition = static_cast<int>(e.IntOr(fid::kSchemaRepetition, 0));
  if (repetition == static_cast<int>(Repetition::kOptional)) ++def;
  if (repetition == static_cast<int>(Repetition::kRepeated)) ++def, ++rep;
  const int64_t children = e.IntOr(fid::kSchemaNumChildren, 0);
  if (children < 0 || children > static_cast<int64_t>(schema.size())) return Corrupt("bad num_children");
  if (children == 0 && e.Field(fid::kSchemaType) == nullptr) {
    return Corrupt(absl::StrCat("column ", absl::StrJoin(*path, "."), " has no type"));
  }
  if (children == 0) {
    ColumnDescriptor c;
    c.name = absl::StrJoin(*path, ".");
    c.path = *path;
    const int64_t type = e.IntOr(fid::kSchemaType, -1);
    if (type < 0 || type > 7) return Corrupt(absl::StrCat("column ", c.name, " has unknown type ", type));
    c.type = static_cast<PhysicalType>(type);
    c.type_length = static_cast<int>(e.IntOr(fid::kSchemaTypeLength, 0));
    if (c.type == PhysicalType::kFixedLenByteArray &&
        (c.type_length <= 0 || c.type_length > (1 << 20))) {
      return Corrupt(absl::StrCat("column ", c.name, " has a bad type_length"));
    }
    c.max_def = def;
    c.max_rep = rep;
    c.flat = depth == 1 && rep == 0;
    const int64_t converted = e.IntOr(6, -1);  // ConvertedType UTF8 = 0
    const TValue* logical = e.Field(10);        // LogicalType union, STRING = 1
    c.utf8 = converted == 0 || (logical != nullptr && logical->Field(1) != nullptr);
    leaves->push_back(std::move(c));
  }
  for (int64_t i = 0; i < children; ++i) {
    absl::Status s = WalkSchema(schema, index, depth + 1, path, def, rep, leaves);
    if (!s.ok()) return s;
  }
  path->pop_back();
  return absl::OkStatus();
}

}  // namespace

int FileMetadata::FindColumn(absl::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

absl::StatusOr<FileMetadata> Parse(absl::string_view bytes, int64_t offset, int64_t file_size) {
  FileMetadata meta;
  size_t pos = 0;
  auto tree = ParseStruct(bytes, &pos);
  if (!tree.ok()) return tree.status();
  meta.tree = *std::move(tree);
  if (meta.tree.Field(fid::kFileEncryption) != nullptr) {
    return absl::UnimplementedError("encrypted Parquet files are not supported");
  }
  const TValue* schema = meta.tree.Field(fid::kFileSchema);
  if (schema == nullptr || schema->type != TType::kList || schema->items.empty()) {
    return Corrupt("no schema");
  }
  // The root element names the schema; its children are the columns.
  const TValue& root = schema->items[0];
  const int64_t top = root.IntOr(fid::kSchemaNumChildren, 0);
  if (top <= 0 || top > static_cast<int64_t>(schema->items.size())) return Corrupt("bad schema root");
  size_t index = 1;
  std::vector<std::string> path;
  for (int64_t i = 0; i < top; ++i) {
    absl::Status s = WalkSchema(schema->items, &index, 1, &path, 0, 0, &meta.columns);
    if (!s.ok()) return s;
  }
  if (index != schema->items.size()) return Corrupt("schema has elements outside the root");

  const TValue* groups = meta.tree.Field(fid::kFileRowGroups);
  if (groups != nullptr && groups->type != TType::kList) return Corrupt("row_groups is not a list");
  const int64_t data_end = offset;  // chunks lie before the footer
  int64_t rows = 0;
  for (size_t g = 0; groups != nullptr && g < groups->items.size(); ++g) {
    const TValue& group = groups->items[g];
    RowGroupInfo info;
    info.num_rows = group.IntOr(fid::kRowGroupNumRows, -1);
    if (info.num_rows < 0) return Corrupt(absl::StrCat("row group ", g, " has no row count"));
    info.first_row = rows;
    rows += info.num_rows;
    const TValue* chunks = group.Field(fid::kRowGroupColumns);
    if (chunks == nullptr || chunks->items.size() != meta.columns.size()) {
      return Corrupt(absl::StrCat("row group ", g, " does not have one chunk per column"));
    }
    for (size_t c = 0; c < chunks->items.size(); ++c) {
      const TValue& chunk = chunks->items[c];
      const std::string& name = meta.columns[c].name;
      if (chunk.Field(fid::kChunkFilePath) != nullptr) {
        return absl::UnimplementedError(
            absl::StrCat("column ", name, " of row group ", g, " is stored in another file"));
      }
      const TValue* m = chunk.Field(fid::kChunkMetaData);
      if (m == nullptr || m->type != TType::kStruct) {
        return Corrupt(absl::StrCat("column ", name, " of row group ", g, " has no metadata"));
      }
      ChunkInfo ci;
      ci.codec = static_cast<int>(m->IntOr(fid::kMetaCodec, 0));
      ci.num_values = m->IntOr(fid::kMetaNumValues, -1);
      const int64_t data = m->IntOr(fid::kMetaDataPageOffset, -1);
      const int64_t dict = m->IntOr(fid::kMetaDictionaryPageOffset, 0);
      ci.start = dict > 0 && dict < data ? dict : data;
      ci.length = m->IntOr(fid::kMetaCompressed, -1);
      if (m->IntOr(fid::kMetaType, -1) != static_cast<int>(meta.columns[c].type)) {
        return Corrupt(absl::StrCat("column ", name, " of row group ", g, " has another type than its schema"));
      }
      if (ci.num_values < 0 || ci.start < 4 || ci.length <= 0 || ci.start > data_end ||
          ci.length > data_end - ci.start) {
        return Corrupt(absl::StrCat("column ", name, " of row group ", g,
                                    " lies outside the data (offset ", ci.start, ", ", ci.length,
                                    " bytes, file ", file_size, " bytes)"));
      }
      info.chunks.push_back(ci);
    }
    meta.row_groups.push_back(std::move(info));
  }
  meta.num_rows = rows;
  return meta;
}

}  // namespace

absl::StatusOr<FileMetadata> ParseFileMetadata(absl::string_view bytes, int64_t offset,
                                               int64_t file_size) {
  auto meta = Parse(bytes, offset, file_size);
  if (meta.ok() || meta.status().code() != absl::StatusCode::kDataLoss) return meta;
  // Thrift errors name a byte of the footer; say where the footer is.
  return absl::DataLossError(absl::StrCat("corrupt footer (", bytes.size(), " bytes at byte ", offset,
                                          "): ", meta.status().message()));
}

}  // namespace optout::parquet
