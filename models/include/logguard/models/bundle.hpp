#pragma once
// Model bundle: a directory holding manifest.json (format version, kind, hyper-parameters,
// template table, parser settings, training-data digest, validation metrics, weights digest)
// and weights.pt (LibTorch archive). Format in docs/model-bundle.md.
// read_manifest() checks everything that can be checked without LibTorch and throws
// core::LoadError naming the file and the problem. Thread-safety: plain values.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "logguard/core/event_time.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/detection.hpp"

namespace logguard::models {

inline constexpr int kBundleFormatVersion = 3;     // written; 1 (no encoder) and 2 (no detection) are still read
inline constexpr int kOldestBundleFormatVersion = 1;
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kWeightsFile = "weights.pt";

/// How raw logs of the trained system are turned into sessions; recorded in the bundle.
struct RawInputSettings {
  core::ParserConfig parser;
  std::string session_key;   // RE2 pattern whose first match (or group 1) keys a session
  int count_window_lines = 0;  // > 0: no session key; consecutive lines form count windows
  core::EntityWindows entity;  // enabled: sessions per entity and time window (no key, no count)
  core::LabelSettings label;   // the log's own labels (training; `detect` reports them)
  core::RecordFormat record;   // how input records were read (raw lines, JSON, OTLP; issue #20);
                               // `detect --input` and logguardd default to it
};

/// A file of the bundle checked on load.
struct BundleFile {
  std::uint64_t bytes = 0;
  std::string digest;  // xxh64 hex
};

/// EncoderManifest::base of an encoder trained without pretrained weights.
inline constexpr const char* kScratchEncoderBase = "scratch";

/// The template encoder stored in BUNDLE_DIR/<dir>/ (config.json, vocab.txt, model.safetensors).
struct EncoderManifest {
  std::string dir = "encoder";
  double threshold = 0;                        // S
  std::string threshold_method;                // "config", "balanced", "normal-quantile"
  std::string base;                            // weights directory it started from, or "scratch"
  std::string negatives;                       // "abnormal+normal", "abnormal" (labelled), "normal", or "none"
  std::vector<std::uint32_t> normal_ids;       // templates the mapper indexes (seen in normal sessions); empty = all
  std::vector<std::string> abnormal_templates; // labelled abnormal templates (indexed by the mapper)
  bool abnormal_by_similarity = true;          // nearest an abnormal template (>= S) maps to abnormal;
                                               // false: to unknown (absent: base != "scratch")
  double abnormal_threshold = -1;              // cosine to the nearest abnormal template an abnormal
                                               // verdict needs (>= S; below: unknown); -1 (absent): S
  double tentative_threshold = -1;             // cosine in [this, S): mapped tentatively (scorer.hpp,
                                               // kTentativeBit); -1 (absent): no tentative band
  std::map<std::string, double> metrics;       // fine_tune_seconds, val_normal_accuracy, ...
  std::map<std::string, BundleFile> files;     // name -> size and digest

  /// Trained without pretrained weights: it knows only the training templates' words.
  bool from_scratch() const noexcept { return base == kScratchEncoderBase; }
};

struct BundleManifest {
  int format_version = kBundleFormatVersion;
  ModelKind kind = ModelKind::msmass;
  MsmassConfig msmass;
  DeepLogConfig deeplog;
  int top_k = 5;
  bool session_boundaries = true;               // sessions wrapped in start/end tokens
  std::vector<core::TemplateEntry> templates;   // vocabulary: token = 3 + index
  bool check_transitions = false;               // format 3: novel transitions are scored (below)
  std::vector<std::pair<std::uint32_t, std::uint32_t>> transitions;  // format 3: known (predecessor, event)
                                                // pairs of bundle ids (start/end pseudo ids included)
  std::vector<std::uint32_t> rare_templates;    // in fewer than model.train.min_template_sessions
                                                // training sessions: scored as unknown
  std::optional<RawInputSettings> raw_input;
  std::string training_digest;                  // xxh64 hex of the training sequences
  std::uint64_t training_sessions = 0;
  std::uint64_t training_windows = 0;
  std::map<std::string, double> metrics;        // validation metrics (val_loss, val_topk_acc, ...)
  std::uint64_t weights_bytes = 0;
  std::string weights_digest;                   // xxh64 hex of weights.pt
  std::string created_by = "logguard";
  std::optional<EncoderManifest> encoder;       // format_version >= 2, when trained with model.encoder
  std::string template_source = "table";       // "parser": the bundle's parser wrote the template
                                                // texts (trained on raw lines); "table": a template
                                                // table given with sequence files (matched as patterns)
  std::vector<std::string> unseen_templates;    // format 3: template-table texts no normal training
                                                // session holds (and not labelled abnormal): an
                                                // input template with such a text, or closest to
                                                // one, is unknown (never mapped to a normal one)
  std::vector<std::string> abnormal_templates;  // format 3: texts of templates labelled abnormal in
                                                // training (seen on abnormal lines/sessions only)
  std::optional<Detection> detection;           // format 3: score scale, threshold, K, stride
};

std::string manifest_to_json(const BundleManifest& m);
/// Parses and validates; `source` names the file in errors.
BundleManifest manifest_from_json(const std::string& text, const std::string& source);
/// Reads BUNDLE_DIR/manifest.json and checks weights.pt's size and digest.
BundleManifest read_manifest(const std::string& bundle_dir);

/// Adds (or replaces) the encoder of an existing bundle: writes `encoder_files_dir`'s files
/// (config.json, vocab.txt, model.safetensors, as TemplateEncoder::save writes them) into
/// BUNDLE_DIR/encoder/, records their sizes and digests and rewrites manifest.json atomically.
void attach_encoder(const std::string& bundle_dir, const std::string& encoder_files_dir, EncoderManifest encoder);

/// Rewrites BUNDLE_DIR/manifest.json atomically (.tmp + rename) from `m` (weights untouched).
void write_manifest(const std::string& bundle_dir, const BundleManifest& m);

/// Records the detection settings (calibrate()) in an existing bundle; rewrites manifest.json
/// atomically.
void attach_detection(const std::string& bundle_dir, const Detection& detection);

/// xxh64 of a byte range, 16 hex digits.
std::string digest_hex(const void* data, std::size_t size, std::uint64_t seed = 0);

}  // namespace logguard::models
