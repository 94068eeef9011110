#pragma once
// From model predictions to verdicts: the statistics the scorer measures on one model window
// (WindowStats), the score scale and threshold a bundle carries (Detection, the manifest's
// "detection" section, docs/model-bundle.md) and the calibration that builds them from
// held-out normal (and, where labels exist, labelled) data at training time.
//
// The score of a model window is in nats: -ln of how often a normal model window of the
// held-out data looked at least as odd. Three kinds of oddness are measured, and the largest
// counts: the worst rank of an observed known event among the model's predictions (rank 0 =
// the model's first choice; fractional between ranks), the number of events of templates the
// model does not know, and the number of events that follow their predecessor in a way the
// training sessions never showed (a transition seen in fewer than min_transition_sessions of
// them). A kind of oddness too rare in the held-out data to measure (fewer than
// min_tail_windows windows) scores just above the threshold: an alarm, as the paper's top-K
// rule would raise. An event of a template labelled abnormal in training scores kAbnormalScore. A session (or count window) scores the maximum over its model
// windows, so a stream cut into chunks scores the same as the whole session.
//
// Thread-safety: plain values; Detection::score is const and pure.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace logguard::models {

/// Score of a window holding an event of a labelled-abnormal template (above any threshold
/// a calibration can choose; finite so that it stays valid JSON).
inline constexpr double kAbnormalScore = 1000.0;

/// What the scorer measured on one model window.
struct WindowStats {
  float max_rank = 0;           // largest fractional rank of an observed known event (0: all first choices)
  int max_rank_position = -1;   // window-relative position of that event (-1: none scored)
  int unknown = 0;              // events of templates the model does not know (unknown or rare)
  int first_unknown = -1;       // window-relative position of the first of them
  int novel = 0;                // known events after a known predecessor in a transition training never showed
  int first_novel = -1;
  int abnormal = 0;             // events of templates labelled abnormal
  int first_abnormal = -1;
};

/// How verdicts are decided.
enum class DecisionRule {
  threshold,  // score >= threshold (the calibrated default)
  any_miss,   // an observed event outside the top-K, or an unknown template (the paper's rule)
};
const char* to_string(DecisionRule r) noexcept;
/// "threshold" | "any_miss"; throws core::ConfigError(key) otherwise.
DecisionRule parse_decision_rule(const std::string& s, const std::string& key);

/// How unknown templates weigh (model.calibration.unknown_score).
struct UnknownWeight {
  enum class Mode { calibrated, fixed, alarm };
  Mode mode = Mode::calibrated;  // calibrated: -ln P(normal window holds >= k unknown events)
  double nats = 0;               // fixed: the score of a window holding any unknown event
};
/// "auto" | "alarm" | a number of nats (> 0); throws core::ConfigError(key) otherwise.
UnknownWeight parse_unknown_weight(const std::string& s, const std::string& key);
std::string to_string(const UnknownWeight& w);

/// -ln P(a normal window holds >= k such events), k = 0, 1, ...: a non-decreasing table and a
/// slope per event beyond it. `observed` false: the held-out data showed too few to fit a table;
/// then table = {0} and slope = threshold + rank_slope (one event fires).
struct CountScale {
  std::vector<double> table{0.0};
  double slope = 1.0;
  bool observed = true;
  double at(int events) const noexcept;
};

/// Monotone score scale fitted on normal held-out windows (see calibrate()).
struct ScoreScale {
  std::vector<double> rank;      // rank[r] = -ln P(max_rank >= r), r = 0..; beyond: rank_slope per rank
  double rank_slope = 1.0;
  CountScale unknown;            // unknown-template events per window
  CountScale novel;              // novel-transition events per window
  UnknownWeight unknown_weight;

  double rank_score(float max_rank) const noexcept;
  double unknown_score(int unknown_events) const noexcept;
  double novel_score(int novel_events) const noexcept { return novel.at(novel_events); }
};

/// Held-out data the threshold was chosen on, and what the threshold gives there.
struct CalibrationReport {
  std::string unit;                  // "session" or "window"
  std::size_t normal_units = 0;      // held-out normal units
  std::size_t anomalous_units = 0;   // held-out labelled anomalous units (0 without labels)
  std::size_t model_windows = 0;     // model windows of the normal units
  std::size_t unknown_events = 0;    // unknown-template events in the normal units
  std::size_t events = 0;            // events in the normal units
  double false_alarm_rate = 0;       // normal units at or above the threshold / normal units
  double recall = 0;                 // anomalous units at or above the threshold (labelled only)
  std::map<std::string, double> normal_score_quantiles;  // "p50", "p90", "p99", "max"
};

/// The bundle's "detection" section: everything `detect` and logguardd need to turn model
/// predictions into the same verdicts.
struct Detection {
  DecisionRule rule = DecisionRule::threshold;
  int top_k = 5;                       // K: the any-miss rule and the predictions shown as evidence
  int stride = 1;                      // MSMASS model-window stride over sessions
  ScoreScale scale;
  double threshold = 0;                // score > threshold -> anomalous (the highest score still normal)
  std::string threshold_method;        // "normal-quantile", "labelled", "config", "uncalibrated"
  double false_alarm_budget_percent = 0.1;
  bool calibrated = false;             // false: a bundle without a "detection" section (any-miss only)
  /// Sessions (not count windows or entity sessions) with fewer events than every normal
  /// training session are anomalous under the threshold rule (0 = off). MSMASS never sees a
  /// session shorter than its window during training, so it cannot judge the early end of one
  /// (HDFS blocks that stop after "allocate" and "receiving": splits B and DL).
  std::size_t min_session_events = 0;
  CalibrationReport report;

  /// Whether a whole session of `events` events is too short to be normal.
  bool short_session(std::size_t events) const noexcept {
    return rule == DecisionRule::threshold && events < min_session_events;
  }
  /// The score of a session that is too short: just above the threshold, as evidence that
  /// held-out normal data never showed (an unobserved count channel) scores.
  double short_session_score() const noexcept { return threshold + scale.rank_slope; }

  /// The window's score in nats (kAbnormalScore with an abnormal event).
  double score(const WindowStats& w) const noexcept;
  /// The verdict of one model window under `rule`.
  bool anomalous(const WindowStats& w) const noexcept;
};

/// Settings of the calibration (model.calibration).
struct CalibrationConfig {
  double false_alarm_budget_percent = 0.1;  // of held-out normal units allowed above the threshold
  UnknownWeight unknown_weight;             // default: calibrated
  double threshold = 0;                     // > 0: use this threshold instead (method "config")
  std::size_t min_tail_windows = 10;        // empirical tail used while it holds this many windows
  void validate() const;                    // ConfigError "model.calibration.*"
};

/// One held-out unit (a session, or a count window) as the scorer measured it.
struct CalibrationUnit {
  std::vector<WindowStats> windows;
  int label = 0;                    // 0 normal, 1 anomalous
  std::size_t events = 0;           // events of the unit (for the report)
  std::size_t unknown_events = 0;   // of them, unknown templates (for the report)
};

/// Fits the score scale on the normal units' model windows and chooses the threshold: the
/// lowest one that leaves at most false_alarm_budget_percent of the normal units above it
/// (the highest normal score when the budget allows none); with anomalous units, the
/// threshold at or above that one with the best F1 on the held-out units.
/// `base` supplies rule, top_k and stride. Throws core::ConfigError when no normal unit is given.
Detection calibrate(const std::vector<CalibrationUnit>& units, const std::string& unit_name,
                    const CalibrationConfig& config, const Detection& base);

}  // namespace logguard::models
