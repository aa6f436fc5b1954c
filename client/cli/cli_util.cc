#include "client/cli/cli_util.h"

#include <openssl/rand.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/server_address.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"

namespace optout::cli {

absl::StatusOr<std::unique_ptr<client::RegistryClient>> ConnectRegistry(
    const CommandContext& ctx) {
  OPTOUT_ASSIGN_OR_RETURN(const ServerAddress address, ParseServerAddress(ctx.server));
  client::ClientOptions options = ctx.client_options;  // TLS from the global flags
  options.timeout = ctx.timeout;
  options.api_key = ctx.api_key;
  if (address.tls) {
    options.tls.enabled = true;  // https://: the system's roots unless --tls-ca
  } else if (options.tls.enabled && absl::StartsWithIgnoreCase(ctx.server, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--server ", ctx.server, " says plaintext (http://) but TLS flags were given; use "
        "https:// or HOST:PORT"));
  }
  return client::RegistryClient::Create(address.target, options);
}

absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a duration (e.g. 30s, 2m, 500ms, 1h)"));
  }
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a finite duration >= 0"));
  }
  return d;
}

CLI::Option* AddDurationOption(CLI::App& app, const std::string& name, absl::Duration* out,
                               const std::string& help) {
  CLI::Validator duration(
      [](std::string& text) {
        auto d = ParseDurationFlag(text);
        return d.ok() ? std::string() : std::string(d.status().message());
      },
      "DURATION");
  return app
      .add_option_function<std::string>(
          name, [out](const std::string& text) { *out = *ParseDurationFlag(text); }, help)
      ->check(duration)
      ->default_str(absl::FormatDuration(*out));
}

std::string NewRequestId() {
  uint8_t bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  return digest::ToHex(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace optout::cli
