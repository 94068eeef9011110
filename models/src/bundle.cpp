// Model bundle manifest (JSON) reading/writing and integrity checks; no LibTorch here.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "logguard/core/error.hpp"
#include "logguard/models/bundle.hpp"

namespace logguard::models {

using core::LoadError;
using nlohmann::json;

std::string digest_hex(const void* data, std::size_t size, std::uint64_t seed) {
  const auto h = XXH64(data, size, seed);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

json parser_to_json(const core::ParserConfig& p) {
  json masks = json::array();
  for (const auto& m : p.masks)
    masks.push_back({{"name", m.name}, {"builtin", m.builtin}, {"regex", m.regex}, {"replacement", m.replacement}});
  return {{"log_format", p.log_format},
          {"masks", masks},
          {"drain",
           {{"depth", p.drain.depth},
            {"similarity_threshold", p.drain.similarity_threshold},
            {"max_children", p.drain.max_children},
            {"max_clusters", p.drain.max_clusters},
            {"extra_delimiters", p.drain.extra_delimiters},
            {"parametrize_numeric_tokens", p.drain.parametrize_numeric_tokens}}},
          {"max_line_bytes", p.max_line_bytes}};
}

core::ParserConfig parser_from_json(const json& j) {
  core::ParserConfig p;
  p.log_format = j.at("log_format").get<std::string>();
  for (const auto& m : j.at("masks"))
    p.masks.push_back({m.at("name").get<std::string>(), m.at("builtin").get<std::string>(),
                       m.at("regex").get<std::string>(), m.at("replacement").get<std::string>()});
  const auto& d = j.at("drain");
  p.drain.depth = d.at("depth").get<int>();
  p.drain.similarity_threshold = d.at("similarity_threshold").get<double>();
  p.drain.max_children = d.at("max_children").get<int>();
  p.drain.max_clusters = d.at("max_clusters").get<std::size_t>();
  p.drain.extra_delimiters = d.at("extra_delimiters").get<std::string>();
  p.drain.parametrize_numeric_tokens = d.at("parametrize_numeric_tokens").get<bool>();
  p.max_line_bytes = j.at("max_line_bytes").get<std::size_t>();
  return p;
}

}  // namespace

std::string manifest_to_json(const BundleManifest& m) {
  json templates = json::array();
  for (const auto& t : m.templates) templates.push_back({{"id", t.id}, {"text", t.text}});
  json j = {
      {"format", "logguard-model-bundle"},
      {"format_version", m.format_version},
      {"created_by", m.created_by},
      {"kind", to_string(m.kind)},
      {"top_k", m.top_k},
      {"session_boundaries", m.session_boundaries},
      {"templates", templates},
      {"training", {{"digest_xxh64", m.training_digest}, {"sessions", m.training_sessions}, {"windows", m.training_windows}}},
      {"metrics", m.metrics},
      {"weights", {{"file", kWeightsFile}, {"bytes", m.weights_bytes}, {"digest_xxh64", m.weights_digest}}},
  };
  if (m.kind == ModelKind::msmass) {
    const auto& c = m.msmass;
    j["hyperparameters"] = {{"window", c.window},           {"d_model", c.d_model},
                            {"ff_dim", c.ff_dim},           {"encoder_layers", c.encoder_layers},
                            {"decoder_layers", c.decoder_layers}, {"scales", c.scales},
                            {"heads_per_scale", c.heads_per_scale}, {"mask_ratio", c.mask_ratio},
                            {"dropout", c.dropout}};
  } else {
    const auto& c = m.deeplog;
    j["hyperparameters"] = {{"history", c.history}, {"embed_dim", c.embed_dim}, {"hidden", c.hidden}, {"layers", c.layers}};
  }
  if (m.raw_input) j["raw_input"] = {{"parser", parser_to_json(m.raw_input->parser)}, {"session_key", m.raw_input->session_key}};
  return j.dump(2) + "\n";
}

BundleManifest manifest_from_json(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw LoadError(source + ": not valid JSON (" + e.what() + "); truncated or not a logguard model bundle");
  }
  if (!j.is_object() || j.value("format", "") != "logguard-model-bundle")
    throw LoadError(source + ": not a logguard model bundle (missing \"format\": \"logguard-model-bundle\")");
  BundleManifest m;
  try {
    m.format_version = j.at("format_version").get<int>();
    if (m.format_version != kBundleFormatVersion)
      throw LoadError(source + ": unsupported bundle format_version " + std::to_string(m.format_version) +
                      " (this build reads " + std::to_string(kBundleFormatVersion) + ")");
    const auto kind = j.at("kind").get<std::string>();
    if (kind == "msmass") m.kind = ModelKind::msmass;
    else if (kind == "deeplog") m.kind = ModelKind::deeplog;
    else throw LoadError(source + ": unknown model kind `" + kind + "`");
    m.created_by = j.value("created_by", "");
    m.top_k = j.at("top_k").get<int>();
    m.session_boundaries = j.at("session_boundaries").get<bool>();
    for (const auto& t : j.at("templates")) m.templates.push_back({t.at("id").get<std::uint32_t>(), t.at("text").get<std::string>()});
    const auto& h = j.at("hyperparameters");
    if (m.kind == ModelKind::msmass) {
      auto& c = m.msmass;
      c.window = h.at("window").get<int>();
      c.d_model = h.at("d_model").get<int>();
      c.ff_dim = h.at("ff_dim").get<int>();
      c.encoder_layers = h.at("encoder_layers").get<int>();
      c.decoder_layers = h.at("decoder_layers").get<int>();
      c.scales = h.at("scales").get<std::vector<int>>();
      c.heads_per_scale = h.at("heads_per_scale").get<std::vector<int>>();
      c.mask_ratio = h.at("mask_ratio").get<double>();
      c.dropout = h.at("dropout").get<double>();
    } else {
      auto& c = m.deeplog;
      c.history = h.at("history").get<int>();
      c.embed_dim = h.at("embed_dim").get<int>();
      c.hidden = h.at("hidden").get<int>();
      c.layers = h.at("layers").get<int>();
    }
    const auto& tr = j.at("training");
    m.training_digest = tr.at("digest_xxh64").get<std::string>();
    m.training_sessions = tr.at("sessions").get<std::uint64_t>();
    m.training_windows = tr.at("windows").get<std::uint64_t>();
    m.metrics = j.at("metrics").get<std::map<std::string, double>>();
    const auto& w = j.at("weights");
    m.weights_bytes = w.at("bytes").get<std::uint64_t>();
    m.weights_digest = w.at("digest_xxh64").get<std::string>();
    if (j.contains("raw_input"))
      m.raw_input = RawInputSettings{parser_from_json(j["raw_input"].at("parser")),
                                     j["raw_input"].at("session_key").get<std::string>()};
  } catch (const json::exception& e) {
    throw LoadError(source + ": malformed manifest: " + e.what());
  }
  try {
    if (m.kind == ModelKind::msmass) m.msmass.validate();
    else m.deeplog.validate();
  } catch (const core::ConfigError& e) {
    throw LoadError(source + ": invalid hyper-parameters: " + e.what());
  }
  if (m.templates.empty()) throw LoadError(source + ": empty template table");
  if (m.top_k < 1) throw LoadError(source + ": top_k must be >= 1");
  return m;
}

BundleManifest read_manifest(const std::string& bundle_dir) {
  namespace fs = std::filesystem;
  const fs::path dir(bundle_dir);
  if (!fs::is_directory(dir)) throw LoadError(bundle_dir + ": not a model bundle directory");
  const auto mpath = (dir / kManifestFile).string();
  std::ifstream in(mpath, std::ios::binary);
  if (!in) throw LoadError(mpath + ": cannot open (missing manifest)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto m = manifest_from_json(text, mpath);
  const auto wpath = (dir / kWeightsFile).string();
  std::ifstream win(wpath, std::ios::binary);
  if (!win) throw LoadError(wpath + ": cannot open (missing weights)");
  const std::string bytes((std::istreambuf_iterator<char>(win)), std::istreambuf_iterator<char>());
  if (bytes.size() != m.weights_bytes)
    throw LoadError(wpath + ": size " + std::to_string(bytes.size()) + " bytes, manifest says " +
                    std::to_string(m.weights_bytes) + " (truncated or replaced)");
  if (digest_hex(bytes.data(), bytes.size()) != m.weights_digest)
    throw LoadError(wpath + ": xxh64 digest mismatch with manifest (corrupt or from another bundle)");
  return m;
}

}  // namespace logguard::models
