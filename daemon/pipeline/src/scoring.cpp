// The scorer thread (see pipeline_impl.hpp): windows from the scorer queue -> Batcher ->
// Scorer::score -> the sink queue. release_only windows ride along unscored.
#include <algorithm>
#include <chrono>

#include "logguard/pipeline/batcher.hpp"
#include "pipeline_impl.hpp"

namespace logguard::daemon {

using namespace std::chrono_literals;

void Pipeline::Impl::process(std::vector<Window> batch) {
  std::vector<const Window*> to_score;
  for (const auto& w : batch)
    if (!w.release_only) to_score.push_back(&w);
  std::vector<Verdict> verdicts;
  if (!to_score.empty()) {
    auto r = scorer.score(to_score);
    if (!r) return fail("scorer: " + r.error().message);
    if (r->size() != to_score.size()) return fail("scorer: returned a wrong number of verdicts");
    verdicts = std::move(*r);
    stats.windows += to_score.size();
  }
  std::size_t v = 0;
  for (auto& w : batch) {
    detail::Scored s{std::move(w), {}};
    if (!s.window.release_only) s.verdict = std::move(verdicts[v++]);
    while (true) {
      auto r = to_sink.push(s, 100ms);
      if (r != BoundedQueue<detail::Scored>::PushResult::timeout) break;
    }
    if (failed) return;
  }
}

void Pipeline::Impl::score_loop() {
  Batcher batcher(config.batcher);
  std::vector<Window> got;
  while (!failed) {
    const std::int64_t now = time.steady_ms();
    auto deadline = batcher.next_deadline();
    auto wait = deadline ? std::chrono::milliseconds(std::max<std::int64_t>(0, *deadline - now)) : 100ms;
    got.clear();
    const std::size_t n = to_scorer.pop_many(got, config.batcher.max_batch, wait);
    for (auto& w : got)
      if (auto b = batcher.add(std::move(w), time.steady_ms())) process(std::move(*b));
    if (auto b = batcher.tick(time.steady_ms())) process(std::move(*b));
    if (n == 0 && to_scorer.closed_and_empty()) break;
  }
  if (!failed)
    if (auto b = batcher.flush()) process(std::move(*b));
  to_sink.close();
}

}  // namespace logguard::daemon
