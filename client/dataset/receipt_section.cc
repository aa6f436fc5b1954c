#include "client/dataset/receipt_section.h"

#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"

namespace optout::dataset {
namespace {

using Json = nlohmann::json;

using OrderedJson = nlohmann::ordered_json;

OrderedJson CountsJson(const receipt::ItemCounts& c) {
  return {{"url", c.url}, {"pdq", c.pdq}, {"sha256", c.sha256}, {"md5", c.md5}};
}

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("report.json: ", field, ": ", why));
}

// The unsigned integer at `object[key]`.
absl::StatusOr<uint64_t> U64(const Json& object, const std::string& path, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer() || (it->is_number_integer() && *it < 0)) {
    return Bad(absl::StrCat(path, ".", key), "missing or not a non-negative integer");
  }
  return it->get<uint64_t>();
}

absl::StatusOr<std::string> Str(const Json& object, const std::string& path, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return Bad(absl::StrCat(path, ".", key), "missing or not a string");
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> HexBytes(const Json& object, const std::string& path, const char* key,
                                     size_t bytes) {
  auto text = Str(object, path, key);
  if (!text.ok()) return text.status();
  auto raw = digest::FromHex(*text, bytes);
  if (!raw.ok()) return Bad(absl::StrCat(path, ".", key), absl::StrCat("want ", 2 * bytes, " hex characters"));
  return *raw;
}

absl::StatusOr<receipt::ItemCounts> Counts(const Json& object, const std::string& path) {
  if (!object.is_object()) return Bad(path, "missing or not an object");
  receipt::ItemCounts c;
  for (auto [key, out] : {std::pair{"url", &c.url}, std::pair{"pdq", &c.pdq},
                          std::pair{"sha256", &c.sha256}, std::pair{"md5", &c.md5}}) {
    auto v = U64(object, path, key);
    if (!v.ok()) return v.status();
    *out = *v;
  }
  return c;
}

absl::StatusOr<std::vector<std::string>> Strings(const Json& object, const std::string& path,
                                                 const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return Bad(absl::StrCat(path, ".", key), "missing or not a list");
  std::vector<std::string> out;
  for (const Json& v : *it) {
    if (!v.is_string()) return Bad(absl::StrCat(path, ".", key), "holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

void AddReceiptSection(const ReceiptSection& s, nlohmann::ordered_json* report) {
  const v1::CheckReceipt& r = s.receipt;
  OrderedJson receipt;
  receipt["registry_key_fingerprint"] = r.key_fingerprint();
  receipt["session_id"] = r.session_id();
  receipt["started_unix_micros"] = r.started_unix_micros();
  receipt["ended_unix_micros"] = r.ended_unix_micros();
  receipt["min_version"] = r.min_version();
  receipt["max_version"] = r.max_version();
  receipt["items"] = {{"url", r.url_items()},
                      {"pdq", r.pdq_items()},
                      {"sha256", r.sha256_items()},
                      {"md5", r.md5_items()}};
  receipt["matched"] = {{"total", r.matched_items()},   {"url", r.url_matches()},
                        {"pdq", r.pdq_matches()},       {"sha256", r.sha256_matches()},
                        {"md5", r.md5_matches()}};
  receipt["items_digest"] = digest::ToHex(r.items_digest());
  receipt["signature"] = digest::ToHex(r.signature());
  (*report)["receipt"] = receipt;
  (*report)["client_items_digest"] = receipt::ToHex(s.client_digest);
  (*report)["client_items"] = CountsJson(s.client_items);
  OrderedJson inputs;
  inputs["inputs"] = s.inputs;
  inputs["not_covered"] = s.not_covered;
  inputs["shard"] = s.shard;
  inputs["url_column"] = s.url_column;
  inputs["min_pdq_quality"] = s.min_pdq_quality;
  if (s.low_quality_pdq_floor > 0) inputs["low_quality_pdq_floor"] = s.low_quality_pdq_floor;
  if (s.pdq_region_tiers) inputs["pdq_region_tiers"] = true;
  inputs["psl_sha256"] = s.psl_sha256;
  (*report)["receipt_inputs"] = inputs;
}

absl::StatusOr<ReceiptSection> ParseReceiptSection(const nlohmann::json& report) {
  if (!report.is_object() || !report.contains("receipt")) {
    return absl::NotFoundError(
        "report.json has no receipt (the registry signs none, or the run was older)");
  }
  const Json& j = report["receipt"];
  if (!j.is_object()) return Bad("receipt", "not an object");
  ReceiptSection s;
  v1::CheckReceipt& r = s.receipt;
  auto fingerprint = Str(j, "receipt", "registry_key_fingerprint");
  auto session = Str(j, "receipt", "session_id");
  if (!fingerprint.ok()) return fingerprint.status();
  if (!session.ok()) return session.status();
  r.set_key_fingerprint(*fingerprint);
  r.set_session_id(*session);
  for (auto [key, setter] :
       {std::pair<const char*, void (v1::CheckReceipt::*)(uint64_t)>{"min_version", &v1::CheckReceipt::set_min_version},
        {"max_version", &v1::CheckReceipt::set_max_version}}) {
    auto v = U64(j, "receipt", key);
    if (!v.ok()) return v.status();
    (r.*setter)(*v);
  }
  for (auto [key, setter] :
       {std::pair<const char*, void (v1::CheckReceipt::*)(int64_t)>{"started_unix_micros", &v1::CheckReceipt::set_started_unix_micros},
        {"ended_unix_micros", &v1::CheckReceipt::set_ended_unix_micros}}) {
    auto v = U64(j, "receipt", key);
    if (!v.ok()) return v.status();
    (r.*setter)(static_cast<int64_t>(*v));
  }
  auto items = Counts(j.value("items", Json()), "receipt.items");
  if (!items.ok()) return items.status();
  r.set_url_items(items->url);
  r.set_pdq_items(items->pdq);
  r.set_sha256_items(items->sha256);
  r.set_md5_items(items->md5);
  const Json matched = j.value("matched", Json());
  auto matched_counts = Counts(matched, "receipt.matched");
  if (!matched_counts.ok()) return matched_counts.status();
  auto total = U64(matched, "receipt.matched", "total");
  if (!total.ok()) return total.status();
  r.set_matched_items(*total);
  r.set_url_matches(matched_counts->url);
  r.set_pdq_matches(matched_counts->pdq);
  r.set_sha256_matches(matched_counts->sha256);
  r.set_md5_matches(matched_counts->md5);
  auto items_digest = HexBytes(j, "receipt", "items_digest", 32);
  if (!items_digest.ok()) return items_digest.status();
  r.set_items_digest(*items_digest);
  auto signature = HexBytes(j, "receipt", "signature", 64);
  if (!signature.ok()) return signature.status();
  r.set_signature(*signature);

  auto client_digest = Str(report, "", "client_items_digest");
  if (!client_digest.ok() || !receipt::FromHex(*client_digest, &s.client_digest)) {
    return Bad("client_items_digest", "missing or not 64 hex characters");
  }
  auto client_items = Counts(report.value("client_items", Json()), "client_items");
  if (!client_items.ok()) return client_items.status();
  s.client_items = *client_items;

  const Json in = report.value("receipt_inputs", Json());
  if (!in.is_object()) return Bad("receipt_inputs", "missing or not an object");
  auto inputs = Strings(in, "receipt_inputs", "inputs");
  auto not_covered = Strings(in, "receipt_inputs", "not_covered");
  auto shard = Str(in, "receipt_inputs", "shard");
  auto url_column = Str(in, "receipt_inputs", "url_column");
  auto quality = U64(in, "receipt_inputs", "min_pdq_quality");
  auto psl = Str(in, "receipt_inputs", "psl_sha256");
  for (const absl::Status& st : {inputs.status(), not_covered.status(), shard.status(),
                                 url_column.status(), quality.status(), psl.status()}) {
    if (!st.ok()) return st;
  }
  s.inputs = *inputs;
  s.not_covered = *not_covered;
  s.shard = *shard;
  s.url_column = *url_column;
  s.min_pdq_quality = static_cast<int>(*quality);
  if (in.contains("low_quality_pdq_floor")) {  // absent before the low-quality tier
    auto low = U64(in, "receipt_inputs", "low_quality_pdq_floor");
    if (!low.ok()) return low.status();
    s.low_quality_pdq_floor = static_cast<int>(*low);
  }
  if (in.contains("pdq_region_tiers")) {  // absent before per-region tiers
    const Json& tiers = in["pdq_region_tiers"];
    if (!tiers.is_boolean()) return Bad("receipt_inputs.pdq_region_tiers", "not a boolean");
    s.pdq_region_tiers = tiers.get<bool>();
  }
  s.psl_sha256 = *psl;
  return s;
}

}  // namespace optout::dataset
