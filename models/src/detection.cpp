// Window scores, thresholds and their calibration (see detection.hpp).
#include "logguard/models/detection.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "logguard/core/error.hpp"

namespace logguard::models {

using core::ConfigError;

const char* to_string(DecisionRule r) noexcept { return r == DecisionRule::threshold ? "threshold" : "any_miss"; }

DecisionRule parse_decision_rule(const std::string& s, const std::string& key) {
  if (s == "threshold") return DecisionRule::threshold;
  if (s == "any_miss") return DecisionRule::any_miss;
  throw ConfigError(key, "must be `threshold` or `any_miss`, got `" + s + "`");
}

UnknownWeight parse_unknown_weight(const std::string& s, const std::string& key) {
  UnknownWeight w;
  if (s == "auto") return w;
  if (s == "alarm") {
    w.mode = UnknownWeight::Mode::alarm;
    return w;
  }
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(v > 0) || !std::isfinite(v))
    throw ConfigError(key, "must be `auto`, `alarm` or a positive number of nats, got `" + s + "`");
  w.mode = UnknownWeight::Mode::fixed;
  w.nats = v;
  return w;
}

std::string to_string(const UnknownWeight& w) {
  switch (w.mode) {
    case UnknownWeight::Mode::calibrated: return "auto";
    case UnknownWeight::Mode::alarm: return "alarm";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", w.nats);
      return buf;
    }
  }
}

namespace {

// Value of a piecewise-linear table at x >= 0: table[i] at integers, `slope` per unit beyond.
double table_at(const std::vector<double>& table, double slope, double x) {
  if (table.empty() || !(x > 0)) return 0;
  const double last = static_cast<double>(table.size() - 1);
  if (x >= last) return table.back() + (x - last) * slope;
  const auto i = static_cast<std::size_t>(x);
  const double f = x - static_cast<double>(i);
  return table[i] + f * (table[i + 1] - table[i]);
}

// -ln P(value >= v) at v = 0, 1, 2, ... from `values` (add-one smoothed) while at least
// `min_tail` values reach v; beyond, a geometric tail: the mean nats per step so far (or, with
// no reliable step, the smoothed value at v = 1 per step). Non-decreasing by construction.
void fit_tail(const std::vector<double>& values, std::size_t min_tail, std::vector<double>& table, double& slope) {
  const double n = static_cast<double>(values.size());
  auto tail = [&](double v) {
    std::size_t c = 0;
    for (double x : values) c += x >= v;
    return c;
  };
  table.assign(1, 0.0);
  for (int v = 1;; ++v) {
    const auto c = tail(v);
    if (c < min_tail) break;
    table.push_back(std::max(table.back(), -std::log((static_cast<double>(c) + 1) / (n + 1))));
  }
  const auto reliable = table.size() - 1;
  if (reliable >= 1) {
    slope = table.back() / static_cast<double>(reliable);
  } else {
    slope = -std::log((static_cast<double>(tail(1)) + 1) / (n + 1));
  }
  slope = std::max(slope, 1e-3);
}

std::map<std::string, double> quantiles(std::vector<double> v) {
  std::map<std::string, double> q;
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    const auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) ;
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  q["p50"] = at(0.5);
  q["p90"] = at(0.9);
  q["p99"] = at(0.99);
  q["max"] = v.back();
  return q;
}

}  // namespace

double CountScale::at(int events) const noexcept { return events <= 0 ? 0.0 : table_at(table, slope, events); }

double ScoreScale::rank_score(float max_rank) const noexcept { return table_at(rank, rank_slope, max_rank); }

double ScoreScale::unknown_score(int unknown_events) const noexcept {
  if (unknown_events <= 0) return 0;
  switch (unknown_weight.mode) {
    case UnknownWeight::Mode::alarm: return kAbnormalScore;
    case UnknownWeight::Mode::fixed: return unknown_weight.nats;
    default: return unknown.at(unknown_events);
  }
}

double Detection::score(const WindowStats& w) const noexcept {
  if (w.abnormal > 0) return kAbnormalScore;
  return std::max({scale.rank_score(w.max_rank), scale.unknown_score(w.unknown), scale.novel_score(w.novel)});
}

bool Detection::anomalous(const WindowStats& w) const noexcept {
  if (rule == DecisionRule::any_miss)
    return w.abnormal > 0 || w.unknown > 0 || w.max_rank >= static_cast<float>(top_k);
  return score(w) > threshold;
}

void CalibrationConfig::validate() const {
  const std::string p = "model.calibration.";
  if (!(false_alarm_budget_percent > 0 && false_alarm_budget_percent < 100))
    throw ConfigError(p + "false_alarm_budget_percent", "must be in (0, 100)");
  if (threshold < 0) throw ConfigError(p + "threshold", "must be >= 0 (0 = calibrated)");
  if (min_tail_windows < 1) throw ConfigError(p + "min_tail_windows", "must be >= 1");
}

Detection calibrate(const std::vector<CalibrationUnit>& units, const std::string& unit_name,
                    const CalibrationConfig& config, const Detection& base) {
  config.validate();
  Detection d = base;
  d.calibrated = true;
  d.false_alarm_budget_percent = config.false_alarm_budget_percent;
  d.scale.unknown_weight = config.unknown_weight;
  auto& rep = d.report;
  rep = CalibrationReport{};
  rep.unit = unit_name;

  std::vector<double> ranks, unknowns, novels;
  for (const auto& u : units) {
    if (u.label != 0) {
      ++rep.anomalous_units;
      continue;
    }
    ++rep.normal_units;
    rep.events += u.events;
    rep.unknown_events += u.unknown_events;
    for (const auto& w : u.windows) {
      ranks.push_back(w.max_rank);
      unknowns.push_back(w.unknown);
      novels.push_back(w.novel);
    }
  }
  if (rep.normal_units == 0)
    throw ConfigError("model.train.validation_fraction", "no held-out normal " + unit_name + " to calibrate the threshold on");
  rep.model_windows = ranks.size();
  if (ranks.empty()) {  // normal units without a single scored window: a flat scale
    ranks.push_back(0);
    unknowns.push_back(0);
    novels.push_back(0);
  }
  fit_tail(ranks, config.min_tail_windows, d.scale.rank, d.scale.rank_slope);
  fit_tail(unknowns, config.min_tail_windows, d.scale.unknown.table, d.scale.unknown.slope);
  fit_tail(novels, config.min_tail_windows, d.scale.novel.table, d.scale.novel.slope);

  // A count channel that too few held-out windows show to estimate how often normal data has
  // it scores just above the threshold: an alarm, as the paper's rule has it. The threshold
  // then comes from the other evidence alone, and a unit showing it fires whatever the threshold.
  const bool unknown_unobserved =
      d.scale.unknown.table.size() < 2 && config.unknown_weight.mode == UnknownWeight::Mode::calibrated;
  const bool novel_unobserved = d.scale.novel.table.size() < 2;
  struct Scored {
    double score;
    bool forced;  // shows an unobserved kind of oddness: fires at any threshold
  };
  std::vector<Scored> normal, anomalous;
  for (const auto& u : units) {
    Scored sc{0, false};
    for (const auto& w : u.windows) {
      WindowStats v = w;
      if (unknown_unobserved && v.unknown > 0) {
        sc.forced = true;
        v.unknown = 0;
      }
      if (novel_unobserved && v.novel > 0) {
        sc.forced = true;
        v.novel = 0;
      }
      if (v.abnormal > 0) {  // an event labelled abnormal always fires; it never sets the threshold
        sc.forced = true;
        v.abnormal = 0;
      }
      sc.score = std::max(sc.score, d.score(v));
    }
    (u.label == 0 ? normal : anomalous).push_back(sc);
  }
  auto fires = [](const Scored& s, double t) { return s.forced || s.score > t; };
  {
    std::vector<double> all;
    for (const auto& s : normal) all.push_back(s.forced ? std::max(s.score, kAbnormalScore) : s.score);
    rep.normal_score_quantiles = quantiles(all);
  }

  // Normal quantile: the lowest threshold leaving at most `allowed` normal units above it.
  std::vector<double> desc;
  std::size_t forced_normal = 0;
  for (const auto& s : normal) {
    if (s.forced) ++forced_normal;
    else desc.push_back(s.score);
  }
  std::sort(desc.begin(), desc.end(), std::greater<>());
  const auto allowed = static_cast<std::size_t>(std::floor(config.false_alarm_budget_percent / 100.0 *
                                                           static_cast<double>(normal.size())));
  const auto room = allowed > forced_normal ? allowed - forced_normal : 0;
  double tau = room < desc.size() ? desc[room] : 0.0;  // highest normal score that stays normal
  d.threshold_method = "normal-quantile";
  if (config.threshold > 0) {
    tau = config.threshold;
    d.threshold_method = "config";
  } else if (!anomalous.empty()) {
    // Labelled: among thresholds that keep the budget, the best F1 on the held-out units.
    auto f1_at = [&](double t) {
      double tp = 0, fp = 0;
      for (const auto& s : anomalous) tp += fires(s, t);
      for (const auto& s : normal) fp += fires(s, t);
      const double fn = static_cast<double>(anomalous.size()) - tp;
      return tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
    };
    std::vector<double> cand;
    for (const auto& s : normal)
      if (s.score > tau) cand.push_back(s.score);
    for (const auto& s : anomalous)
      if (s.score > tau) cand.push_back(s.score);
    std::sort(cand.begin(), cand.end());
    double best = f1_at(tau);
    for (double t : cand) {
      const double f = f1_at(t);
      if (f > best + 1e-12) {
        best = f;
        tau = t;
      }
    }
    d.threshold_method = "labelled";
  }
  d.threshold = tau;
  for (auto [unobserved, scale] : {std::pair{unknown_unobserved, &d.scale.unknown}, std::pair{novel_unobserved, &d.scale.novel}})
    if (unobserved) {
      scale->table.assign(1, 0.0);
      scale->slope = tau + d.scale.rank_slope;
      scale->observed = false;
    }
  std::size_t fp = 0, tp = 0;
  for (const auto& s : normal) fp += fires(s, tau);
  for (const auto& s : anomalous) tp += fires(s, tau);
  rep.false_alarm_rate = static_cast<double>(fp) / static_cast<double>(normal.size());
  rep.recall = anomalous.empty() ? 0.0 : static_cast<double>(tp) / static_cast<double>(anomalous.size());
  return d;
}

}  // namespace logguard::models
