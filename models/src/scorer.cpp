// Batched MSMASS / DeepLog scoring (see scorer.hpp).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_set>

#include "logguard/core/error.hpp"
#include "logguard/models/scorer.hpp"
#include "msmass_cpu.hpp"
#include "nets.hpp"

namespace logguard::models {

using namespace detail;

namespace {
// Scorer-internal token of an abnormal event (never a model token; enters the model as kUnk).
constexpr std::int64_t kAbn = -1;
}  // namespace

std::unordered_map<std::uint32_t, std::uint32_t> map_templates(const std::vector<core::TemplateEntry>& bundle,
                                                               const std::vector<core::TemplateEntry>& input) {
  std::unordered_map<std::uint32_t, std::uint32_t> out;
  bool same = bundle.size() == input.size();
  if (same) {
    std::unordered_map<std::uint32_t, std::string> b;
    for (const auto& t : bundle) b[t.id] = core::normalize_template_text(t.text);
    for (const auto& t : input) {
      auto it = b.find(t.id);
      if (it == b.end() || it->second != core::normalize_template_text(t.text)) {
        same = false;
        break;
      }
    }
  }
  if (same) {
    for (const auto& t : input) out[t.id] = t.id;
    return out;
  }
  std::unordered_map<std::string, std::uint32_t> by_text;
  for (const auto& t : bundle) by_text.emplace(core::normalize_template_text(t.text), t.id);
  for (const auto& t : input) {
    auto it = by_text.find(core::normalize_template_text(t.text));
    out[t.id] = it == by_text.end() ? 0 : it->second;
  }
  return out;
}

struct Scorer::Impl {
  BundleManifest manifest;
  DetectConfig config;
  Detection detection;
  torch::Device device{torch::kCPU};
  MsmassNet msmass{nullptr};
  DeepLogNet deeplog{nullptr};
  std::unordered_map<std::uint32_t, std::int64_t> tokens;
  std::vector<std::uint32_t> token_to_id;
  std::unordered_set<std::uint64_t> transitions;  // known (predecessor token, token) pairs
  bool check_transitions = false;                 // the bundle scores novel transitions
  int K = 5, W = 0, L = 0, stride = 1, history = 0;
  std::vector<int> spans;
  // The native engine (MSMASS on the CPU): packed weights, kernels, threads.
  const CpuKernels* kernels = &cpu_kernels();
  std::unique_ptr<MsmassPacked> packed;
  std::unique_ptr<TaskPool> pool;
  std::size_t tile_windows = 16;

  // Model token of a bundle id (tentatively mapped ids: the template's token + kTentTok);
  // abnormal events enter the model as unknown, tentative ones as their template.
  static constexpr std::int64_t kTentTok = std::int64_t{1} << 32;
  std::int64_t token(std::uint32_t id) const {
    if (id == kAbnormalTemplate) return kAbn;
    const bool tentative = is_tentative(id);
    auto it = tokens.find(plain_id(id));
    if (it == tokens.end()) return kUnk;
    return tentative ? it->second + kTentTok : it->second;
  }
  static std::int64_t real_token(std::int64_t t) { return t >= kTentTok ? t - kTentTok : t; }
  static std::int64_t input_token(std::int64_t t) { return t == kAbn ? kUnk : real_token(t); }

  // Scores the rows (one observed event each) of a forward pass into per-window statistics
  // and verdicts. `observed` holds tokens (kAbn for abnormal events), `rel_pos` the
  // window-relative position, `window_of_row` the window index.
  static std::uint64_t pair_key(std::int64_t a, std::int64_t b) {
    return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint64_t>(b);
  }
  // A known event after a known predecessor in a pair training never showed.
  bool novel(std::int64_t prev, std::int64_t tok) const {
    if (!check_transitions || prev < kBos || prev == kEos || tok < kEos) return false;  // none, pad, mask, unknown, abnormal
    return !transitions.count(pair_key(prev, tok));
  }

  // The model rows of a range of windows (MSMASS: one per window and detection span, each
  // with L decoder positions; DeepLog: one per window). Per decoder position ("row" below):
  // the observed token (kAbn for abnormal events), its predecessor (kPad: none), its
  // window-relative position and the window's index in the range.
  struct Rows {
    std::vector<std::int32_t> enc, dec, pos;  // MSMASS model inputs: [n][W], [n][L], [n][L]
    std::vector<std::int64_t> observed, prev;
    std::vector<int> rel;
    std::vector<std::size_t> window;
    void clear() {
      enc.clear();
      dec.clear();
      pos.clear();
      observed.clear();
      prev.clear();
      rel.clear();
      window.clear();
    }
  };

  void msmass_rows(std::span<const std::vector<std::uint32_t>> windows, Rows& rows) const {
    rows.clear();
    std::vector<std::int64_t> w(static_cast<std::size_t>(W));
    for (std::size_t n = 0; n < windows.size(); ++n) {
      const auto& win = windows[n];
      const std::size_t off = win.size() > static_cast<std::size_t>(W) ? win.size() - static_cast<std::size_t>(W) : 0;
      for (int j = 0; j < W; ++j)
        w[static_cast<std::size_t>(j)] = off + static_cast<std::size_t>(j) < win.size() ? token(win[off + static_cast<std::size_t>(j)]) : kPad;
      for (const int s : spans) {
        for (int j = 0; j < W; ++j) {
          const auto t = w[static_cast<std::size_t>(j)];
          rows.enc.push_back(static_cast<std::int32_t>((j >= s && j < s + L && t != kPad) ? kMask : input_token(t)));
        }
        for (int l = 0; l < L; ++l) {
          rows.dec.push_back(static_cast<std::int32_t>(l == 0 ? kMask : input_token(w[static_cast<std::size_t>(s + l - 1)])));
          rows.pos.push_back(s + l);
          rows.observed.push_back(w[static_cast<std::size_t>(s + l)]);
          rows.prev.push_back(s + l > 0 ? w[static_cast<std::size_t>(s + l - 1)] : kPad);
          rows.rel.push_back(static_cast<int>(off) + s + l);
          rows.window.push_back(n);
        }
      }
    }
  }

  // Judges the rows of a range of windows from their logits (row r at logits + r * ld, V
  // columns) into the windows' statistics and verdicts (`out`: the range's windows).
  void judge(const float* logits, std::size_t ld, int V, const Rows& rows, std::span<WindowVerdict> out) const {
    const auto& k = *kernels;
    const auto& observed = rows.observed;
    // Per window: the row deciding its evidence, by kind.
    std::vector<long> worst(out.size(), -1), first_unknown(out.size(), -1), first_abnormal(out.size(), -1),
        first_novel(out.size(), -1);
    for (std::size_t r = 0; r < observed.size(); ++r) {
      const auto tok = real_token(observed[r]);
      if (tok == kPad || tok == kBos) continue;
      auto& st = out[rows.window[r]].stats;
      const int pos = rows.rel[r];
      const auto w = rows.window[r];
      if (tok == kAbn) {
        if (st.abnormal++ == 0 || pos < st.first_abnormal) {
          st.first_abnormal = pos;
          first_abnormal[w] = static_cast<long>(r);
        }
        continue;
      }
      auto count_unknown = [&] {
        if (st.unknown++ == 0 || pos < st.first_unknown) {
          st.first_unknown = pos;
          first_unknown[w] = static_cast<long>(r);
        }
      };
      if (tok == kUnk) {
        count_unknown();
        continue;
      }
      // Fractional rank: the rank among the candidates (the end token and the templates),
      // plus how far below the next more likely candidate it is (ln ratio of their softmax
      // probabilities squashed into [0, 1)); outside the top-K exactly when >= K.
      const float* l = logits + r * ld;
      const int o = static_cast<int>(std::min<std::int64_t>(tok, V - 1));
      const RowStat rs = k.row_stat(l, static_cast<int>(kEos), V, o);
      float x = 0;
      if (rs.rank > 0) {
        const float pa = std::exp(l[o] - rs.m) / rs.sum, ab = std::exp(rs.above - rs.m) / rs.sum;
        const double lr = std::log(std::max(1.0, static_cast<double>(ab) / std::max(1e-38, static_cast<double>(pa))));
        x = static_cast<float>(static_cast<double>(rs.rank) + lr / (1.0 + lr));
      }
      // A tentatively mapped template the model does not expect here is a new template.
      if (observed[r] >= kTentTok && x >= static_cast<float>(K)) {
        count_unknown();
        continue;
      }
      if (novel(real_token(rows.prev[r]), tok) && (st.novel++ == 0 || pos < st.first_novel)) {
        st.first_novel = pos;
        first_novel[w] = static_cast<long>(r);
      }
      if (x > st.max_rank || st.max_rank_position < 0) {
        st.max_rank = x;
        st.max_rank_position = pos;
        worst[w] = static_cast<long>(r);
      }
    }
    for (std::size_t w = 0; w < out.size(); ++w) {
      auto& verdict = out[w];
      const auto& st = verdict.stats;
      verdict.score = detection.score(st);
      verdict.anomalous = detection.anomalous(st);
      if (!verdict.anomalous) continue;
      // Evidence: the abnormal event, else the channel that decided the score.
      long row = worst[w];
      if (st.abnormal > 0) {
        row = first_abnormal[w];
      } else if (detection.rule == DecisionRule::any_miss) {
        if (st.unknown > 0) row = first_unknown[w];
      } else {
        const double r = detection.scale.rank_score(st.max_rank);
        const double u = detection.scale.unknown_score(st.unknown), n = detection.scale.novel_score(st.novel);
        if (st.unknown > 0 && u >= r && u >= n) row = first_unknown[w];
        else if (st.novel > 0 && n >= r) row = first_novel[w];
      }
      if (row < 0) continue;
      const auto ur = static_cast<std::size_t>(row);
      Evidence e;
      e.position = static_cast<std::size_t>(rows.rel[ur]);
      const auto tok = real_token(observed[ur]);
      e.abnormal = tok == kAbn;
      e.unknown = row == first_unknown[w];  // an unknown template or a tentative one outside the top-K
      e.observed = e.abnormal ? kAbnormalTemplate : e.unknown ? 0 : token_to_id[static_cast<std::size_t>(tok)];
      e.rank = (e.abnormal || e.unknown) ? 0.0 : static_cast<double>(st.max_rank);
      e.unknown_events = st.unknown;
      e.novel_events = st.novel;
      e.top_k = top_k(logits + ur * ld, V);
      verdict.evidence = std::move(e);
    }
  }

  // The K most likely candidates of a logits row and their softmax probabilities.
  std::vector<Prediction> top_k(const float* l, int V) const {
    const RowStat rs = kernels->row_stat(l, static_cast<int>(kEos), V, static_cast<int>(kEos));
    std::vector<int> idx;
    for (int j = static_cast<int>(kEos); j < V; ++j) idx.push_back(j);
    const auto k = static_cast<std::size_t>(std::min<int>(K, static_cast<int>(idx.size())));
    std::partial_sort(idx.begin(), idx.begin() + static_cast<long>(k), idx.end(),
                      [&](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    std::vector<Prediction> top;
    for (std::size_t i = 0; i < k; ++i)
      top.push_back({token_to_id[static_cast<std::size_t>(idx[i])], std::exp(l[idx[i]] - rs.m) / rs.sum});
    return top;
  }

  // MSMASS through the CPU kernels: tiles of whole windows, spread over the pool.
  void score_native(std::span<const std::vector<std::uint32_t>> windows, std::vector<WindowVerdict>& out) const {
    const std::size_t per_tile = tile_windows;
    const auto tiles = static_cast<int>((windows.size() + per_tile - 1) / per_tile);
    auto tile = [&](int t) {
      struct Scratch {
        Rows rows;
        Workspace ws;
      };
      thread_local Scratch s;
      const std::size_t b = static_cast<std::size_t>(t) * per_tile, e = std::min(windows.size(), b + per_tile);
      msmass_rows(windows.subspan(b, e - b), s.rows);
      TileInput in;
      in.rows = static_cast<int>(s.rows.enc.size() / static_cast<std::size_t>(W));
      in.enc = s.rows.enc.data();
      in.dec = s.rows.dec.data();
      in.dec_pos = s.rows.pos.data();
      kernels->msmass_forward(*packed, in, s.ws);
      judge(s.ws.logits.data(), static_cast<std::size_t>(packed->Vp), packed->V, s.rows,
            std::span<WindowVerdict>(out).subspan(b, e - b));
    };
    if (pool && tiles > 1) pool->run(tiles, tile);
    else for (int t = 0; t < tiles; ++t) tile(t);
  }

  std::vector<WindowVerdict> score(std::span<const std::vector<std::uint32_t>> windows) const {
    std::vector<WindowVerdict> out(windows.size());
    if (windows.empty()) return out;
    if (packed) {
      score_native(windows, out);
      return out;
    }
    c10::InferenceMode guard;
    Rows rows;
    torch::Tensor logits;
    if (msmass) {
      msmass_rows(windows, rows);
      const auto n = static_cast<long>(rows.enc.size() / static_cast<std::size_t>(W));
      auto tensor = [&](std::vector<std::int32_t>& v, long cols) {
        return torch::from_blob(v.data(), {n, cols}, torch::kInt).to(torch::kLong).to(device);
      };
      logits = msmass.ptr()->forward(tensor(rows.enc, W), tensor(rows.dec, L), tensor(rows.pos, L));
    } else {
      const auto N = static_cast<long>(windows.size());
      auto hist = torch::full({N, history}, kPad, torch::kLong);
      auto a = hist.accessor<std::int64_t, 2>();
      for (long n = 0; n < N; ++n) {
        const auto& win = windows[static_cast<std::size_t>(n)];
        if (win.empty()) {
          rows.observed.push_back(kPad);
          rows.prev.push_back(kPad);
        } else {
          const std::size_t last = win.size() - 1;
          for (int k = 0; k < history && static_cast<std::size_t>(k) < last; ++k)
            a[n][history - 1 - k] = input_token(token(win[last - 1 - static_cast<std::size_t>(k)]));
          rows.observed.push_back(token(win[last]));
          rows.prev.push_back(last > 0 ? token(win[last - 1]) : kPad);
        }
        rows.rel.push_back(win.empty() ? 0 : static_cast<int>(win.size() - 1));
        rows.window.push_back(static_cast<std::size_t>(n));
      }
      logits = deeplog.ptr()->forward(hist.to(device));
    }
    const auto V = logits.size(-1);
    const auto host = logits.reshape({-1, V}).to(torch::kCPU).to(torch::kFloat).contiguous();
    judge(host.data_ptr<float>(), static_cast<std::size_t>(V), static_cast<int>(V), rows, out);
    return out;
  }

  // Model windows of each session as score_sessions cuts them: (session, offset, end).
  struct Ref {
    std::size_t session, offset, end;
  };
  void cut(std::span<const core::Session> sessions, std::vector<std::vector<std::uint32_t>>& seqs,
           std::vector<Ref>& refs) const {
    const bool wrap = manifest.session_boundaries;
    // Sequences as scored: with boundaries on, [start] + events + [end]; position p of the
    // wrapped sequence is event p-1 of the session (p = length + 1 is the end).
    seqs.assign(sessions.size(), {});
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const auto& ev = sessions[i].events;
      if (ev.empty()) continue;
      auto& q = seqs[i];
      q.reserve(ev.size() + 2);
      if (wrap) q.push_back(kStartOfSession);
      q.insert(q.end(), ev.begin(), ev.end());
      if (wrap) q.push_back(kEndOfSession);
      const auto n = q.size();
      if (msmass) {
        for (auto st : window_starts(n, W, stride)) refs.push_back({i, st, std::min(n, st + static_cast<std::size_t>(W))});
      } else {
        const auto h = static_cast<std::size_t>(history);
        for (std::size_t p = wrap ? 1 : 0; p < n; ++p) refs.push_back({i, p > h ? p - h : 0, p + 1});
      }
    }
  }

  // Scores every model window of the sessions in batches; calls f(ref, verdict) in order.
  template <typename F>
  void for_each_window(std::span<const core::Session> sessions, F&& f) const {
    std::vector<std::vector<std::uint32_t>> seqs;
    std::vector<Ref> refs;
    cut(sessions, seqs, refs);
    const auto bs = static_cast<std::size_t>(config.batch_windows);
    std::vector<std::vector<std::uint32_t>> wins;
    for (std::size_t b = 0; b < refs.size(); b += bs) {
      const auto e = std::min(refs.size(), b + bs);
      wins.clear();
      for (auto r = b; r < e; ++r) {
        const auto& q = seqs[refs[r].session];
        wins.emplace_back(q.begin() + static_cast<long>(refs[r].offset), q.begin() + static_cast<long>(refs[r].end));
      }
      auto verdicts = score(wins);
      for (auto r = b; r < e; ++r) f(refs[r], verdicts[r - b]);
    }
  }
};

Scorer::Scorer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scorer::~Scorer() = default;
Scorer::Scorer(Scorer&&) noexcept = default;
Scorer& Scorer::operator=(Scorer&&) noexcept = default;

Scorer Scorer::load(const std::string& bundle_dir, const DetectConfig& config) {
  config.validate();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->manifest = read_manifest(bundle_dir);
  const auto& m = impl->manifest;
  if (config.device != "cpu") {
    if (!torch::cuda::is_available())
      throw core::ConfigError("model.detect.device", "`" + config.device + "` requested but CUDA is not available "
                                                       "(CPU-only LibTorch build or no GPU)");
    try {
      impl->device = torch::Device(config.device);
    } catch (const c10::Error&) {
      throw core::ConfigError("model.detect.device", "not a device: `" + config.device + "`");
    }
  }
  configure_threads(config.threads, 1);
  const int V = static_cast<int>(kFirstTemplate + m.templates.size());
  const auto wpath = (std::filesystem::path(bundle_dir) / kWeightsFile).string();
  impl->tokens = token_map(m.templates);
  for (auto id : m.rare_templates) impl->tokens.erase(id);  // rare in training: unknown
  impl->token_to_id.assign(static_cast<std::size_t>(V), 0);
  for (std::size_t i = 0; i < m.templates.size(); ++i) impl->token_to_id[kFirstTemplate + i] = m.templates[i].id;
  impl->token_to_id[kEos] = kEndOfSession;
  impl->check_transitions = m.check_transitions;
  for (const auto& [a, b] : m.transitions) {
    const auto ta = impl->tokens.find(a), tb = impl->tokens.find(b);
    if (ta != impl->tokens.end() && tb != impl->tokens.end()) impl->transitions.insert(Impl::pair_key(ta->second, tb->second));
  }
  impl->token_to_id[kBos] = kStartOfSession;
  // Detection settings: the bundle's (a bundle without a "detection" section: the any-miss
  // rule with the bundle's K), then what the config sets explicitly.
  auto& d = impl->detection;
  if (m.detection) {
    d = *m.detection;
  } else {
    // No scale to calibrate against: the score is the fractional rank itself (an unknown
    // template counts as ranked below every candidate), and the any-miss rule decides.
    d.rule = DecisionRule::any_miss;
    d.top_k = m.top_k;
    d.stride = 0;
    d.threshold_method = "uncalibrated";
    d.scale.rank = {0.0, 1.0};
    d.scale.rank_slope = 1.0;
    d.scale.unknown.slope = static_cast<double>(m.templates.size() + 1);
    d.scale.novel.slope = static_cast<double>(m.templates.size() + 1);
  }
  if (config.top_k > 0) d.top_k = config.top_k;
  if (config.stride > 0) d.stride = config.stride;
  if (!config.rule.empty()) d.rule = parse_decision_rule(config.rule, "model.detect.rule");
  if (config.threshold >= 0) {
    d.threshold = config.threshold;
    d.threshold_method = "config";
  }
  if (!config.unknown_score.empty()) d.scale.unknown_weight = parse_unknown_weight(config.unknown_score, "model.detect.unknown_score");
  if (d.rule == DecisionRule::threshold && !d.calibrated && config.threshold < 0)
    throw core::ConfigError("model.detect.rule", "`threshold` needs a calibrated bundle (format 3) or model.detect.threshold; "
                                                 "this bundle has no score scale: retrain it, or use `any_miss`");
  impl->K = std::min<int>(d.top_k, static_cast<int>(m.templates.size()) + 1);
  d.top_k = impl->K;
  if (m.kind == ModelKind::msmass) {
    impl->msmass = MsmassNet(m.msmass, V);
    load_weights(*impl->msmass, wpath);
    impl->msmass->eval();
    impl->msmass->move_to(impl->device);
    impl->W = m.msmass.window;
    impl->L = m.msmass.span_length();
    impl->spans = detection_span_starts(impl->W, impl->L);
    impl->stride = d.stride > 0 ? d.stride : std::max(1, impl->W / 2);
    d.stride = impl->stride;
    if (config.engine != "libtorch" && impl->device.is_cpu()) {
      impl->packed = std::make_unique<MsmassPacked>(pack_msmass(*impl->msmass));
      // Tiles of whole windows holding ~320 encoder positions: the activations of a tile
      // stay in the L2 cache.
      const auto per_window = static_cast<std::size_t>(impl->W) * impl->spans.size();
      impl->tile_windows = std::max<std::size_t>(1, 320 / per_window);
      if (config.threads > 1) impl->pool = std::make_unique<TaskPool>(config.threads);
    }
  } else {
    if (config.engine == "native")
      throw core::ConfigError("model.detect.engine", "`native` scores MSMASS bundles only; this bundle is DeepLog");
    impl->deeplog = DeepLogNet(m.deeplog, V);
    load_weights(*impl->deeplog, wpath);
    impl->deeplog->eval();
    impl->deeplog->to(impl->device);
    impl->history = m.deeplog.history;
  }
  return Scorer(std::move(impl));
}

const BundleManifest& Scorer::manifest() const noexcept { return impl_->manifest; }
const Detection& Scorer::detection() const noexcept { return impl_->detection; }
int Scorer::top_k() const noexcept { return impl_->K; }
int Scorer::window_length() const noexcept { return impl_->msmass ? impl_->W : impl_->history + 1; }

std::vector<WindowVerdict> Scorer::score_windows(std::span<const std::vector<std::uint32_t>> windows) const {
  return impl_->score(windows);
}

std::vector<SessionVerdict> Scorer::score_sessions(std::span<const core::Session> sessions) const {
  std::vector<SessionVerdict> out(sessions.size());
  for (std::size_t i = 0; i < sessions.size(); ++i) out[i].session = sessions[i].id;
  const bool wrap = impl_->manifest.session_boundaries;
  std::vector<double> evidence_score(sessions.size(), -1);
  impl_->for_each_window(sessions, [&](const Impl::Ref& ref, WindowVerdict& v) {
    auto& s = out[ref.session];
    ++s.windows;
    s.score = std::max(s.score, v.score);
    if (!v.anomalous) return;
    s.anomalous = true;
    if (v.evidence && v.score > evidence_score[ref.session]) {
      evidence_score[ref.session] = v.score;
      s.evidence = std::move(v.evidence);
      s.evidence->position += ref.offset - (wrap ? 1 : 0);
    }
  });
  const auto& d = impl_->detection;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    auto& s = out[i];
    if (!d.short_session(sessions[i].events.size())) continue;
    s.anomalous = true;
    if (d.short_session_score() > s.score || !s.evidence) {
      s.score = std::max(s.score, d.short_session_score());
      Evidence e;  // the session ends where normal sessions go on
      e.position = sessions[i].events.size();
      e.observed = kEndOfSession;
      s.evidence = std::move(e);
    }
  }
  return out;
}

std::vector<std::vector<WindowStats>> Scorer::session_window_stats(std::span<const core::Session> sessions) const {
  std::vector<std::vector<WindowStats>> out(sessions.size());
  impl_->for_each_window(sessions, [&](const Impl::Ref& ref, WindowVerdict& v) { out[ref.session].push_back(v.stats); });
  return out;
}

}  // namespace logguard::models
