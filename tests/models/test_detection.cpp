// Scores with a false-alarm budget: the calibration of the score scale and threshold on
// held-out windows, the bundle's "detection" section, and the template resolver.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "logguard/core/error.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/detection.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/template_resolver.hpp"

using namespace logguard;
using namespace logguard::models;

namespace {

// n normal units of `windows` windows; ranks drawn geometrically (mostly 0), no unknowns.
std::vector<CalibrationUnit> normal_units(std::size_t n, int windows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<int> rank(0.6);
  std::vector<CalibrationUnit> units(n);
  for (auto& u : units)
    for (int w = 0; w < windows; ++w) {
      WindowStats s;
      s.max_rank = static_cast<float>(rank(rng));
      s.max_rank_position = 0;
      u.windows.push_back(s);
    }
  return units;
}

double unit_score(const Detection& d, const CalibrationUnit& u) {
  double s = 0;
  for (const auto& w : u.windows) s = std::max(s, d.score(w));
  return s;
}

}  // namespace

TEST_CASE("the threshold keeps the false-alarm budget on the held-out normal units", "[models][detection]") {
  auto units = normal_units(5000, 10, 1);
  CalibrationConfig c;
  c.false_alarm_budget_percent = 1.0;
  const auto d = calibrate(units, "session", c, Detection{});
  CHECK(d.calibrated);
  CHECK(d.threshold_method == "normal-quantile");
  std::size_t above = 0;
  for (const auto& u : units) above += unit_score(d, u) > d.threshold;
  CHECK(above <= 50);  // 1 % of 5000
  CHECK(above >= 25);  // and not far below it (ties aside)
  CHECK(d.report.false_alarm_rate == Approx(static_cast<double>(above) / 5000));
  CHECK(d.report.normal_units == 5000);
  // The scale is monotone: a worse rank never scores lower.
  for (float r = 0; r < 40; r += 0.25f) CHECK(d.scale.rank_score(r + 0.25f) >= d.scale.rank_score(r));
  // Fresh normal units from the same distribution stay near the budget.
  std::size_t fresh_above = 0;
  for (const auto& u : normal_units(5000, 10, 2)) fresh_above += unit_score(d, u) > d.threshold;
  CHECK(fresh_above < 100);
}

TEST_CASE("a budget the held-out part cannot resolve puts the threshold at its highest score", "[models][detection]") {
  auto units = normal_units(200, 10, 3);
  const auto d = calibrate(units, "window", CalibrationConfig{}, Detection{});  // 0.1 % of 200 < 1
  double highest = 0;
  for (const auto& u : units) highest = std::max(highest, unit_score(d, u));
  CHECK(d.threshold == Approx(highest));
  CHECK(d.report.false_alarm_rate == 0);
}

TEST_CASE("unknown templates never seen in held-out data fire, seen often they weigh by their rate",
          "[models][detection]") {
  auto units = normal_units(1000, 10, 4);
  SECTION("unobserved: one unknown event fires whatever the rank threshold") {
    const auto d = calibrate(units, "session", CalibrationConfig{}, Detection{});
    CHECK_FALSE(d.scale.unknown.observed);
    WindowStats w;
    w.unknown = 1;
    CHECK(d.score(w) > d.threshold);
    CHECK(d.anomalous(w));
  }
  SECTION("observed in 30 % of the normal windows: one unknown event alone does not fire") {
    std::mt19937_64 rng(5);
    for (auto& u : units)
      for (auto& w : u.windows) w.unknown = std::bernoulli_distribution(0.3)(rng) ? 1 : 0;
    const auto d = calibrate(units, "session", CalibrationConfig{}, Detection{});
    CHECK(d.scale.unknown.observed);
    WindowStats one, many;
    one.unknown = 1;
    many.unknown = 10;
    CHECK(d.score(one) < d.threshold);
    CHECK(d.score(many) > d.threshold);  // a burst of new templates is still an alarm
  }
  SECTION("unknown_score: alarm and a fixed weight") {
    CalibrationConfig c;
    c.unknown_weight = parse_unknown_weight("alarm", "k");
    auto d = calibrate(units, "session", c, Detection{});
    WindowStats w;
    w.unknown = 1;
    CHECK(d.score(w) == kAbnormalScore);
    c.unknown_weight = parse_unknown_weight("0.5", "k");
    d = calibrate(units, "session", c, Detection{});
    CHECK(d.score(w) == 0.5);
    CHECK_THROWS_AS(parse_unknown_weight("-1", "model.calibration.unknown_score"), core::ConfigError);
  }
  SECTION("novel transitions unobserved in held-out data fire") {
    const auto d = calibrate(units, "session", CalibrationConfig{}, Detection{});
    WindowStats w;
    w.novel = 1;
    CHECK(d.anomalous(w));
  }
}

TEST_CASE("labelled held-out units: the best F1 at or above the budget's threshold", "[models][detection]") {
  auto units = normal_units(1000, 10, 6);
  CalibrationConfig c;
  c.false_alarm_budget_percent = 5;  // a generous budget ...
  const auto plain = calibrate(units, "session", c, Detection{});
  for (int i = 0; i < 50; ++i) {     // ... and anomalies far above every normal score
    CalibrationUnit a;
    a.label = 1;
    WindowStats w;
    w.max_rank = 60;
    a.windows.push_back(w);
    units.push_back(a);
  }
  const auto labelled = calibrate(units, "session", c, Detection{});
  CHECK(labelled.threshold_method == "labelled");
  CHECK(labelled.threshold > plain.threshold);  // fewer false alarms at no loss of recall
  CHECK(labelled.report.recall == 1.0);
  CHECK(labelled.report.false_alarm_rate < plain.report.false_alarm_rate);
  CHECK(labelled.report.anomalous_units == 50);
}

TEST_CASE("abnormal events and the any-miss rule", "[models][detection]") {
  const auto d0 = calibrate(normal_units(100, 5, 7), "session", CalibrationConfig{}, Detection{});
  WindowStats w;
  w.abnormal = 1;
  CHECK(d0.score(w) == kAbnormalScore);
  CHECK(d0.anomalous(w));
  Detection any = d0;
  any.rule = DecisionRule::any_miss;
  any.top_k = 3;
  WindowStats r2, r3;
  r2.max_rank = 2.9f;
  r3.max_rank = 3.0f;
  CHECK_FALSE(any.anomalous(r2));
  CHECK(any.anomalous(r3));
  CHECK_THROWS_AS(parse_decision_rule("sometimes", "model.detect.rule"), core::ConfigError);
  CHECK_THROWS_AS(calibrate({}, "session", CalibrationConfig{}, Detection{}), core::ConfigError);
}

TEST_CASE("the resolver maps exact texts, foreign table patterns and abnormal templates", "[models][templates]") {
  BundleManifest m;
  m.templates = {{5, "<*>Receiving block<*>src:<*>dest:<*>"}, {21, "<*>Deleting block<*>file<*>"}};
  m.abnormal_templates = {"<*>PacketResponder<*>for block<*>Interrupted<*>"};
  m.template_source = "table";
  const TemplateResolver table(m, nullptr);
  CHECK(table.resolve("Receiving block <*> src: /<*> dest: /<*>").id == 5);
  CHECK(table.resolve("Receiving block <*> src: /<*> dest: /<*>").how == Resolution::exact);
  const auto del = table.resolve("Deleting block <*> file /mnt/hadoop/dfs/data/current/<*>");
  CHECK(del.id == 21);
  CHECK(del.how == Resolution::pattern);
  CHECK(table.resolve("PacketResponder <*> for block <*> Interrupted.").id == kAbnormalTemplate);
  CHECK(table.resolve("A brand new message <*>").id == 0);
  m.template_source = "parser";  // the bundle's own parser wrote these: exact texts only
  const TemplateResolver parser(m, nullptr);
  CHECK(parser.resolve("Deleting block <*> file /mnt/hadoop/dfs/data/current/<*>").id == 0);
  const auto t = table.map_table({{1, "Receiving block <*> src: <*> dest: <*>"}, {2, "x y z"}});
  CHECK(t.at(1) == 5);
  CHECK(t.at(2) == 0);
  // A template the training input had but no normal session held resolves to unknown, by
  // text and by pattern, and is never left for the encoder to remap.
  m.unseen_templates = {"<*>Redundant addStoredBlock request received for<*>on<*>size<*>"};
  const TemplateResolver with_unseen(m, nullptr);
  const auto u = with_unseen.resolve("Redundant addStoredBlock request received for <*> on <*> size <*>");
  CHECK(u.id == 0);
  CHECK(u.how == Resolution::unseen);
  ResolveStats st;
  with_unseen.map_table({{1, "<*>Redundant addStoredBlock request received for<*>on<*>size<*>"}}, &st, false);
  CHECK(st.unseen == 1);
}
