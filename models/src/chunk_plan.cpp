// Model-window arithmetic of chunked sessions (see chunk_plan.hpp).
#include "logguard/models/chunk_plan.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "logguard/core/error.hpp"
#include "logguard/models/scorer.hpp"

namespace logguard::models {

void check_chunk_layout(const ChunkLayout& layout, const ModelShape& m) {
  if (!layout.sessions) return;
  if (layout.length < m.window + 1)
    throw core::ConfigError("pipeline.window.length", "must be > the bundle's window (" + std::to_string(m.window) +
                                                          "); it is the longest chunk of a session scored at once");
  if (layout.length - layout.stride < m.window)
    throw core::ConfigError("pipeline.window.stride",
                            "must leave length - stride >= " + std::to_string(m.window) +
                                " (the bundle's window) events of overlap, so every model window fits in one chunk");
}

std::size_t chunk_start(const Chunk& w, const ChunkLayout& layout) {
  if (!layout.sessions) return 0;
  return w.start == Chunk::kOnGrid ? static_cast<std::size_t>(w.sequence) * layout.stride : static_cast<std::size_t>(w.start);
}

ChunkPlan plan_chunk(const Chunk& w, const ModelShape& m, const ChunkLayout& layout) {
  ChunkPlan p;
  const std::size_t b = m.boundaries ? 1 : 0;
  const std::size_t a = chunk_start(w, layout);
  const bool first = !layout.sessions || a == 0;
  const bool closing = !layout.sessions || w.closing;
  // Token index (in [start] + session + [end]) up to which earlier chunks judged every model
  // window: on the grid, the previous chunk's end.
  const std::size_t prev_hi = !layout.sessions              ? 0
                              : w.start == Chunk::kOnGrid   ? (w.sequence == 0 ? 0 : a - layout.stride + layout.length + b)
                              : w.judged == 0               ? 0
                                                            : static_cast<std::size_t>(w.judged) + b;
  constexpr auto kNone = std::numeric_limits<std::size_t>::max();
  p.tokens.reserve(w.events.size() + 2);
  if (first && b) {
    p.tokens.push_back(kStartOfSession);
    p.event_of_token.push_back(kNone);
  }
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    p.tokens.push_back(w.events[i]);
    p.event_of_token.push_back(i);
  }
  if (closing && b && (w.ended || !layout.sessions)) {
    p.tokens.push_back(kEndOfSession);
    p.event_of_token.push_back(w.events.size());
  }
  // Absolute coordinates in the session's wrapped sequence.
  const std::size_t lo = first ? 0 : a + b;
  const std::size_t hi = lo + p.tokens.size();
  const std::size_t W = m.window;
  auto add = [&](std::size_t begin, std::size_t end) { p.windows.push_back({begin - lo, end - lo}); };
  if (p.tokens.empty()) return p;
  if (m.deeplog) {
    const std::size_t h = W - 1;
    for (std::size_t t = std::max(lo, prev_hi == 0 ? b : prev_hi); t < hi; ++t) add(std::max(t > h ? t - h : 0, lo), t + 1);
    return p;
  }
  if (closing && hi <= W) {
    if (first && hi > prev_hi) add(0, hi);
    return p;
  }
  const std::size_t s = m.stride;
  std::size_t from = prev_hi == 0 ? 0 : std::max(lo, prev_hi + 1 > W ? prev_hi + 1 - W : 0);
  std::size_t st = (from + s - 1) / s * s;
  std::size_t last_regular = kNone;
  for (; st + W <= hi; st += s) {
    add(st, st + W);
    last_regular = st;
  }
  // The last window ends at the session's end; skip it only if it was already scored here
  // or, as a window on the stride grid, by the previous chunk.
  const bool scored_before = prev_hi > 0 && hi <= prev_hi && (hi - W) % s == 0;
  if (closing && hi - W != last_regular && hi - W >= lo && !scored_before) add(hi - W, hi);
  return p;
}

}  // namespace logguard::models
