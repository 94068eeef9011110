// Model bundle manifest (JSON) reading/writing and integrity checks; no LibTorch here.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <cmath>

#include "logguard/core/error.hpp"
#include "logguard/core/file_io.hpp"
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
            {"parametrize_numeric_tokens", p.drain.parametrize_numeric_tokens},
            {"wildcard_match", core::to_string(p.drain.wildcard_match)},
            {"template_style", p.drain.template_style == core::TemplateStyle::loghub2 ? "loghub2" : "drain"},
            {"punctuation_tokens", p.drain.punctuation_tokens},
            {"distinct_words", p.drain.distinct_words}}},
          {"max_line_bytes", p.max_line_bytes}};
}

core::ParserConfig parser_from_json(const json& j, const std::string& source) {
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
  // Recorded since the default preset (issue #18); older bundles lack them and keep the defaults.
  if (d.contains("wildcard_match") &&
      !core::wildcard_match_from_name(d.at("wildcard_match").get<std::string>(), &p.drain.wildcard_match))
    throw LoadError(source + ": unknown raw_input.parser.drain.wildcard_match");
  if (d.contains("template_style") &&
      !core::template_style_from_name(d.at("template_style").get<std::string>(), &p.drain.template_style))
    throw LoadError(source + ": unknown raw_input.parser.drain.template_style");
  if (d.contains("punctuation_tokens")) p.drain.punctuation_tokens = d.at("punctuation_tokens").get<std::string>();
  if (d.contains("distinct_words")) p.drain.distinct_words = d.at("distinct_words").get<int>();
  p.max_line_bytes = j.at("max_line_bytes").get<std::size_t>();
  return p;
}

json count_scale_to_json(const CountScale& c) {
  return {{"table", c.table}, {"slope", c.slope}, {"observed", c.observed}};
}

CountScale count_scale_from_json(const json& j) {
  CountScale c;
  c.table = j.at("table").get<std::vector<double>>();
  c.slope = j.at("slope").get<double>();
  c.observed = j.at("observed").get<bool>();
  return c;
}

json detection_to_json(const Detection& d) {
  const auto& r = d.report;
  return {{"rule", to_string(d.rule)},
          {"top_k", d.top_k},
          {"stride", d.stride},
          {"threshold", d.threshold},
          {"threshold_method", d.threshold_method},
          {"false_alarm_budget_percent", d.false_alarm_budget_percent},
          {"unknown_score", to_string(d.scale.unknown_weight)},
          {"min_session_events", d.min_session_events},
          {"scale",
           {{"rank", d.scale.rank},
            {"rank_slope", d.scale.rank_slope},
            {"unknown", count_scale_to_json(d.scale.unknown)},
            {"novel", count_scale_to_json(d.scale.novel)}}},
          {"calibration",
           {{"unit", r.unit},
            {"normal_units", r.normal_units},
            {"anomalous_units", r.anomalous_units},
            {"model_windows", r.model_windows},
            {"events", r.events},
            {"unknown_events", r.unknown_events},
            {"false_alarm_rate", r.false_alarm_rate},
            {"recall", r.recall},
            {"normal_score_quantiles", r.normal_score_quantiles}}}};
}

Detection detection_from_json(const json& j, const std::string& source) {
  Detection d;
  d.calibrated = true;
  d.rule = parse_decision_rule(j.at("rule").get<std::string>(), "detection.rule");
  d.top_k = j.at("top_k").get<int>();
  d.stride = j.at("stride").get<int>();
  d.threshold = j.at("threshold").get<double>();
  d.threshold_method = j.value("threshold_method", "");
  d.false_alarm_budget_percent = j.value("false_alarm_budget_percent", 0.0);
  d.scale.unknown_weight = parse_unknown_weight(j.at("unknown_score").get<std::string>(), "detection.unknown_score");
  d.min_session_events = j.value("min_session_events", std::size_t{0});
  const auto& sc = j.at("scale");
  d.scale.rank = sc.at("rank").get<std::vector<double>>();
  d.scale.rank_slope = sc.at("rank_slope").get<double>();
  d.scale.unknown = count_scale_from_json(sc.at("unknown"));
  d.scale.novel = count_scale_from_json(sc.at("novel"));
  if (j.contains("calibration")) {
    const auto& c = j["calibration"];
    auto& r = d.report;
    r.unit = c.value("unit", "");
    r.normal_units = c.value("normal_units", std::size_t{0});
    r.anomalous_units = c.value("anomalous_units", std::size_t{0});
    r.model_windows = c.value("model_windows", std::size_t{0});
    r.events = c.value("events", std::size_t{0});
    r.unknown_events = c.value("unknown_events", std::size_t{0});
    r.false_alarm_rate = c.value("false_alarm_rate", 0.0);
    r.recall = c.value("recall", 0.0);
    r.normal_score_quantiles = c.value("normal_score_quantiles", std::map<std::string, double>{});
  }
  auto monotone = [](const std::vector<double>& t) {
    if (t.empty() || t[0] != 0) return false;
    for (std::size_t i = 1; i < t.size(); ++i)
      if (!(t[i] >= t[i - 1]) || !std::isfinite(t[i])) return false;
    return true;
  };
  if (d.top_k < 1) throw LoadError(source + ": detection.top_k must be >= 1");
  if (d.stride < 1) throw LoadError(source + ": detection.stride must be >= 1");
  if (!std::isfinite(d.threshold) || d.threshold < 0) throw LoadError(source + ": detection.threshold must be a number >= 0");
  if (!monotone(d.scale.rank) || !monotone(d.scale.unknown.table) || !monotone(d.scale.novel.table) ||
      !(d.scale.rank_slope > 0) || !(d.scale.unknown.slope > 0) || !(d.scale.novel.slope > 0))
    throw LoadError(source + ": detection.scale must be non-decreasing tables starting at 0 with positive slopes");
  return d;
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
  if (m.encoder) {
    const auto& e = *m.encoder;
    json files = json::object();
    for (const auto& [name, f] : e.files) files[name] = {{"bytes", f.bytes}, {"digest_xxh64", f.digest}};
    j["encoder"] = {{"dir", e.dir},
                    {"threshold", e.threshold},
                    {"threshold_method", e.threshold_method},
                    {"base", e.base},
                    {"negatives", e.negatives},
                    {"normal_ids", e.normal_ids},
                    {"abnormal_templates", e.abnormal_templates},
                    {"abnormal_by_similarity", e.abnormal_by_similarity},
                    {"abnormal_threshold", e.abnormal_threshold},
                    {"tentative_threshold", e.tentative_threshold},
                    {"metrics", e.metrics},
                    {"files", files}};
  }
  if (!m.rare_templates.empty()) j["rare_templates"] = m.rare_templates;
  if (m.check_transitions) {
    json tr = json::array();
    for (const auto& [a, b] : m.transitions) tr.push_back({a, b});
    j["transitions"] = tr;
  }
  j["template_source"] = m.template_source;
  if (!m.abnormal_templates.empty()) j["abnormal_templates"] = m.abnormal_templates;
  if (!m.unseen_templates.empty()) j["unseen_templates"] = m.unseen_templates;
  if (m.detection) j["detection"] = detection_to_json(*m.detection);
  if (m.raw_input) {
    j["raw_input"] = {{"parser", parser_to_json(m.raw_input->parser)}, {"session_key", m.raw_input->session_key}};
    const auto& r = *m.raw_input;
    if (r.count_window_lines > 0) j["raw_input"]["count_window_lines"] = r.count_window_lines;
    if (r.entity.enabled())
      j["raw_input"]["entity"] = {{"field", r.entity.field}, {"time_fields", r.entity.time_fields},
                                  {"time_format", r.entity.time_format}, {"window_ms", r.entity.window_ms}};
    if (r.label.enabled())
      j["raw_input"]["label"] = {{"field", r.label.field}, {"normal_values", r.label.normal_values},
                                 {"abnormal_values", r.label.abnormal_values}};
    if (!r.record.raw()) {  // absent = raw lines (bundles before issue #20)
      const auto& f = r.record;
      json rec = {{"format", core::to_string(f.kind)},
                  {"message", f.message},
                  {"timestamp", f.timestamp},
                  {"timestamp_format", f.timestamp_format},
                  {"session", f.session},
                  {"label", f.label},
                  {"stream", f.stream},
                  {"parse_header", f.parse_header},
                  {"max_record_bytes", f.max_record_bytes},
                  {"max_depth", f.max_depth}};
      j["raw_input"]["record"] = rec;
    }
  }
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
    if (m.format_version < kOldestBundleFormatVersion || m.format_version > kBundleFormatVersion)
      throw LoadError(source + ": unsupported bundle format_version " + std::to_string(m.format_version) +
                      " (this build reads " + std::to_string(kOldestBundleFormatVersion) + " to " +
                      std::to_string(kBundleFormatVersion) + ")");
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
    if (j.contains("encoder")) {
      const auto& e = j["encoder"];
      EncoderManifest em;
      em.dir = e.at("dir").get<std::string>();
      if (em.dir.empty() || em.dir.find("..") != std::string::npos || em.dir.find('/') != std::string::npos)
        throw LoadError(source + ": encoder.dir must be a plain directory name");
      em.threshold = e.at("threshold").get<double>();
      if (!(em.threshold > -1 && em.threshold < 1)) throw LoadError(source + ": encoder.threshold outside (-1, 1)");
      em.threshold_method = e.value("threshold_method", "");
      em.base = e.value("base", "");
      em.negatives = e.value("negatives", "");
      em.normal_ids = e.value("normal_ids", std::vector<std::uint32_t>{});
      em.abnormal_templates = e.value("abnormal_templates", std::vector<std::string>{});
      em.abnormal_by_similarity = e.value("abnormal_by_similarity", !em.from_scratch());
      em.abnormal_threshold = e.value("abnormal_threshold", -1.0);
      if (!(em.abnormal_threshold >= -1 && em.abnormal_threshold < 1))
        throw LoadError(source + ": encoder.abnormal_threshold outside [-1, 1)");
      em.tentative_threshold = e.value("tentative_threshold", -1.0);
      if (!(em.tentative_threshold >= -1 && em.tentative_threshold < 1))
        throw LoadError(source + ": encoder.tentative_threshold outside [-1, 1)");
      em.metrics = e.value("metrics", std::map<std::string, double>{});
      for (const auto& [name, f] : e.at("files").items())
        em.files[name] = BundleFile{f.at("bytes").get<std::uint64_t>(), f.at("digest_xxh64").get<std::string>()};
      for (const char* need : {"config.json", "vocab.txt", "model.safetensors"})
        if (!em.files.count(need)) throw LoadError(source + ": encoder.files lacks " + need);
      m.encoder = std::move(em);
    }
    if (j.contains("rare_templates")) m.rare_templates = j["rare_templates"].get<std::vector<std::uint32_t>>();
    m.check_transitions = j.contains("transitions");
    if (m.check_transitions)
      for (const auto& t : j["transitions"]) m.transitions.emplace_back(t.at(0).get<std::uint32_t>(), t.at(1).get<std::uint32_t>());
    m.template_source = j.value("template_source", "table");
    if (m.template_source != "table" && m.template_source != "parser")
      throw LoadError(source + ": template_source must be `table` or `parser`");
    if (j.contains("abnormal_templates")) m.abnormal_templates = j["abnormal_templates"].get<std::vector<std::string>>();
    if (j.contains("unseen_templates")) m.unseen_templates = j["unseen_templates"].get<std::vector<std::string>>();
    if (j.contains("detection")) m.detection = detection_from_json(j["detection"], source);
    if (j.contains("raw_input")) {
      const auto& ri = j["raw_input"];
      RawInputSettings r;
      r.parser = parser_from_json(ri.at("parser"), source);
      r.session_key = ri.at("session_key").get<std::string>();
      r.count_window_lines = ri.value("count_window_lines", 0);
      if (ri.contains("entity")) {
        const auto& e = ri["entity"];
        r.entity.field = e.at("field").get<std::string>();
        r.entity.time_fields = e.at("time_fields").get<std::vector<std::string>>();
        r.entity.time_format = e.at("time_format").get<std::string>();
        r.entity.window_ms = e.at("window_ms").get<std::int64_t>();
        r.entity.validate("raw_input.entity");
      }
      if (ri.contains("label")) {
        const auto& l = ri["label"];
        r.label.field = l.at("field").get<std::string>();
        r.label.normal_values = l.value("normal_values", std::vector<std::string>{});
        r.label.abnormal_values = l.value("abnormal_values", std::vector<std::string>{});
        r.label.validate("raw_input.label");
      }
      if (ri.contains("record")) {
        const auto& rec = ri["record"];
        auto& f = r.record;
        f.kind = core::record_kind_from_name(rec.at("format").get<std::string>(), "raw_input.record.format");
        f.message = rec.value("message", "");
        f.timestamp = rec.value("timestamp", "");
        f.timestamp_format = rec.value("timestamp_format", std::string("rfc3339"));
        f.session = rec.value("session", "");
        f.label = rec.value("label", "");
        f.stream = rec.value("stream", "");
        f.parse_header = rec.value("parse_header", false);
        f.max_record_bytes = rec.value("max_record_bytes", f.max_record_bytes);
        f.max_depth = rec.value("max_depth", f.max_depth);
        f.validate("raw_input.record");
      }
      m.raw_input = std::move(r);
    }
  } catch (const json::exception& e) {
    throw LoadError(source + ": malformed manifest: " + e.what());
  } catch (const core::ConfigError& e) {
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

namespace {

std::string read_file(const std::string& path, const char* what) {
  auto bytes = core::read_file_bytes(path);
  if (!bytes) throw LoadError(path + ": cannot open (missing " + what + ")");
  return std::move(*bytes);
}

void check_file(const std::string& path, const BundleFile& f, const char* what) {
  const auto bytes = read_file(path, what);
  if (bytes.size() != f.bytes)
    throw LoadError(path + ": size " + std::to_string(bytes.size()) + " bytes, manifest says " + std::to_string(f.bytes) +
                    " (truncated or replaced)");
  if (digest_hex(bytes.data(), bytes.size()) != f.digest)
    throw LoadError(path + ": xxh64 digest mismatch with manifest (corrupt or from another bundle)");
}

void write_manifest_to(const std::filesystem::path& dir, const BundleManifest& m) {
  const auto tmp = dir / (std::string(kManifestFile) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << manifest_to_json(m);
    if (!out) throw LoadError(tmp.string() + ": cannot write");
  }
  std::filesystem::rename(tmp, dir / kManifestFile);
}

}  // namespace

void attach_encoder(const std::string& bundle_dir, const std::string& encoder_files_dir, EncoderManifest encoder) {
  namespace fs = std::filesystem;
  auto m = read_manifest(bundle_dir);
  const fs::path dst = fs::path(bundle_dir) / encoder.dir;
  fs::create_directories(dst);
  encoder.files.clear();
  for (const char* name : {"config.json", "vocab.txt", "model.safetensors"}) {
    const auto src = (fs::path(encoder_files_dir) / name).string();
    const auto bytes = read_file(src, "encoder file");
    if (fs::path(encoder_files_dir) != dst) fs::copy_file(src, dst / name, fs::copy_options::overwrite_existing);
    encoder.files[name] = BundleFile{bytes.size(), digest_hex(bytes.data(), bytes.size())};
  }
  m.format_version = kBundleFormatVersion;
  m.encoder = std::move(encoder);
  write_manifest_to(bundle_dir, m);
}

void write_manifest(const std::string& bundle_dir, const BundleManifest& m) { write_manifest_to(bundle_dir, m); }

void attach_detection(const std::string& bundle_dir, const Detection& detection) {
  auto m = read_manifest(bundle_dir);
  m.format_version = kBundleFormatVersion;
  m.detection = detection;
  write_manifest_to(bundle_dir, m);
}

BundleManifest read_manifest(const std::string& bundle_dir) {
  namespace fs = std::filesystem;
  const fs::path dir(bundle_dir);
  if (!fs::is_directory(dir)) throw LoadError(bundle_dir + ": not a model bundle directory");
  const auto mpath = (dir / kManifestFile).string();
  auto m = manifest_from_json(read_file(mpath, "manifest"), mpath);
  const auto wpath = (dir / kWeightsFile).string();
  const std::string bytes = read_file(wpath, "weights");
  if (bytes.size() != m.weights_bytes)
    throw LoadError(wpath + ": size " + std::to_string(bytes.size()) + " bytes, manifest says " +
                    std::to_string(m.weights_bytes) + " (truncated or replaced)");
  if (digest_hex(bytes.data(), bytes.size()) != m.weights_digest)
    throw LoadError(wpath + ": xxh64 digest mismatch with manifest (corrupt or from another bundle)");
  if (m.encoder)
    for (const auto& [name, f] : m.encoder->files)
      check_file((dir / m.encoder->dir / name).string(), f, "encoder file");
  return m;
}

}  // namespace logguard::models
