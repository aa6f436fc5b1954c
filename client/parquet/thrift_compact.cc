#include "client/parquet/thrift_compact.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace optout::parquet {
namespace {

// Parquet's metadata nests a handful of levels; a deeper input is hostile.
constexpr int kMaxDepth = 32;

class Parser {
 public:
  Parser(absl::string_view data, size_t pos) : data_(data), pos_(pos) {}
  size_t pos() const { return pos_; }

  absl::Status Struct(TValue* out, int depth) {
    if (depth > kMaxDepth) return Error("metadata nested too deeply");
    out->type = TType::kStruct;
    int16_t last_id = 0;
    for (;;) {
      uint8_t header;
      if (!Byte(&header)) return Error("metadata cut short inside a struct");
      if (header == 0) return absl::OkStatus();
      const auto type = static_cast<TType>(header & 0x0f);
      int16_t id;
      if ((header >> 4) != 0) {
        id = static_cast<int16_t>(last_id + (header >> 4));
      } else {
        int64_t raw;
        if (!ZigZag(&raw)) return Error("bad field id");
        id = static_cast<int16_t>(raw);
      }
      last_id = id;
      TValue field;
      field.id = id;
      if (type == TType::kTrue || type == TType::kFalse) {
        field.type = type;
        field.i = type == TType::kTrue ? 1 : 0;
      } else {
        absl::Status s = Value(type, &field, depth);
        if (!s.ok()) return s;
      }
      out->items.push_back(std::move(field));
    }
  }

 private:
  absl::Status Value(TType type, TValue* out, int depth) {
    out->type = type;
    switch (type) {
      case TType::kTrue:
      case TType::kFalse: {  // a bool inside a list or map: one byte
        uint8_t b;
        if (!Byte(&b)) return Error("metadata cut short");
        out->type = b == 1 ? TType::kTrue : TType::kFalse;
        out->i = b == 1;
        return absl::OkStatus();
      }
      case TType::kByte: {
        uint8_t b;
        if (!Byte(&b)) return Error("metadata cut short");
        out->i = static_cast<int8_t>(b);
        return absl::OkStatus();
      }
      case TType::kI16:
      case TType::kI32:
      case TType::kI64:
        if (!ZigZag(&out->i)) return Error("bad integer");
        return absl::OkStatus();
      case TType::kDouble:
        if (data_.size() - pos_ < 8) return Error("metadata cut short");
        std::memcpy(&out->d, data_.data() + pos_, 8);
        pos_ += 8;
        return absl::OkStatus();
      case TType::kBinary: {
        uint64_t len;
        if (!Varint(&len)) return Error("bad string length");
        if (len > data_.size() - pos_) return Error("string runs past the end of the metadata");
        out->bin.assign(data_.data() + pos_, len);
        pos_ += len;
        return absl::OkStatus();
      }
      case TType::kUuid:
        if (data_.size() - pos_ < 16) return Error("metadata cut short");
        out->bin.assign(data_.data() + pos_, 16);
        pos_ += 16;
        return absl::OkStatus();
      case TType::kList:
      case TType::kSet: {
        uint8_t header;
        if (!Byte(&header)) return Error("metadata cut short");
        uint64_t size = header >> 4;
        if (size == 15 && !Varint(&size)) return Error("bad list size");
        out->elem_type = static_cast<TType>(header & 0x0f);
        return Elements(size, out->elem_type, TType::kStop, out, depth);
      }
      case TType::kMap: {
        uint64_t size;
        if (!Varint(&size)) return Error("bad map size");
        if (size == 0) return absl::OkStatus();
        uint8_t types;
        if (!Byte(&types)) return Error("metadata cut short");
        out->elem_type = static_cast<TType>(types >> 4);
        out->value_type = static_cast<TType>(types & 0x0f);
        return Elements(size, out->elem_type, out->value_type, out, depth);
      }
      case TType::kStruct:
        return Struct(out, depth + 1);
      default:
        return Error(absl::StrCat("unknown Thrift type ", static_cast<int>(type)));
    }
  }

  // Every element takes at least one byte, so `size` is checked against the
  // bytes left before anything is reserved.
  absl::Status Elements(uint64_t size, TType key, TType value, TValue* out, int depth) {
    if (depth > kMaxDepth) return Error("metadata nested too deeply");
    if (key == TType::kStop || (value == TType::kStop && out->type == TType::kMap)) {
      return Error("bad element type");
    }
    const uint64_t per = out->type == TType::kMap ? 2 : 1;
    if (size > (data_.size() - pos_) / per) return Error("list longer than the metadata");
    out->items.reserve(size * per);
    for (uint64_t n = 0; n < size; ++n) {
      for (uint64_t k = 0; k < per; ++k) {
        TValue element;
        absl::Status s = Value(k == 0 ? key : value, &element, depth + 1);
        if (!s.ok()) return s;
        out->items.push_back(std::move(element));
      }
    }
    return absl::OkStatus();
  }

  bool Byte(uint8_t* b) {
    if (pos_ >= data_.size()) return false;
    *b = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!Byte(&b)) return false;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool ZigZag(int64_t* v) {
    uint64_t raw;
    if (!Varint(&raw)) return false;
    *v = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
    return true;
  }
  absl::Status Error(absl::string_view what) const {
    return absl::DataLossError(absl::StrCat(what, " (at byte ", pos_, ")"));
  }

  const absl::string_view data_;
  size_t pos_;
};

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutZigZag(int64_t v, std::string* out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

void PutValue(const TValue& v, std::string* out);

void PutElements(const TValue& v, std::string* out) {
  for (const TValue& e : v.items) {
    if (e.type == TType::kTrue || e.type == TType::kFalse) {
      out->push_back(e.i ? 1 : 2);
    } else {
      PutValue(e, out);
    }
  }
}

void PutValue(const TValue& v, std::string* out) {
  switch (v.type) {
    case TType::kTrue:
    case TType::kFalse:
    case TType::kStop:
      return;  // a field's bool lives in its header
    case TType::kByte:
      out->push_back(static_cast<char>(v.i));
      return;
    case TType::kI16:
    case TType::kI32:
    case TType::kI64:
      PutZigZag(v.i, out);
      return;
    case TType::kDouble: {
      char bytes[8];
      std::memcpy(bytes, &v.d, 8);
      out->append(bytes, 8);
      return;
    }
    case TType::kBinary:
      PutVarint(v.bin.size(), out);
      out->append(v.bin);
      return;
    case TType::kUuid:
      out->append(v.bin);
      return;
    case TType::kList:
    case TType::kSet: {
      const size_t n = v.items.size();
      const uint8_t elem = static_cast<uint8_t>(v.elem_type);
      if (n < 15) {
        out->push_back(static_cast<char>((n << 4) | elem));
      } else {
        out->push_back(static_cast<char>(0xf0 | elem));
        PutVarint(n, out);
      }
      PutElements(v, out);
      return;
    }
    case TType::kMap:
      PutVarint(v.items.size() / 2, out);
      if (!v.items.empty()) {
        out->push_back(static_cast<char>((static_cast<uint8_t>(v.elem_type) << 4) |
                                         static_cast<uint8_t>(v.value_type)));
      }
      PutElements(v, out);
      return;
    case TType::kStruct:
      SerializeStruct(v, out);
      return;
  }
}

}  // namespace

const TValue* TValue::Field(int16_t field_id) const {
  for (const TValue& f : items) {
    if (f.id == field_id) return &f;
  }
  return nullptr;
}

TValue* TValue::MutableField(int16_t field_id) {
  for (TValue& f : items) {
    if (f.id == field_id) return &f;
  }
  return nullptr;
}

int64_t TValue::IntOr(int16_t field_id, int64_t fallback) const {
  const TValue* f = Field(field_id);
  return f != nullptr ? f->i : fallback;
}

void TValue::SetInt(int16_t field_id, TType int_type, int64_t value) {
  if (TValue* f = MutableField(field_id)) {
    f->type = int_type;
    f->i = value;
    return;
  }
  items.push_back(Int(field_id, int_type, value));
}

void TValue::RemoveField(int16_t field_id) {
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&](const TValue& f) { return f.id == field_id; }),
              items.end());
}

TValue TValue::Int(int16_t field_id, TType type, int64_t value) {
  TValue v;
  v.id = field_id;
  v.type = type;
  v.i = value;
  return v;
}

TValue TValue::Binary(int16_t field_id, std::string value) {
  TValue v;
  v.id = field_id;
  v.type = TType::kBinary;
  v.bin = std::move(value);
  return v;
}

TValue TValue::List(int16_t field_id, TType elem_type) {
  TValue v;
  v.id = field_id;
  v.type = TType::kList;
  v.elem_type = elem_type;
  return v;
}

absl::StatusOr<TValue> ParseStruct(absl::string_view data, size_t* pos) {
  Parser parser(data, *pos);
  TValue value;
  absl::Status s = parser.Struct(&value, 0);
  if (!s.ok()) return s;
  *pos = parser.pos();
  return value;
}

void SerializeStruct(const TValue& value, std::string* out) {
  // Fields in ascending id order keep the one-byte delta headers short and
  // are what every reader expects.
  std::vector<const TValue*> fields;
  fields.reserve(value.items.size());
  for (const TValue& f : value.items) fields.push_back(&f);
  std::stable_sort(fields.begin(), fields.end(),
                   [](const TValue* a, const TValue* b) { return a->id < b->id; });
  int16_t last_id = 0;
  for (const TValue* f : fields) {
    uint8_t type = static_cast<uint8_t>(f->type);
    if (f->type == TType::kTrue || f->type == TType::kFalse) {
      type = f->i ? static_cast<uint8_t>(TType::kTrue) : static_cast<uint8_t>(TType::kFalse);
    }
    const int delta = f->id - last_id;
    if (delta > 0 && delta <= 15) {
      out->push_back(static_cast<char>((delta << 4) | type));
    } else {
      out->push_back(static_cast<char>(type));
      PutZigZag(f->id, out);
    }
    last_id = f->id;
    PutValue(*f, out);
  }
  out->push_back(0);
}

}  // namespace optout::parquet
