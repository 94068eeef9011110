// The daemon's scorer adapter cuts streamed session chunks into exactly the model windows
// that `logguard detect` scores offline (model_stages.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/daemon/model_stages.hpp"
#include "logguard/daemon/windower.hpp"
#include "logguard/models/scorer.hpp"

using namespace logguard;
using namespace logguard::daemon;

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
                                   std::vector<std::uint32_t>& wrapped, bool& tokens_ok) {
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
  w.flush(out);
  const std::size_t b = m.boundaries ? 1 : 0;
  wrapped.clear();
  if (b) wrapped.push_back(models::kStartOfSession);
  for (std::size_t i = 0; i < events; ++i) wrapped.push_back(static_cast<std::uint32_t>(i + 1));
  if (b) wrapped.push_back(models::kEndOfSession);
  std::vector<Span> got;
  tokens_ok = true;
  for (const auto& win : out) {
    REQUIRE_FALSE(win.release_only);
    const auto plan = plan_chunk(win, m, layout);
    const std::size_t lo = win.sequence == 0 ? 0 : win.sequence * layout.stride + b;
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
