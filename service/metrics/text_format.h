// File: service/metrics/text_format.h
//
// The lexical rules of the Prometheus text exposition format 0.0.4: how
// help text, label values and numbers are written.
#ifndef OPTOUT_SERVICE_METRICS_TEXT_FORMAT_H_
#define OPTOUT_SERVICE_METRICS_TEXT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace optout::metrics {

// Content-Type of a scrape answer.
inline constexpr char kTextFormatContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// True for [a-zA-Z_:][a-zA-Z0-9_:]* (metric names); label names may not
// contain ':' and may not start with "__".
bool IsValidMetricName(absl::string_view name);
bool IsValidLabelName(absl::string_view name);

// HELP text: backslash and newline escaped.
std::string EscapeHelp(absl::string_view help);
// Label value: backslash, double quote and newline escaped.
std::string EscapeLabelValue(absl::string_view value);

// {name="value",...} or nothing when there are no labels; `extra_name` /
// `extra_value` (e.g. "le") are appended when extra_name is not empty.
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values,
                         absl::string_view extra_name = "", absl::string_view extra_value = "");

// A sample value: integers exactly, "+Inf", "-Inf", "NaN", otherwise the
// shortest decimal that reads back as the same double.
std::string FormatValue(double value);

}  // namespace optout::metrics

#endif  // OPTOUT_SERVICE_METRICS_TEXT_FORMAT_H_
