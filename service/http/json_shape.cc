#include "service/http/json_shape.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace optout::service::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::json;

// Nesting our messages need is 3 (CheckRequest.items[].pdq.dihedral[]).
constexpr int kMaxDepth = 16;

absl::Status Wrong(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": must be ", what));
}

absl::Status CheckMessage(const Json& value, const Descriptor& type, const std::string& path,
                          int depth);

// The mapping accepts a field's lowerCamelCase JSON name or its proto name.
const FieldDescriptor* FieldNamed(const Descriptor& type, const std::string& name) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->json_name() == name || field->name() == name) return field;
  }
  return nullptr;
}

absl::Status CheckSingle(const Json& value, const FieldDescriptor& field, const std::string& path,
                         int depth) {
  if (value.is_null()) return absl::OkStatus();  // the mapping's "default value"
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckMessage(value, *field.message_type(), path, depth + 1);
    case FieldDescriptor::CPPTYPE_STRING:
      if (!value.is_string()) {
        return Wrong(path, field.type() == FieldDescriptor::TYPE_BYTES ? "a base64 string"
                                                                       : "a string");
      }
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!value.is_boolean()) return Wrong(path, "true or false");
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_ENUM:
      if (!value.is_string() && !value.is_number_integer()) return Wrong(path, "an enum name");
      return absl::OkStatus();
    default:  // integers and floats; protobuf checks ranges and digits
      if (!value.is_number() && !value.is_string()) return Wrong(path, "a number");
      return absl::OkStatus();
  }
}

absl::Status CheckMessage(const Json& value, const Descriptor& type, const std::string& path,
                          int depth) {
  if (depth > kMaxDepth) return absl::InvalidArgumentError(absl::StrCat(path, ": nested too deep"));
  if (!value.is_object()) {
    return Wrong(path.empty() ? std::string("request body") : path,
                 absl::StrCat("a JSON object (", type.name(), ")"));
  }
  for (const auto& [name, member] : value.items()) {
    const FieldDescriptor* field = FieldNamed(type, name);
    const std::string field_path = path.empty() ? name : absl::StrCat(path, ".", name);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(field_path, ": no such field in ", type.name()));
    }
    if (!field->is_repeated()) {
      if (absl::Status s = CheckSingle(member, *field, field_path, depth); !s.ok()) return s;
      continue;
    }
    if (member.is_null()) continue;
    if (!member.is_array()) return Wrong(field_path, "a JSON array");
    for (size_t i = 0; i < member.size(); ++i) {
      if (member[i].is_null()) return Wrong(absl::StrCat(field_path, "[", i, "]"), "a value");
      absl::Status s = CheckSingle(member[i], *field, absl::StrCat(field_path, "[", i, "]"), depth);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckJsonShape(absl::string_view body, const Descriptor& type) {
  // No exceptions: a parse error gives a "discarded" value.
  const Json parsed = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("request body is not valid JSON");
  return CheckMessage(parsed, type, "", 0);
}

}  // namespace optout::service::http
