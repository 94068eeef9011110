// The daemon's scorer adapter cuts streamed session chunks into exactly the model windows
// that `logguard detect` scores offline, and its mapper maps templates through the bundle's
// encoder as `logguard detect` does (bundle_mapper.hpp, bundle_scorer.hpp).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/encoder.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/template_mapper.hpp"
#include "logguard/models/trainer.hpp"
#include "logguard/pipeline/windower.hpp"
#include "logguard/service/bundle_mapper.hpp"
#include "logguard/service/bundle_scorer.hpp"
#include "tiny_bundle.hpp"

using namespace logguard;
using namespace logguard::daemon;
using models::ChunkLayout;
using models::ModelShape;
using models::check_chunk_layout;

namespace {

using Span = std::pair<std::size_t, std::size_t>;

// The offline reference: models::Scorer::score_sessions' windows over [start] + events + [end].
std::vector<Span> offline_windows(std::size_t events, const ModelShape& m) {
  const std::size_t b = m.boundaries ? 1 : 0;
  const std::size_t n = events + 2 * b;
  std::vector<Span> out;
  if (m.deeplog) {
    const std::size_t h = m.window - 1;
    for (std::size_t p = b; p < n; ++p) out.push_back({p > h ? p - h : 0, p + 1});
  } else if (n <= m.window) {
    out.push_back({0, n});
  } else {
    for (std::size_t st = 0; st + m.window < n; st += m.stride) out.push_back({st, st + m.window});
    out.push_back({n - m.window, n});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Streams `events` events of one session through a Windower and plans every chunk.
std::vector<Span> streamed_windows(std::size_t events, const ModelShape& m, const ChunkLayout& layout,
                                   std::vector<std::uint32_t>& wrapped, bool& tokens_ok,
                                   CloseReason end = CloseReason::end_of_input) {
  WindowConfig wc;
  wc.length = layout.length;
  wc.stride = layout.stride;
  wc.score_closing = true;
  Windower w(wc);
  std::vector<Window> out;
  const std::string_view key = "blk_1";
  for (std::size_t i = 0; i < events; ++i) {
    Event e;
    e.template_id = static_cast<core::TemplateId>(i + 1);
    e.pos.offset = static_cast<std::int64_t>(i);
    w.add(e, std::span<const std::string_view>(&key, 1), 0, out);
  }
  w.flush(out, end);
  const std::size_t b = m.boundaries ? 1 : 0;
  wrapped.clear();
  if (b) wrapped.push_back(models::kStartOfSession);
  for (std::size_t i = 0; i < events; ++i) wrapped.push_back(static_cast<std::uint32_t>(i + 1));
  if (b) wrapped.push_back(models::kEndOfSession);
  std::vector<Span> got;
  tokens_ok = true;
  for (const auto& win : out) {
    if (win.release_only) {  // a stop suspends the session: events a full chunk scored are only released
      REQUIRE(end == CloseReason::shutdown);
      continue;
    }
    const auto plan = plan_window(win, m, layout);
    const std::size_t lo = win.start == 0 ? 0 : win.start + b;
    for (const auto& mw : plan.windows) {
      got.push_back({lo + mw.begin, lo + mw.end});
      if (!std::equal(plan.tokens.begin() + static_cast<long>(mw.begin), plan.tokens.begin() + static_cast<long>(mw.end),
                      wrapped.begin() + static_cast<long>(lo + mw.begin)))
        tokens_ok = false;
    }
  }
  std::sort(got.begin(), got.end());
  return got;
}

}  // namespace

TEST_CASE("a session cut by a stop has its events scored but not its end", "[unit][daemon][scorer]") {
  const std::vector<ModelShape> shapes = {{10, 1, true, false}, {10, 10, true, false}, {4, 3, true, false}, {5, 1, true, true}};
  for (const auto& m : shapes) {
    for (std::size_t length : {m.window + 1, 4 * m.window}) {
      ChunkLayout layout{true, length, length - m.window};
      for (std::size_t events = 1; events <= 40; ++events) {
        INFO("W=" << m.window << " s=" << m.stride << " deeplog=" << m.deeplog << " length=" << length << " events=" << events);
        std::vector<std::uint32_t> wrapped;
        bool tokens_ok = false;
        const auto got = streamed_windows(events, m, layout, wrapped, tokens_ok, CloseReason::shutdown);
        CHECK(tokens_ok);
        // [start] e1 .. en [end]: no window reaches the end token (position n + 1), and every
        // event is in one.
        std::vector<bool> covered(events + 2, false);
        for (const auto& sp : got) {
          CHECK(sp.second <= events + 1);
          for (auto t = sp.first; t < sp.second; ++t) covered[t] = true;
        }
        for (std::size_t e = 1; e <= events; ++e) CHECK(covered[e]);
      }
    }
  }
}

TEST_CASE("streamed chunks are scored on exactly the offline model windows", "[unit][daemon][scorer]") {
  const std::vector<ModelShape> shapes = {
      {10, 1, true, false}, {10, 5, true, false}, {10, 5, false, false}, {4, 3, true, false}, {11, 1, true, true},
      {5, 1, false, true}};
  for (const auto& m : shapes) {
    for (std::size_t length : {m.window + 1, 2 * m.window, 4 * m.window}) {
      for (std::size_t stride = 1; stride + m.window <= length; ++stride) {
        ChunkLayout layout{true, length, stride};
        REQUIRE_NOTHROW(check_chunk_layout(layout, m));
        for (std::size_t events = 1; events <= 70; ++events) {
          INFO("W=" << m.window << " s=" << m.stride << " boundaries=" << m.boundaries << " deeplog=" << m.deeplog
                    << " length=" << length << " stride=" << stride << " events=" << events);
          std::vector<std::uint32_t> wrapped;
          bool tokens_ok = false;
          const auto got = streamed_windows(events, m, layout, wrapped, tokens_ok);
          CHECK(got == offline_windows(events, m));
          CHECK(tokens_ok);
        }
      }
    }
  }
}

TEST_CASE("a session paused and continued is scored on the offline model windows, plus the one ending at the pause",
          "[unit][daemon][scorer]") {
  const std::vector<ModelShape> shapes = {{10, 1, true, false}, {10, 5, true, false}, {4, 3, true, false},
                                          {11, 1, true, true}, {5, 1, false, true}};
  for (const auto& m : shapes) {
    const std::size_t b = m.boundaries ? 1 : 0;
    for (std::size_t length : {m.window + 1, 4 * m.window}) {
      const ChunkLayout layout{true, length, length - m.window};
      for (std::size_t events = 2; events <= 45; ++events) {
        for (std::size_t pause : {std::size_t{1}, events / 2, events - 1}) {
          INFO("W=" << m.window << " s=" << m.stride << " deeplog=" << m.deeplog << " length=" << length
                    << " events=" << events << " pause after " << pause);
          WindowConfig wc;
          wc.length = layout.length;
          wc.stride = layout.stride;
          wc.score_closing = true;
          wc.idle_timeout_ms = 10;
          wc.end_timeout_ms = 1000;
          Windower w(wc);
          std::vector<Window> out;
          const std::string_view key = "blk_1";
          std::vector<std::uint32_t> wrapped;
          if (b) wrapped.push_back(models::kStartOfSession);
          for (std::size_t i = 0; i < events; ++i) {
            if (i == pause) w.tick(100, out);  // suspended: a pause inside the session
            Event e;
            e.template_id = static_cast<core::TemplateId>(i + 1);
            e.pos.offset = static_cast<std::int64_t>(i);
            w.add(e, std::span<const std::string_view>(&key, 1), i < pause ? 0 : 100, out);
            wrapped.push_back(static_cast<std::uint32_t>(i + 1));
          }
          if (b) wrapped.push_back(models::kEndOfSession);
          w.tick(2000, out);  // the session ends
          REQUIRE(w.open_sessions() == 0);
          std::vector<Span> got;
          std::map<std::int64_t, int> released;
          for (const auto& win : out) {
            for (std::size_t k = win.context; k < win.released; ++k) ++released[win.events[k].pos.offset];
            if (win.release_only) continue;
            const auto plan = plan_window(win, m, layout);
            const std::size_t lo = win.start == 0 ? 0 : win.start + b;
            for (const auto& mw : plan.windows) {
              got.push_back({lo + mw.begin, lo + mw.end});
              CHECK(std::equal(plan.tokens.begin() + static_cast<long>(mw.begin),
                               plan.tokens.begin() + static_cast<long>(mw.end),
                               wrapped.begin() + static_cast<long>(lo + mw.begin)));
            }
          }
          CHECK(released.size() == events);
          for (const auto& [off, n] : released) CHECK(n == 1);
          std::sort(got.begin(), got.end());
          CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());  // no model window twice
          // Every offline window is judged; besides them only the window that ended at the pause.
          auto want = offline_windows(events, m);
          std::vector<Span> extra;
          std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
          std::vector<Span> missing;
          std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
          CHECK(missing.empty());
          CHECK(extra.size() <= 1);
          for (const auto& sp : extra) CHECK(sp.second == pause + b);
        }
      }
    }
  }
}

TEST_CASE("chunk layouts without W events of overlap are rejected", "[unit][daemon][scorer][config]") {
  const ModelShape m{10, 1, true, false};
  CHECK_THROWS_AS(check_chunk_layout({true, 10, 1}, m), core::ConfigError);   // length <= W
  CHECK_THROWS_AS(check_chunk_layout({true, 40, 31}, m), core::ConfigError);  // overlap 9 < W
  CHECK_NOTHROW(check_chunk_layout({true, 40, 30}, m));
  CHECK_NOTHROW(check_chunk_layout({false, 3, 3}, m));  // count/time windows are whole sessions
  try {
    check_chunk_layout({true, 40, 31}, m);
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "pipeline.window.stride");
  }
}

// ---------------------------------------------------------------- semantic mapping (issue #4)

namespace {

namespace fs = std::filesystem;

using testing::kEncNormal;
using testing::rec;

std::string tiny_encoder_bundle(double threshold) {
  return testing::tiny_encoder_bundle("logguard_model_stages_encoder_bundle", threshold);
}

}  // namespace

TEST_CASE("the daemon maps reworded templates through the bundle's encoder as detect does",
          "[unit][daemon][mapper][encoder]") {
  const auto dir = tiny_encoder_bundle(0.5);
  auto holder = std::make_shared<ModelHolder>(dir, models::DetectConfig{});
  REQUIRE(holder->current()->semantic);
  core::ParserConfig pc;  // whole line is content; no masks
  BundleMapper mapper(core::LineParser(pc), holder);
  std::vector<double> encode_seconds;
  mapper.on_encoded = [&](double s) { encode_seconds.push_back(s); };

  // Exact template text: the bundle id, no encoding.
  CHECK(mapper.map(rec(kEncNormal[0])) == 1);
  CHECK(mapper.map(rec(kEncNormal[0])) == 1);
  CHECK(mapper.stats().templates_encoded == 0);

  // Reworded lines (other length: new parser templates) and an abnormal one. `logguard detect`
  // maps its input templates with the bundle's TemplateResolver: the encoder's verdict, an
  // abnormal match as kAbnormalTemplate.
  const std::vector<std::string> lines = {"Receiving the block from the source node",
                                          "PacketResponder for this block is terminating now",
                                          "Exception in receiveBlock for block"};
  const auto detect = models::TemplateMapper::load(dir);
  const auto detect_id = [&](const std::string& t) {
    const auto r = detect.map(t);
    return r.verdict == models::MapVerdict::abnormal ? models::kAbnormalTemplate : r.template_id;
  };
  std::vector<core::TemplateId> got;
  for (const auto& l : lines) got.push_back(mapper.map(rec(l)));
  CHECK(mapper.stats().templates_encoded == lines.size());
  CHECK(encode_seconds.size() == lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i] << " -> " << got[i] << " (similarity " << detect.map(lines[i]).similarity << ")");
    CHECK(got[i] == detect_id(lines[i]));
  }
  CHECK(got[0] == 1);
  CHECK(got[1] == 2);
  CHECK(got[2] == models::kAbnormalTemplate);  // closest to the labelled-abnormal template
  CHECK(mapper.stats().events_abnormal == 1);

  // Seen again: served from the per-parser-template cache, no encoding.
  CHECK(mapper.map(rec(lines[0])) == 1);
  CHECK(mapper.stats().templates_encoded == lines.size());

  // template_changed: the changed template is encoded again (the stale text forgotten).
  CHECK(mapper.map(rec("Deleting block file from the data disk now")) == detect_id("Deleting block file from the data disk now"));
  const auto before = mapper.stats().templates_encoded.load();
  const auto changed = mapper.map(rec("Deleting block file from the data drive now"));
  CHECK(mapper.stats().templates_changed == 1);
  CHECK(mapper.stats().templates_encoded == before + 1);
  CHECK(changed == detect_id("Deleting block file from the data <*> now"));

  // A reload brings a fresh mapper: known parser templates are encoded again on next sight.
  REQUIRE(holder->reload());
  CHECK(mapper.map(rec(lines[1])) == got[1]);
  CHECK(mapper.stats().templates_encoded == before + 2);
  CHECK(mapper.map(rec(kEncNormal[0])) == 1);  // exact: still no encoding
  CHECK(mapper.stats().templates_encoded == before + 2);
}

TEST_CASE("without an encoder the daemon maps by template text only", "[unit][daemon][mapper]") {
  const auto dir = tiny_encoder_bundle(0.5);
  fs::remove_all(fs::path(dir) / "encoder");
  // Drop the encoder from the manifest: a v1-style bundle.
  const auto manifest = fs::path(dir) / "manifest.json";
  auto j = nlohmann::json::parse(std::ifstream(manifest));
  j.erase("encoder");
  std::ofstream(manifest, std::ios::trunc) << j.dump(2);
  auto holder = std::make_shared<ModelHolder>(dir, models::DetectConfig{});
  REQUIRE_FALSE(holder->current()->semantic);
  BundleMapper mapper(core::LineParser(core::ParserConfig{}), holder);
  CHECK(mapper.map(rec(kEncNormal[1])) == 2);
  CHECK(mapper.map(rec("Receiving the block from the source node")) == 0);
  CHECK(mapper.stats().templates_encoded == 0);
}

TEST_CASE("the bundle's templates are pinned: an abnormal variant cannot generalise a normal one",
          "[unit][daemon][mapper]") {
  const auto dir = tiny_encoder_bundle(0.5);
  auto holder = std::make_shared<ModelHolder>(dir, models::DetectConfig{});
  for (const bool restored : {false, true}) {
    INFO("parser replaced (checkpoint restore): " << restored);
    BundleMapper mapper(core::LineParser(core::ParserConfig{}), holder);
    if (restored) {
      mapper.map(rec("warm up line"));
      mapper.set_parser(core::LineParser(core::ParserConfig{}));
    }
    // 5 of 6 tokens equal: without the pin Drain would turn the normal template into
    // "PacketResponder for block is <*>", which is no bundle template, so every later normal
    // line would map to unknown (what the realistic benchmark saw).
    CHECK(mapper.map(rec(kEncNormal[1])) == 2);
    const auto interrupted = mapper.map(rec("PacketResponder for block is Interrupted"));
    CHECK((interrupted == 0 || interrupted == models::kAbnormalTemplate));  // never the normal template
    CHECK(mapper.map(rec(kEncNormal[1])) == 2);
    CHECK(mapper.parser().template_text(2) == kEncNormal[1]);
    CHECK(mapper.stats().templates_pinned == kEncNormal.size());
    CHECK(mapper.stats().templates_changed == 0);
  }
}

TEST_CASE("a reload whose bundle records other parser settings rebuilds a bundle-configured parser",
          "[unit][daemon][mapper]") {
  const auto dir = testing::tiny_encoder_bundle("lg-parser-reload", 0.5);
  const auto manifest = fs::path(dir) / "manifest.json";
  // Bundle parser settings as `logguard train` records them (raw_input.parser).
  auto set_parser = [&](nlohmann::json masks) {
    auto j = nlohmann::json::parse(std::ifstream(manifest));
    j["raw_input"] = {{"session_key", ""},
                      {"parser",
                       {{"log_format", ""},
                        {"masks", std::move(masks)},
                        {"drain",
                         {{"depth", 4},
                          {"similarity_threshold", 0.5},
                          {"max_children", 100},
                          {"max_clusters", 0},
                          {"extra_delimiters", ""},
                          {"parametrize_numeric_tokens", true}}},
                        {"max_line_bytes", 1 << 20}}}};
    std::ofstream(manifest, std::ios::trunc) << j.dump(2);
  };
  const auto number_mask = nlohmann::json::array({{{"name", "n"}, {"builtin", "number"}, {"regex", ""}, {"replacement", "<*>"}}});
  set_parser(nlohmann::json::array());
  for (const bool follow : {true, false}) {
    INFO("follow the bundle's parser: " << follow);
    set_parser(nlohmann::json::array());
    auto holder = std::make_shared<ModelHolder>(dir, models::DetectConfig{});
    const auto first = holder->current()->scorer.manifest().raw_input->parser;
    BundleMapper mapper(core::LineParser(first), holder);
    mapper.follow_bundle_parser(follow);
    (void)mapper.map(rec("disk 17 is full"));
    CHECK(mapper.parser().template_text(mapper.parser().parse("disk 17 is full").template_id) == "disk 17 is full");
    // The same reload with the same settings changes nothing.
    REQUIRE(holder->reload());
    CHECK(mapper.map(rec(kEncNormal[1])) == 2);
    CHECK(mapper.stats().parser_rebuilds == 0);
    // New settings: numbers masked.
    set_parser(number_mask);
    holder->set_reload_check([](const LoadedModel& m) { check_bundle_parser(m); });
    REQUIRE(holder->reload());
    CHECK(mapper.map(rec(kEncNormal[1])) == 2);  // the new bundle's templates are pinned again
    CHECK(mapper.stats().parser_rebuilds == (follow ? 1U : 0U));
    CHECK((mapper.parser().config().masks.size() == 1) == follow);
    const auto id = mapper.parser().parse("quota 77 exceeded on volume").template_id;  // a new shape
    CHECK(mapper.parser().template_text(id) == (follow ? "quota <*> exceeded on volume" : "quota 77 exceeded on volume"));
    // A bundle whose settings do not build a parser is refused; the running model stays.
    set_parser(nlohmann::json::array({{{"name", "bad"}, {"builtin", ""}, {"regex", "(unclosed"}, {"replacement", "<*>"}}}));
    const auto r = holder->reload();
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("parser") && Catch::Contains("do not build a parser"));
  }
}

TEST_CASE("only a session that ended is judged too short; one cut by a stop or an eviction is not",
          "[unit][daemon][scorer]") {
  const auto dir = tiny_encoder_bundle(0.5);
  // A calibrated detection section whose threshold nothing in the model reaches: only the
  // short-session rule (fewer than 5 events) can flag a session.
  models::Detection d;
  d.rule = models::DecisionRule::threshold;
  d.calibrated = true;
  d.threshold = 900;
  d.threshold_method = "config";
  d.top_k = 3;
  d.stride = 1;
  d.scale.rank = {0.0, 1.0};
  d.min_session_events = 5;
  models::attach_detection(dir, d);
  auto holder = std::make_shared<ModelHolder>(dir, models::DetectConfig{});
  BundleScorer scorer(holder, models::ChunkLayout{true, 16, 12}, 0);
  const auto judge = [&](CloseReason reason) {
    Window w;
    w.key = "blk_1";
    w.reason = reason;
    for (core::TemplateId t : {1u, 2u}) {
      Event e;
      e.template_id = t;
      w.events.push_back(e);
    }
    const Window* batch[] = {&w};
    auto v = scorer.score(batch);
    REQUIRE(v.has_value());
    return (*v)[0];
  };
  for (auto reason : {CloseReason::idle, CloseReason::end_of_input}) {
    INFO(to_string(reason));
    const auto v = judge(reason);
    CHECK(v.anomalous);
    REQUIRE_FALSE(v.failing.empty());
    CHECK(v.failing.back().observed == models::kEndOfSession);
  }
  for (auto reason : {CloseReason::shutdown, CloseReason::evicted}) {
    INFO(to_string(reason));
    const auto v = judge(reason);
    CHECK_FALSE(v.anomalous);
    CHECK(v.score < d.threshold);
  }
}

TEST_CASE("a pending count window is judged on its new events' templates alone", "[unit][daemon][scorer]") {
  models::Detection det;
  det.calibrated = true;
  det.threshold = 5.0;
  det.scale.rank = {0.0, 1.0, 2.0};
  auto window = [](std::vector<core::TemplateId> ids, std::size_t context) {
    Window w;
    w.reason = CloseReason::pending;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      Event e;
      e.template_id = ids[i];
      e.pos.offset = static_cast<std::int64_t>(i);
      w.events.push_back(e);
    }
    w.context = context;
    return w;
  };
  SECTION("an unknown template that alone scores above the threshold fires") {
    det.scale.unknown = models::CountScale{{0.0}, 5.5, false};
    const auto v = preview_verdict(window({1, 2, 0, 3}, 0), det);
    CHECK(v.anomalous);
    CHECK(v.unknown == std::vector<std::size_t>{2});
    REQUIRE(v.failing.size() == 1);
    CHECK(v.failing[0].index == 2);
    CHECK(v.score > det.threshold);
  }
  SECTION("an unknown template that normal windows often hold waits for the whole window") {
    det.scale.unknown = models::CountScale{{0.0, 2.0, 7.0}, 3.0, true};
    const auto v = preview_verdict(window({1, 0, 0}, 0), det);
    CHECK_FALSE(v.anomalous);  // one unknown scores 2.0; the window judged whole may score more
    CHECK(v.unknown.size() == 2);
  }
  SECTION("an abnormal template fires; events shown by an earlier preview are not judged again") {
    det.scale.unknown = models::CountScale{{0.0}, 5.5, false};
    CHECK(preview_verdict(window({1, models::kAbnormalTemplate, 2}, 0), det).anomalous);
    const auto again = preview_verdict(window({1, models::kAbnormalTemplate, 0, 2}, 3), det);
    CHECK_FALSE(again.anomalous);
    CHECK(again.abnormal.empty());
    CHECK(again.unknown.empty());
    const auto v = preview_verdict(window({1, 2, 3}, 0), det);
    CHECK_FALSE(v.anomalous);
    CHECK(v.score == 0.0);
  }
}
