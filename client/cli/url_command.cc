// File: client/cli/url_command.cc
//
// `optout url canonicalize URL...` and `optout url expressions URL...`: show
// how the registry sees a URL (spec shared/docs/url-canonicalization.md). One
// output line per input, in order; with no URL arguments, one URL per line of
// standard input. An invalid URL prints a one-line reason on stderr, the
// other inputs go on, and the exit status is 1. With --json each output line
// is a JSON object (errors included, as {"input":…,"error":KIND,"reason":…}).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/command.h"
#include "client/common/url/idna.h"
#include "client/common/url/url.h"

namespace optout::cli {
namespace {

constexpr size_t kMaxShownInputBytes = 200;

// The input as a C-like literal for a one-line message: printable ASCII as
// is, everything else as \xHH, cut after kMaxShownInputBytes.
std::string ShowInput(absl::string_view input) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < input.size() && i < kMaxShownInputBytes; ++i) {
    const auto c = static_cast<unsigned char>(input[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out.append({'\\', 'x', kHex[c >> 4], kHex[c & 15]});
    }
  }
  out.push_back('"');
  if (input.size() > kMaxShownInputBytes) absl::StrAppend(&out, "... (", input.size(), " bytes)");
  return out;
}

// A JSON string literal. Valid UTF-8 is kept; control characters are
// \u-escaped and bytes that are not valid UTF-8 become U+FFFD.
std::string JsonString(absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out.append({'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]});
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      size_t len = 1;
      while (len < 4 && i + len < s.size() &&
             (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) {
        ++len;
      }
      // Take the longest prefix that is one valid UTF-8 character.
      while (len > 1 && !url::IsValidUtf8(s.substr(i, len))) --len;
      if (len == 1) {  // a lone byte >= 0x80 is never valid UTF-8
        out.append("\\ufffd");
      } else {
        out.append(s.data() + i, len);
      }
      i += len;
    }
  }
  out.push_back('"');
  return out;
}

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(JsonString(items[i]));
  }
  out.push_back(']');
  return out;
}

struct UrlArgs {
  std::vector<std::string> urls;
  std::string psl_path = url::PublicSuffixList::kDefaultPath;
};

std::vector<std::string> InputsOrStdin(const std::vector<std::string>& urls) {
  if (!urls.empty()) return urls;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(std::cin, line)) lines.push_back(line);
  return lines;
}

// Reports an invalid input; returns false.
bool ReportInvalid(const CommandContext& ctx, absl::string_view input, const absl::Status& status) {
  const std::optional<url::UrlErrorKind> kind = url::GetUrlErrorKind(status);
  std::cerr << "optout: invalid URL " << ShowInput(input) << ": " << status.message() << "\n";
  if (ctx.json) {
    const absl::string_view message = status.message();
    const absl::string_view name = kind ? url::UrlErrorKindName(*kind) : "INVALID";
    absl::string_view reason = message;
    if (kind && reason.size() > name.size() + 2) reason.remove_prefix(name.size() + 2);
    std::cout << "{\"input\":" << JsonString(input) << ",\"error\":" << JsonString(name)
              << ",\"reason\":" << JsonString(reason) << "}\n";
  }
  return false;
}

void RunCanonicalize(const UrlArgs& args, CommandContext& ctx) {
  bool all_ok = true;
  for (const std::string& input : InputsOrStdin(args.urls)) {
    absl::StatusOr<url::CanonicalUrl> canonical = url::Canonicalize(input);
    if (!canonical.ok()) {
      all_ok = ReportInvalid(ctx, input, canonical.status()) && all_ok;
      continue;
    }
    if (ctx.json) {
      std::cout << "{\"input\":" << JsonString(input)
                << ",\"canonical\":" << JsonString(canonical->ToString())
                << ",\"exact_expression\":" << JsonString(canonical->ExactExpression()) << "}\n";
    } else {
      std::cout << canonical->ToString() << "\n";
    }
  }
  if (!all_ok) ctx.exit_code = 1;
}

void RunExpressions(const UrlArgs& args, CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<url::PublicSuffixList>> psl =
      url::PublicSuffixList::Load(args.psl_path);
  if (!psl.ok()) {
    std::cerr << "optout: " << psl.status().message() << "\n";
    ctx.exit_code = 2;
    return;
  }
  bool all_ok = true;
  for (const std::string& input : InputsOrStdin(args.urls)) {
    absl::StatusOr<url::CanonicalUrl> canonical = url::Canonicalize(input);
    if (!canonical.ok()) {
      all_ok = ReportInvalid(ctx, input, canonical.status()) && all_ok;
      continue;
    }
    const std::vector<std::string> expressions = url::LookupExpressions(*canonical, **psl);
    if (ctx.json) {
      std::cout << "{\"input\":" << JsonString(input)
                << ",\"canonical\":" << JsonString(canonical->ToString())
                << ",\"expressions\":" << JsonList(expressions)
                << ",\"psl_version\":" << JsonString((*psl)->version()) << "}\n";
    } else {
      std::cout << absl::StrJoin(expressions, ",") << "\n";
    }
  }
  if (!all_ok) ctx.exit_code = 1;
}

}  // namespace

void AddUrlCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* url = app.add_subcommand("url", "show how the registry canonicalizes and matches URLs");
  url->require_subcommand(1);

  auto canonicalize_args = std::make_shared<UrlArgs>();
  CLI::App* canonicalize = url->add_subcommand(
      "canonicalize", "print the canonical form of each URL (one line per URL; stdin if none)");
  canonicalize->add_option("URL", canonicalize_args->urls, "URLs to canonicalize");
  canonicalize->callback([canonicalize_args, &ctx] { RunCanonicalize(*canonicalize_args, ctx); });

  auto expressions_args = std::make_shared<UrlArgs>();
  CLI::App* expressions = url->add_subcommand(
      "expressions",
      "print the lookup expressions of each URL, comma-separated, exact expression first");
  expressions->add_option("URL", expressions_args->urls, "URLs");
  expressions->add_option("--psl", expressions_args->psl_path, "Public Suffix List file");
  expressions->callback([expressions_args, &ctx] { RunExpressions(*expressions_args, ctx); });
}

}  // namespace optout::cli
