// File: service/http/json_shape.h
//
// CheckJsonShape: the type rules of proto3's JSON mapping, applied strictly
// before protobuf parses a body. protobuf 3.21's parser is lenient where a
// caller's mistake should be an error: it takes a single value for a
// repeated field ("urls": "https://..." registers one URL). Here a repeated
// field must be an array, a message an object, a string or bytes field a
// string, a bool a bool, a number a number (or, as the mapping allows, a
// numeric string), an enum a name or number; unknown fields are refused too.
// Pure function; thread-safe.
#ifndef OPTOUT_SERVICE_HTTP_JSON_SHAPE_H_
#define OPTOUT_SERVICE_HTTP_JSON_SHAPE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace optout::service::http {

// InvalidArgument naming the path of the first offending value
// (e.g. "items[2].url: must be a string") when `body` is not one JSON object
// shaped like `type`.
absl::Status CheckJsonShape(absl::string_view body, const google::protobuf::Descriptor& type);

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_JSON_SHAPE_H_
