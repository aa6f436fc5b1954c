// File: client/cli/url_command.cc
//
// `optout url canonicalize URL...` and `optout url expressions URL...`: show
// how the registry sees a URL (client/common/url/URL_RULES.md). One
// output line per input, in order; with no URL arguments, one URL per line of
// standard input. An invalid URL prints a one-line reason on stderr, the
// other inputs go on, and the exit status is 1. With --json each output line
// is a JSON object (errors included, as {"input":…,"error":KIND,"reason":…}).
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/command.h"
#include "client/cli/error_reporter.h"
#include "client/common/url/url.h"
#include "nlohmann/json.hpp"

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

// One JSON object per line. Inputs need not be UTF-8: bytes that are not
// become U+FFFD instead of failing the line.
void PrintJsonLine(const nlohmann::ordered_json& line) {
  std::cout << line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
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

// Reports an invalid input (and, with --json, its error line); the other
// inputs go on.
void ReportInvalid(CommandContext& ctx, absl::string_view command, absl::string_view input,
                   const absl::Status& status) {
  ReportError(ctx, command,
              absl::Status(status.code(),
                           absl::StrCat("invalid URL ", ShowInput(input), ": ", status.message())));
  if (ctx.json) {
    const std::optional<url::UrlErrorKind> kind = url::GetUrlErrorKind(status);
    const absl::string_view name = kind ? url::UrlErrorKindName(*kind) : "INVALID";
    absl::string_view reason = status.message();
    // The message starts with "<KIND>: ", which has its own field here.
    if (kind && reason.size() > name.size() + 2) reason.remove_prefix(name.size() + 2);
    nlohmann::ordered_json line;
    line["input"] = std::string(input);
    line["error"] = std::string(name);
    line["reason"] = std::string(reason);
    PrintJsonLine(line);
  }
}

void RunCanonicalize(const UrlArgs& args, CommandContext& ctx) {
  for (const std::string& input : InputsOrStdin(args.urls)) {
    absl::StatusOr<url::CanonicalUrl> canonical = url::Canonicalize(input);
    if (!canonical.ok()) {
      ReportInvalid(ctx, "url canonicalize", input, canonical.status());
      continue;
    }
    if (ctx.json) {
      nlohmann::ordered_json line;
      line["input"] = input;
      line["canonical"] = canonical->ToString();
      line["exact_expression"] = canonical->ExactExpression();
      PrintJsonLine(line);
    } else {
      std::cout << canonical->ToString() << "\n";
    }
  }
}

void RunExpressions(const UrlArgs& args, CommandContext& ctx) {
  absl::StatusOr<std::unique_ptr<url::PublicSuffixList>> psl =
      url::PublicSuffixList::Load(args.psl_path);
  if (!psl.ok()) return ReportError(ctx, "url expressions", psl.status());
  for (const std::string& input : InputsOrStdin(args.urls)) {
    absl::StatusOr<url::CanonicalUrl> canonical = url::Canonicalize(input);
    if (!canonical.ok()) {
      ReportInvalid(ctx, "url expressions", input, canonical.status());
      continue;
    }
    const std::vector<std::string> expressions = url::LookupExpressions(*canonical, **psl);
    if (ctx.json) {
      nlohmann::ordered_json line;
      line["input"] = input;
      line["canonical"] = canonical->ToString();
      line["expressions"] = expressions;
      line["psl_version"] = (*psl)->version();
      PrintJsonLine(line);
    } else {
      std::cout << absl::StrJoin(expressions, ",") << "\n";
    }
  }
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
  expressions->add_option("--psl-file", expressions_args->psl_path, "Public Suffix List file");
  expressions->callback([expressions_args, &ctx] { RunExpressions(*expressions_args, ctx); });
}

}  // namespace optout::cli
