// Model stages of the daemon (see model_stages.hpp).
#include "logguard/daemon/model_stages.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "logguard/core/sequences.hpp"
#include "logguard/daemon/registry.hpp"

namespace logguard::daemon {

// ---------------------------------------------------------------- ModelHolder

ModelHolder::ModelHolder(std::string bundle_dir, models::DetectConfig detect)
    : dir_(std::move(bundle_dir)), detect_(std::move(detect)) {
  model_ = load(1);
  generation_ = 1;
}

std::shared_ptr<const LoadedModel> ModelHolder::load(std::uint64_t generation) const {
  auto m = std::make_shared<LoadedModel>(models::Scorer::load(dir_, detect_));
  const auto& man = m->scorer.manifest();
  m->version = std::string(models::to_string(man.kind)) + "-" + man.weights_digest.substr(0, 8);
  m->generation = generation;
  auto& sh = m->shape;
  sh.window = static_cast<std::size_t>(m->scorer.window_length());
  sh.deeplog = man.kind == models::ModelKind::deeplog;
  // The bundle's stride (with model.detect.stride overriding it), as `logguard detect` cuts.
  sh.stride = static_cast<std::size_t>(std::max(1, m->scorer.detection().stride));
  sh.boundaries = man.session_boundaries;
  for (const auto& t : man.templates) {
    m->by_text.emplace(core::normalize_template_text(t.text), t.id);
    m->text.emplace(t.id, t.text);
  }
  if (man.encoder) {
    // TemplateMapper holds a mutex (not movable): built in place from load()'s prvalue.
    m->semantic = std::shared_ptr<models::TemplateMapper>(new models::TemplateMapper(models::TemplateMapper::load(dir_)));
    for (const auto& t : m->semantic->normal()) m->semantic_ids.insert(t.id);
  }
  return m;
}

std::shared_ptr<const LoadedModel> ModelHolder::current() const {
  std::lock_guard lock(mu_);
  return model_;
}

core::Expected<bool> ModelHolder::reload() {
  std::shared_ptr<const LoadedModel> fresh;
  try {
    fresh = load(generation_.load() + 1);
    if (check_) check_(*fresh);
  } catch (const std::exception& e) {
    return core::Error{std::string("model reload failed, keeping ") + current()->version + ": " + e.what()};
  }
  {
    std::lock_guard lock(mu_);
    model_ = fresh;
  }
  generation_.store(fresh->generation, std::memory_order_release);
  return true;
}

// ---------------------------------------------------------------- BundleMapper

BundleMapper::BundleMapper(core::LineParser parser, std::shared_ptr<ModelHolder> model)
    : parser_(std::move(parser)), model_(std::move(model)) {}

std::size_t pin_templates(core::LineParser& parser, const std::vector<core::TemplateEntry>& templates) {
  if (parser.config().drain.template_style != core::TemplateStyle::drain) return 0;
  std::size_t n = 0;
  for (const auto& t : templates) n += parser.pin(t.text) != core::kNoTemplate;
  return n;
}

void BundleMapper::set_parser(core::LineParser parser) {
  parser_ = std::move(parser);
  cache_.clear();
  encoded_text_.clear();
  stats_.templates_known = 0;
  generation_ = 0;  // the next map() pins the bundle's templates in the new parser
}

core::TemplateId BundleMapper::lookup(core::TemplateId parser_id, std::string_view text) {
  const auto& m = *cached_model_;
  const std::string normalized = core::normalize_template_text(text);
  auto it = m.by_text.find(normalized);
  core::TemplateId id = it == m.by_text.end() ? 0 : it->second;
  // An exact bundle template maps to itself on every instance: the registry is not needed.
  const bool exact = id != 0 && (!m.semantic || m.semantic_ids.count(id));
  bool adopted = false;
  if (!exact && registry_) {
    // A decision of the running model from the registry (ids outside the vocabulary: ignored).
    if (auto hit = registry_->find(normalized, m.version); hit && (hit->bundle_id == 0 || m.text.count(hit->bundle_id))) {
      id = hit->bundle_id;
      adopted = true;
      ++stats_.templates_adopted;
      registry_->note_adopted();
    }
  }
  double similarity = id != 0 ? 1.0 : 0.0;
  if (!adopted && m.semantic && !exact) {
    // No exact match among the encoder's templates: map by similarity, as `logguard detect`.
    if (encoded_text_.size() <= parser_id) encoded_text_.resize(parser_id + 1);
    auto& old = encoded_text_[parser_id];
    if (!old.empty() && old != text) m.semantic->forget(old);  // template_changed: drop the stale embedding
    const std::size_t before = m.semantic->cache_size();
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = m.semantic->map(text);  // noexcept: a failure is unknown (0)
    id = r.template_id;
    similarity = r.similarity;
    if (m.semantic->cache_size() != before) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++stats_.templates_encoded;
      stats_.encoder_nanoseconds += static_cast<std::uint64_t>(s * 1e9);
      if (on_encoded) on_encoded(s);
    }
    old.assign(text);
  }
  if (!adopted && !exact && registry_) registry_->publish(text, m.version, id, similarity);
  if (cache_.size() <= parser_id) cache_.resize(parser_id + 1, 0);
  const bool was_known = cache_[parser_id] > 1;
  cache_[parser_id] = id + 1;
  if (id != 0 && !was_known) ++stats_.templates_known;
  if (id == 0 && was_known) --stats_.templates_known;
  return id;
}

void BundleMapper::set_registry(TemplateRegistry* r) noexcept {
  registry_ = r;
  next_sync_ = {};
  generation_ = 0;  // the next map() pins the bundle's templates and the registry's texts
}

void BundleMapper::pin_registry_text(const std::string& text) {
  if (parser_.config().drain.template_style != core::TemplateStyle::drain) return;
  // Only generalised texts: a text without a variable is what any instance's Drain makes of
  // the first line of that form anyway, and pinning it would stop Drain from generalising it
  // (each value of an unmasked variable would become a pinned template of its own everywhere).
  if (text.find("<*>") == std::string::npos) return;
  // Bundle templates are pinned already (pin_templates).
  if (cached_model_ && cached_model_->by_text.count(core::normalize_template_text(text))) return;
  if (parser_.pin(text) != core::kNoTemplate) ++stats_.registry_pinned;
}

void BundleMapper::sync_registry() noexcept {
  if (!registry_) return;
  next_sync_ = std::chrono::steady_clock::now() + registry_->poll_interval();
  try {
    std::vector<RegistryUpdate> updates;
    registry_->poll(&updates);
    bool changed = false;
    for (const auto& u : updates) {
      // Before the first map() (no model cached yet) the pins come with the bundle's ones.
      if (u.new_text && cached_model_) pin_registry_text(u.text);
      if (u.decision_changed && cached_model_ && u.model == cached_model_->version) changed = true;
    }
    if (changed) {  // another instance's decision wins (the last record of a key): remap lazily
      cache_.clear();
      stats_.templates_known = 0;
    }
  } catch (...) {
    // Allocation failure: the updates are applied to the registry; pins follow after a reload.
  }
}

core::TemplateId BundleMapper::map(const Record& r) noexcept {
  const std::uint64_t g = model_->generation();
  if (g != generation_) {  // a reload: every mapping is recomputed lazily
    cached_model_ = model_->current();
    generation_ = cached_model_->generation;
    if (follow_bundle_parser_) {
      const auto& raw = cached_model_->scorer.manifest().raw_input;
      if (raw && !(raw->parser == parser_.config())) {
        try {
          parser_ = core::LineParser(raw->parser);
          ++stats_.parser_rebuilds;
        } catch (...) {
          // Not reached after check_bundle_parser; else the old parser stays.
        }
      }
    }
    cache_.clear();
    encoded_text_.clear();  // the new model's mapper has its own (empty) embedding cache
    stats_.templates_known = 0;
    stats_.templates_pinned = pin_templates(parser_, cached_model_->scorer.manifest().templates);
    if (registry_) {
      try {
        for (const auto& t : registry_->texts()) pin_registry_text(t);
      } catch (...) {
        // Allocation failure: unpinned texts still map through the registry.
      }
    }
  }
  if (registry_ && std::chrono::steady_clock::now() >= next_sync_) sync_registry();
  ++stats_.lines;
  const auto res = parser_.parse(r.line);
  if (!res.header_matched || res.truncated || res.invalid_utf8) ++stats_.parse_errors;
  if (res.template_id == core::kNoTemplate) return core::kNoTemplate;
  if (res.change == core::ChangeKind::created) ++stats_.templates_created;
  if (res.change == core::ChangeKind::template_changed) ++stats_.templates_changed;
  core::TemplateId id;
  if (res.change != core::ChangeKind::none || res.template_id >= cache_.size() || cache_[res.template_id] == 0)
    id = lookup(res.template_id, res.template_text);
  else
    id = cache_[res.template_id] - 1;
  ++(id == 0 ? stats_.events_unknown : stats_.events_known);
  return id;
}

void check_bundle_parser(const LoadedModel& m) {
  const auto& raw = m.scorer.manifest().raw_input;
  if (!raw) throw core::ConfigError("parser", "the bundle records no parser settings (and the config has no parser:)");
  try {
    core::LineParser probe(raw->parser);
  } catch (const std::exception& e) {
    throw core::ConfigError("parser", std::string("the bundle's parser settings do not build a parser: ") + e.what());
  }
}

// ---------------------------------------------------------------- chunk planning

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

ChunkPlan plan_chunk(const Window& w, const ModelShape& m, const ChunkLayout& layout) {
  ChunkPlan p;
  const std::size_t b = m.boundaries ? 1 : 0;
  const bool first = !layout.sessions || w.sequence == 0;
  const bool closing = !layout.sessions || w.reason != CloseReason::max_length;
  const std::size_t a = layout.sessions ? static_cast<std::size_t>(w.sequence) * layout.stride : 0;
  constexpr auto kNone = std::numeric_limits<std::size_t>::max();
  p.tokens.reserve(w.events.size() + 2);
  if (first && b) {
    p.tokens.push_back(models::kStartOfSession);
    p.event_of_token.push_back(kNone);
  }
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    p.tokens.push_back(w.events[i].template_id);
    p.event_of_token.push_back(i);
  }
  if (closing && b) {
    p.tokens.push_back(models::kEndOfSession);
    p.event_of_token.push_back(w.events.size());
  }
  // Absolute coordinates in the session's wrapped sequence.
  const std::size_t lo = first ? 0 : a + b;
  const std::size_t hi = lo + p.tokens.size();
  const std::size_t prev_hi = first ? 0 : a - layout.stride + layout.length + b;
  const std::size_t W = m.window;
  auto add = [&](std::size_t begin, std::size_t end) { p.windows.push_back({begin - lo, end - lo}); };
  if (p.tokens.empty()) return p;
  if (m.deeplog) {
    const std::size_t h = W - 1;
    for (std::size_t t = std::max(lo, first ? b : prev_hi); t < hi; ++t) add(std::max(t > h ? t - h : 0, lo), t + 1);
    return p;
  }
  if (closing && hi <= W) {
    if (first) add(0, hi);
    return p;
  }
  const std::size_t s = m.stride;
  std::size_t from = first ? 0 : std::max(lo, prev_hi + 1 > W ? prev_hi + 1 - W : 0);
  std::size_t st = (from + s - 1) / s * s;
  std::size_t last_regular = kNone;
  for (; st + W <= hi; st += s) {
    add(st, st + W);
    last_regular = st;
  }
  // The last window ends at the session's end; skip it only if it was already scored here
  // or, as a window on the stride grid, by the previous chunk.
  const bool scored_before = !first && hi <= prev_hi && (hi - W) % s == 0;
  if (closing && hi - W != last_regular && hi - W >= lo && !scored_before) add(hi - W, hi);
  return p;
}

// ---------------------------------------------------------------- BundleScorer

std::size_t BundleScorer::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (auto t : k.tokens) {
    h ^= t;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

BundleScorer::BundleScorer(std::shared_ptr<ModelHolder> model, ChunkLayout layout, std::size_t cache_capacity)
    : model_(std::move(model)), layout_(layout), capacity_(cache_capacity) {
  check_chunk_layout(layout_, model_->current()->shape);
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
  std::vector<ChunkPlan> plans;
  plans.reserve(batch.size());
  // Model windows to run: (plan, window) -> index in `run` or a cached verdict.
  std::vector<std::vector<std::uint32_t>> run;
  std::vector<std::vector<const models::WindowVerdict*>> got(batch.size());
  std::vector<std::vector<std::size_t>> pending(batch.size());  // index into `run`, or SIZE_MAX
  std::unordered_map<Key, std::size_t, KeyHash> in_batch;
  std::size_t model_windows = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    plans.push_back(plan_chunk(*batch[i], m->shape, layout_));
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
      f.observed = mv.evidence->unknown ? 0 : mv.evidence->observed;
      for (const auto& e : mv.evidence->top_k) f.expected.push_back(e.template_id);
      v.failing.push_back(std::move(f));
    }
    std::sort(v.failing.begin(), v.failing.end(),
              [](const FailingPosition& x, const FailingPosition& y) { return x.index < y.index; });
    for (std::size_t e = 0; e < w.events.size(); ++e)
      if (w.events[e].template_id == 0) v.unknown.push_back(e);
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

TemplateText bundle_template_text(std::shared_ptr<ModelHolder> model) {
  return [model](core::TemplateId id) -> std::string {
    if (id == models::kEndOfSession) return "<end-of-session>";
    if (id == 0) return "<unknown>";
    const auto m = model->current();
    auto it = m->text.find(id);
    return it == m->text.end() ? std::string() : it->second;
  };
}

}  // namespace logguard::daemon
