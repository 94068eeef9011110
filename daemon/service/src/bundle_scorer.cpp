// BundleScorer (see bundle_scorer.hpp).
#include "logguard/service/bundle_scorer.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace logguard::daemon {

namespace {

// The window as a chunk of its session (its template ids in `ids`).
models::Chunk chunk_of(const Window& w, std::span<const std::uint32_t> ids) {
  models::Chunk c{ids, w.sequence, w.reason != CloseReason::max_length, ends_session(w.reason)};
  if (w.start != Window::kUnset) {
    c.start = w.start;
    c.judged = w.judged;
  }
  return c;
}

// Lists the window's unknown and abnormal events (context events were reported before).
void list_unknown_and_abnormal(const Window& w, Verdict& v) {
  for (std::size_t e = w.context; e < w.events.size(); ++e) {
    if (w.events[e].template_id == 0) v.unknown.push_back(e);
    if (w.events[e].template_id == models::kAbnormalTemplate) v.abnormal.push_back(e);
  }
}

}  // namespace

Verdict preview_verdict(const Window& w, const models::Detection& det) {
  Verdict v;
  v.threshold = det.threshold;
  list_unknown_and_abnormal(w, v);
  // Evidence that every model window holding the event carries, whatever the window's other
  // events: the whole window will be judged anomalous too (scores are monotone in the count).
  models::WindowStats one;
  one.unknown = 1;
  if (!v.abnormal.empty()) {
    v.anomalous = true;
    v.score = models::kAbnormalScore;
  } else if (!v.unknown.empty()) {
    v.score = det.score(one);
    v.anomalous = det.anomalous(one);
  }
  const auto first = !v.abnormal.empty() ? v.abnormal.front() : !v.unknown.empty() ? v.unknown.front() : 0;
  if (v.anomalous) {
    FailingPosition f;
    f.index = first;
    f.observed = w.events[first].template_id;
    v.failing.push_back(std::move(f));
  }
  return v;
}

models::ChunkPlan plan_window(const Window& w, const models::ModelShape& m, const models::ChunkLayout& layout) {
  std::vector<std::uint32_t> ids;
  ids.reserve(w.events.size());
  for (const auto& e : w.events) ids.push_back(e.template_id);
  return models::plan_chunk(chunk_of(w, ids), m, layout);
}

std::size_t BundleScorer::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (auto t : k.tokens) {
    h ^= t;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

BundleScorer::BundleScorer(std::shared_ptr<ModelHolder> model, models::ChunkLayout layout, std::size_t cache_capacity)
    : model_(std::move(model)), layout_(layout), capacity_(cache_capacity) {
  models::check_chunk_layout(layout_, model_->current()->shape);
}

std::string BundleScorer::model_version() const { return model_->current()->version; }

core::Expected<std::vector<Verdict>> BundleScorer::score(std::span<const Window* const> batch) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto m = model_->current();  // one model per batch: a reload applies between batches
  if (m->generation != generation_) {
    if (generation_ != 0) ++stats_.reloads_seen;
    generation_ = m->generation;
    cache_.clear();
    fifo_.clear();
    fifo_next_ = 0;
  }
  std::vector<models::ChunkPlan> plans;
  plans.reserve(batch.size());
  // Model windows to run: (plan, window) -> index in `run` or a cached verdict.
  std::vector<std::vector<std::uint32_t>> run;
  std::vector<std::vector<const models::WindowVerdict*>> got(batch.size());
  std::vector<std::vector<std::size_t>> pending(batch.size());  // index into `run`, or SIZE_MAX
  std::unordered_map<Key, std::size_t, KeyHash> in_batch;
  std::size_t model_windows = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i]->reason == CloseReason::pending) {  // judged on its templates alone, below
      plans.emplace_back();
      continue;
    }
    plans.push_back(plan_window(*batch[i], m->shape, layout_));
    const auto& p = plans.back();
    for (const auto& mw : p.windows) {
      ++model_windows;
      Key k{std::vector<std::uint32_t>(p.tokens.begin() + static_cast<long>(mw.begin),
                                       p.tokens.begin() + static_cast<long>(mw.end))};
      if (capacity_ > 0) {
        if (auto it = cache_.find(k); it != cache_.end()) {
          ++stats_.cache_hits;
          got[i].push_back(&it->second);
          pending[i].push_back(std::numeric_limits<std::size_t>::max());
          continue;
        }
        ++stats_.cache_misses;
      }
      auto [it, fresh] = in_batch.emplace(k, run.size());
      if (fresh) run.push_back(std::move(k.tokens));
      got[i].push_back(nullptr);
      pending[i].push_back(it->second);
    }
  }
  std::vector<models::WindowVerdict> ran;
  try {
    ran = m->scorer.score_windows(run);
  } catch (const std::exception& e) {
    return core::Error{std::string("model failed: ") + e.what()};
  }
  if (ran.size() != run.size()) return core::Error{"model returned a wrong number of verdicts"};

  std::vector<Verdict> out(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Window& w = *batch[i];
    const auto& p = plans[i];
    Verdict& v = out[i];
    if (w.reason == CloseReason::pending) {
      v = preview_verdict(w, m->scorer.detection());
      continue;
    }
    v.threshold = m->scorer.detection().threshold;
    for (std::size_t j = 0; j < p.windows.size(); ++j) {
      const models::WindowVerdict& mv = got[i][j] ? *got[i][j] : ran[pending[i][j]];
      v.score = std::max(v.score, mv.score);
      if (!mv.anomalous) continue;
      v.anomalous = true;
      if (!mv.evidence) continue;
      const std::size_t tok = p.windows[j].begin + mv.evidence->position;
      if (tok >= p.event_of_token.size()) continue;
      const std::size_t ev = p.event_of_token[tok];
      if (ev == std::numeric_limits<std::size_t>::max()) continue;
      if (std::any_of(v.failing.begin(), v.failing.end(), [&](const FailingPosition& f) { return f.index == ev; }))
        continue;
      FailingPosition f;
      f.index = ev;
      f.observed = mv.evidence->observed;  // 0 unknown, kAbnormalTemplate, kEndOfSession or a template
      for (const auto& e : mv.evidence->top_k) f.expected.push_back(e.template_id);
      v.failing.push_back(std::move(f));
    }
    // A session that ends with fewer events than every normal training session (detection.hpp);
    // one cut by a stop or an eviction did not end.
    const auto& det = m->scorer.detection();
    const bool ended = layout_.sessions && ends_session(w.reason);
    if (ended && det.short_session(models::chunk_start(chunk_of(w, {}), layout_) + w.events.size())) {
      v.anomalous = true;
      v.score = std::max(v.score, det.short_session_score());
      if (std::none_of(v.failing.begin(), v.failing.end(),
                       [&](const FailingPosition& f) { return f.index == w.events.size(); })) {
        FailingPosition f;
        f.index = w.events.size();
        f.observed = models::kEndOfSession;
        v.failing.push_back(std::move(f));
      }
    }
    std::sort(v.failing.begin(), v.failing.end(),
              [](const FailingPosition& x, const FailingPosition& y) { return x.index < y.index; });
    list_unknown_and_abnormal(w, v);
    if (on_verdict) on_verdict(v.score, v.threshold);
  }
  // Remember the fresh verdicts (bounded: the oldest entries go first).
  if (capacity_ > 0) {
    for (std::size_t r = 0; r < run.size(); ++r) {
      Key k{std::move(run[r])};
      if (cache_.count(k)) continue;
      if (fifo_.size() < capacity_) {
        fifo_.push_back(k);
      } else {
        cache_.erase(fifo_[fifo_next_]);
        fifo_[fifo_next_] = k;
        fifo_next_ = (fifo_next_ + 1) % capacity_;
      }
      cache_.emplace(std::move(k), std::move(ran[r]));
    }
  }
  stats_.model_windows += model_windows;
  ++stats_.batches;
  if (on_batch)
    on_batch(batch.size(), run.size(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

}  // namespace logguard::daemon
