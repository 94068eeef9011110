#pragma once
// Batched scorer shared by the CLI and the daemon.
//
// Lifecycle: Scorer::load(bundle, config) reads and checks the bundle (LoadError naming the
// file), moves the model to config.device, sets thread counts once; then score_* calls.
// Verdicts follow the bundle's "detection" section (detection.hpp: score scale, threshold,
// K, stride), overridden only by what `config` sets explicitly; a bundle without one (format
// <= 2) is judged by the any-miss rule.
// Every scoring call runs one forward pass per batch under torch::InferenceMode and never
// throws on well-formed input. Thread-safety: score_* are const and may be called from
// several threads at once (the model is read-only in inference mode).
//
// Tokens: inputs are *bundle* template ids (core::Session::events after map_templates());
// id 0 (core::kNoTemplate) or any id not in the bundle is "unknown"; kAbnormalTemplate marks
// an event of a template labelled abnormal (TemplateResolver).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/detection.hpp"

namespace logguard::models {

/// Pseudo template ids for session boundaries (score_windows callers may pass them; top-K
/// lists and evidence use kEndOfSession for "the session ends here").
inline constexpr std::uint32_t kStartOfSession = 0xFFFFFFFEu;
inline constexpr std::uint32_t kEndOfSession = 0xFFFFFFFFu;
/// Pseudo template id of an event whose template is labelled abnormal.
inline constexpr std::uint32_t kAbnormalTemplate = 0xFFFFFFFDu;
/// Flag on a bundle id: the event's template was mapped *tentatively* to that template (cosine
/// in the bundle's band [tentative_threshold, S), TemplateMapper): it counts as that template
/// at a position where the model ranks it among the top-K, else as an unknown template. Code
/// that does not know the flag finds no such id in the bundle: unknown, the safe reading.
inline constexpr std::uint32_t kTentativeBit = 0x40000000u;
constexpr bool is_tentative(std::uint32_t id) noexcept { return id >= kTentativeBit && id < 0x80000000u; }
constexpr std::uint32_t tentative_id(std::uint32_t id) noexcept { return id | kTentativeBit; }
constexpr std::uint32_t plain_id(std::uint32_t id) noexcept { return is_tentative(id) ? id & ~kTentativeBit : id; }

struct Prediction {
  std::uint32_t template_id = 0;  // bundle template id
  float probability = 0;
};

/// Why a window scored what it did: its deciding position (an abnormal event, else the first
/// event of the channel that decided the score: unknown template, novel transition, or the
/// worst-ranked known event).
struct Evidence {
  std::size_t position = 0;       // index in the session (== length: the session's end)
  std::uint32_t observed = 0;     // bundle template id; 0 = unknown; kEndOfSession; kAbnormalTemplate
  bool unknown = false;
  bool abnormal = false;
  double rank = 0;                // fractional rank of a known observed event (0 = the first choice)
  int unknown_events = 0;         // unknown events in that model window
  int novel_events = 0;           // novel-transition events in that model window
  std::vector<Prediction> top_k;  // the model's top-K at that position
};

struct WindowVerdict {
  bool anomalous = false;
  double score = 0;               // nats (detection.hpp); kAbnormalScore with an abnormal event
  WindowStats stats;
  std::optional<Evidence> evidence;  // set when anomalous
};

struct SessionVerdict {
  std::string session;
  bool anomalous = false;
  double score = 0;               // max of its windows' scores
  std::size_t windows = 0;
  std::optional<Evidence> evidence;  // of its highest-scoring anomalous window
};

/// Maps input template ids to bundle ids: by id when the two tables are identical (same ids
/// and normalized texts), else by normalized template text; unmatched ids map to 0 (unknown).
std::unordered_map<std::uint32_t, std::uint32_t> map_templates(
    const std::vector<core::TemplateEntry>& bundle, const std::vector<core::TemplateEntry>& input);

class Scorer {
 public:
  static Scorer load(const std::string& bundle_dir, const DetectConfig& config);
  ~Scorer();
  Scorer(Scorer&&) noexcept;
  Scorer& operator=(Scorer&&) noexcept;

  const BundleManifest& manifest() const noexcept;
  /// The effective detection settings (the bundle's, with the config's overrides).
  const Detection& detection() const noexcept;
  int top_k() const noexcept;
  /// Events a window holds: W for MSMASS, h+1 (history + next) for DeepLog.
  int window_length() const noexcept;

  /// Scores windows (each of window_length() events or fewer; shorter ones are padded) with
  /// all their masks in one forward pass. Positions in the evidence are window-relative.
  std::vector<WindowVerdict> score_windows(std::span<const std::vector<std::uint32_t>> windows) const;

  /// Cuts each session into windows, scores them in batches of config.batch_windows and
  /// ORs the windows' verdicts. Events must already be bundle ids.
  std::vector<SessionVerdict> score_sessions(std::span<const core::Session> sessions) const;

  /// The statistics of every model window of each session (calibration input), cut and
  /// batched as score_sessions cuts them.
  std::vector<std::vector<WindowStats>> session_window_stats(std::span<const core::Session> sessions) const;

 private:
  struct Impl;
  explicit Scorer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::models
