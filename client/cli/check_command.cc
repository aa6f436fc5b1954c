// optout check: check URLs, images (hashed here), PDQ hashes and file digests
// in one batch; or, with --stdin, stream URLs through the registry one JSON
// line per input line (client/dataset/url_stream.h).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/dataset/url_stream.h"
#include "client/pdq/image_hasher.h"
#include "client/registry_client.h"
#include "client/common/url/url.h"
#include "nlohmann/json.hpp"

namespace optout::cli {
namespace {

struct CheckArgs {
  std::vector<std::string> urls, pdq, sha256, md5, images;
  bool stdin_urls = false;
  std::string psl_file;
};

// Used when the server does not say.
constexpr int kDefaultMinPdqQuality = 50;

// One image brings several items (PDQ with its dihedral variants, SHA-256,
// MD5); its result combines theirs.
struct ImageItems {
  int first = 0;  // index of its first item in the request
  int count = 0;
};

std::string Bytes(const std::array<uint8_t, 32>& b) { return std::string(b.begin(), b.end()); }

// Hashes each image and appends its items. Below the server's minimum PDQ
// quality only the file digests are checked (the server refuses the hash).
absl::Status AddImages(const CheckArgs& args, int min_quality, v1::CheckRequest* request,
                       std::vector<ImageItems>* images) {
  pdq::HashOptions options;
  options.dihedral = true;
  for (const std::string& file : args.images) {
    auto h = pdq::HashImageFile(file, options);
    if (!h.ok()) {
      return absl::Status(h.status().code(), absl::StrCat("--image ", h.status().message()));
    }
    ImageItems items{request->items_size(), 0};
    if (h->quality >= min_quality) {
      v1::PdqHash* pdq = request->add_items()->mutable_pdq();
      pdq->set_hash(Bytes(h->pdq.bytes));
      pdq->set_quality(h->quality);
      for (const pdq::PdqHash& d : h->dihedral) pdq->add_dihedral(Bytes(d.bytes));
      ++items.count;
    } else {
      std::fprintf(stderr,
                   "optout check: note: %s has PDQ quality %d (< %d): checked by its file "
                   "digests only\n",
                   file.c_str(), h->quality, min_quality);
    }
    request->add_items()->set_sha256(Bytes(h->sha256));
    request->add_items()->set_md5(std::string(h->md5.begin(), h->md5.end()));
    items.count += 2;
    images->push_back(items);
  }
  return absl::OkStatus();
}

// Folds the results of an image's items into one (strongest kind first).
v1::ItemResult Combine(const v1::CheckResponse& response, const ImageItems& items) {
  v1::ItemResult out;
  for (int i = items.first; i < items.first + items.count; ++i) {
    const v1::ItemResult& r = response.results(i);
    if (!r.matched()) continue;
    if (!out.matched() || r.kind() < out.kind()) out.set_kind(r.kind());
    out.set_matched(true);
    for (const auto& id : r.opt_out_ids()) {
      if (std::find(out.opt_out_ids().begin(), out.opt_out_ids().end(), id) ==
          out.opt_out_ids().end()) {
        out.add_opt_out_ids(id);
      }
    }
  }
  return out;
}

// Items in flag order: URLs, then PDQ hashes, then SHA-256, then MD5; the
// label says what each result belongs to.
absl::Status BuildCheck(const CheckArgs& args, v1::CheckRequest* request,
                        std::vector<std::string>* labels) {
  for (const auto& u : args.urls) {
    request->add_items()->set_url(u);
    labels->push_back(u);
  }
  for (const auto& hex : args.pdq) {
    auto bytes = PdqWireBytesFromHex(hex);
    if (!bytes.ok()) return bytes.status();
    request->add_items()->mutable_pdq()->set_hash(*bytes);
    labels->push_back("pdq:" + hex);
  }
  for (const auto& hex : args.sha256) {
    auto bytes = DigestFromHex("--sha256", hex, 32);
    if (!bytes.ok()) return bytes.status();
    request->add_items()->set_sha256(*bytes);
    labels->push_back("sha256:" + hex);
  }
  for (const auto& hex : args.md5) {
    auto bytes = DigestFromHex("--md5", hex, 16);
    if (!bytes.ok()) return bytes.status();
    request->add_items()->set_md5(*bytes);
    labels->push_back("md5:" + hex);
  }
  return absl::OkStatus();
}

void RunStdin(CommandContext& ctx, const CheckArgs& args) {
  if (!args.urls.empty() || !args.pdq.empty() || !args.sha256.empty() || !args.md5.empty() ||
      !args.images.empty()) {
    return ReportError(ctx, "check",
                       absl::InvalidArgumentError("--stdin reads URLs from stdin only; give no "
                                                  "--url, --image, --pdq, --sha256 or --md5"));
  }
  auto psl = args.psl_file.empty() ? url::PublicSuffixList::Load()
                                   : url::PublicSuffixList::Load(args.psl_file);
  if (!psl.ok()) return ReportError(ctx, "check", psl.status());
  auto client = client::RegistryClient::Create(ctx.server);
  absl::Status s = dataset::CheckUrlStream(stdin, stdout, *client, **psl, {});
  if (!s.ok()) ReportError(ctx, "check", s);
}

void RunCheck(CommandContext& ctx, const CheckArgs& args) {
  if (args.stdin_urls) return RunStdin(ctx, args);
  v1::CheckRequest request;
  std::vector<std::string> labels;
  absl::Status built = BuildCheck(args, &request, &labels);
  if (!built.ok()) return ReportError(ctx, "check", built);
  auto client = client::RegistryClient::Create(ctx.server);
  std::vector<ImageItems> images;
  if (!args.images.empty()) {
    auto info = client->GetInfo();
    if (!info.ok()) return ReportError(ctx, "check", info.status());
    absl::Status added = AddImages(
        args, info->min_pdq_quality() > 0 ? info->min_pdq_quality() : kDefaultMinPdqQuality,
        &request, &images);
    if (!added.ok()) return ReportError(ctx, "check", added);
  }
  if (request.items_size() == 0) {
    return ReportError(ctx, "check",
                       absl::InvalidArgumentError(
                           "nothing to check: give --url, --image, --pdq, --sha256, --md5 or --stdin"));
  }
  auto checked = client->Check(request);
  if (!checked.ok()) return ReportError(ctx, "check", checked.status());
  // Results in flag order: --url, --pdq, --sha256, --md5, then one per --image.
  v1::CheckResponse combined;
  const int plain = static_cast<int>(labels.size());
  for (int i = 0; i < plain; ++i) *combined.add_results() = checked->results(i);
  for (size_t i = 0; i < images.size(); ++i) {
    *combined.add_results() = Combine(*checked, images[i]);
    labels.push_back("image:" + args.images[i]);
  }
  const v1::CheckResponse* response = &combined;
  if (ctx.json) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& r : response->results()) {
      results.push_back({{"matched", r.matched()},
                         {"match", MatchKindName(r.kind())},
                         {"ids", std::vector<std::string>(r.opt_out_ids().begin(),
                                                          r.opt_out_ids().end())}});
    }
    std::cout << nlohmann::json({{"results", results}}).dump() << std::endl;
    return;
  }
  for (int i = 0; i < response->results_size(); ++i) {
    const auto& r = response->results(i);
    std::string ids;
    for (const auto& id : r.opt_out_ids()) ids += (ids.empty() ? "" : ",") + id;
    std::cout << (r.matched() ? "OPTED-OUT " : "clear     ") << MatchKindName(r.kind()) << "\t"
              << (ids.empty() ? "-" : ids) << "\t" << labels[i] << "\n";
  }
}

}  // namespace

void AddCheckCommand(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* check = app.add_subcommand(
      "check", "check URLs, PDQ hashes or file digests against the registry (exit 0 either way)");
  check->add_option("--url", args->urls, "URL to check (repeatable)");
  check->add_option("--pdq", args->pdq, "PDQ hash, 64 hex digits (repeatable)");
  check->add_option("--sha256", args->sha256, "SHA-256 of file bytes, hex (repeatable)");
  check->add_option("--md5", args->md5, "MD5 of file bytes, hex (repeatable)");
  check->add_option("--image", args->images,
                    "image file: hashed here (PDQ with rotations/flips, SHA-256, MD5), only the "
                    "hashes are sent; one combined result per image, after the others (repeatable)");
  check->add_flag("--stdin", args->stdin_urls,
                  "read one URL per line from stdin, write one JSON line per URL to stdout, in "
                  "order, streaming");
  check->add_option("--psl-file", args->psl_file,
                    "with --stdin: Public Suffix List file (default: the system's)");
  check->callback([&ctx, args] { RunCheck(ctx, *args); });
}

}  // namespace optout::cli
