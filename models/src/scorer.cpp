// Batched MSMASS / DeepLog scoring (see scorer.hpp).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "logguard/core/error.hpp"
#include "logguard/models/scorer.hpp"
#include "nets.hpp"

namespace logguard::models {

using namespace detail;

namespace {
constexpr double kUnknownScore = 50.0;  // -ln p for an unknown template (p ~ 2e-22)
}

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
  torch::Device device{torch::kCPU};
  MsmassNet msmass{nullptr};
  DeepLogNet deeplog{nullptr};
  std::unordered_map<std::uint32_t, std::int64_t> tokens;
  std::vector<std::uint32_t> token_to_id;
  int K = 5, W = 0, L = 0, stride = 1, history = 0;
  std::vector<int> spans;

  std::int64_t token(std::uint32_t id) const {
    auto it = tokens.find(id);
    return it == tokens.end() ? kUnk : it->second;
  }

  // One row to judge: predictions for `n` targets. Fills verdicts.
  void judge(const torch::Tensor& logits_in, const std::vector<std::int64_t>& observed, const std::vector<int>& rel_pos,
             const std::vector<std::size_t>& window_of_row, std::vector<WindowVerdict>& out) const {
    auto logits = logits_in.to(torch::kCPU).to(torch::kFloat);
    logits.slice(1, 0, kEos).fill_(-INFINITY);
    auto probs = torch::softmax(logits, 1);
    auto [val, idx] = probs.topk(K, 1);
    auto obs = torch::tensor(observed, torch::kLong).clamp_min(0).unsqueeze(1);
    auto pobs = probs.gather(1, obs).squeeze(1);
    auto v = val.accessor<float, 2>();
    auto ix = idx.accessor<std::int64_t, 2>();
    auto po = pobs.accessor<float, 1>();
    for (std::size_t r = 0; r < observed.size(); ++r) {
      const auto tok = observed[r];
      if (tok == kPad || tok == kBos) continue;
      auto& w = out[window_of_row[r]];
      const bool unknown = tok == kUnk;
      bool flagged;
      double score;
      if (unknown) {
        if (!config.unknown_is_anomalous) continue;
        flagged = true;
        score = kUnknownScore;
      } else {
        flagged = true;
        for (int k = 0; k < K; ++k)
          if (ix[static_cast<long>(r)][k] == tok) flagged = false;
        score = -std::log(std::max(1e-30, static_cast<double>(po[static_cast<long>(r)])));
      }
      w.score = std::max(w.score, score);
      if (!flagged) continue;
      w.anomalous = true;
      const auto pos = static_cast<std::size_t>(rel_pos[r]);
      if (w.evidence && w.evidence->position <= pos) continue;
      Evidence e;
      e.position = pos;
      e.unknown = unknown;
      e.observed = unknown ? 0 : token_to_id[static_cast<std::size_t>(tok)];
      for (int k = 0; k < K; ++k)
        e.top_k.push_back({token_to_id[static_cast<std::size_t>(ix[static_cast<long>(r)][k])], v[static_cast<long>(r)][k]});
      w.evidence = std::move(e);
    }
  }

  std::vector<WindowVerdict> score(std::span<const std::vector<std::uint32_t>> windows) const {
    std::vector<WindowVerdict> out(windows.size());
    if (windows.empty()) return out;
    c10::InferenceMode guard;
    std::vector<std::int64_t> observed;
    std::vector<int> rel;
    std::vector<std::size_t> row_window;
    if (msmass) {
      const auto M = static_cast<long>(spans.size());
      const auto N = static_cast<long>(windows.size());
      auto enc = torch::empty({N * M, W}, torch::kLong), dec = torch::empty({N * M, L}, torch::kLong);
      auto pos = torch::empty({N * M, L}, torch::kLong);
      auto e = enc.accessor<std::int64_t, 2>(), d = dec.accessor<std::int64_t, 2>(), p = pos.accessor<std::int64_t, 2>();
      std::vector<std::int64_t> w(static_cast<std::size_t>(W));
      for (long n = 0; n < N; ++n) {
        const auto& win = windows[static_cast<std::size_t>(n)];
        const std::size_t off = win.size() > static_cast<std::size_t>(W) ? win.size() - static_cast<std::size_t>(W) : 0;
        for (int j = 0; j < W; ++j)
          w[static_cast<std::size_t>(j)] = off + static_cast<std::size_t>(j) < win.size() ? token(win[off + static_cast<std::size_t>(j)]) : kPad;
        for (long m = 0; m < M; ++m) {
          const long r = n * M + m;
          const int s = spans[static_cast<std::size_t>(m)];
          for (int j = 0; j < W; ++j) {
            const auto t = w[static_cast<std::size_t>(j)];
            e[r][j] = (j >= s && j < s + L && t != kPad) ? kMask : t;
          }
          for (int l = 0; l < L; ++l) {
            d[r][l] = l == 0 ? kMask : w[static_cast<std::size_t>(s + l - 1)];
            p[r][l] = s + l;
            observed.push_back(w[static_cast<std::size_t>(s + l)]);
            rel.push_back(static_cast<int>(off) + s + l);
            row_window.push_back(static_cast<std::size_t>(n));
          }
        }
      }
      auto logits = msmass.ptr()->forward(enc.to(device), dec.to(device), pos.to(device));
      judge(logits.reshape({-1, logits.size(-1)}), observed, rel, row_window, out);
    } else {
      const auto N = static_cast<long>(windows.size());
      auto hist = torch::full({N, history}, kPad, torch::kLong);
      auto a = hist.accessor<std::int64_t, 2>();
      for (long n = 0; n < N; ++n) {
        const auto& win = windows[static_cast<std::size_t>(n)];
        if (win.empty()) {
          observed.push_back(kPad);
        } else {
          const std::size_t last = win.size() - 1;
          for (int k = 0; k < history && static_cast<std::size_t>(k) < last; ++k)
            a[n][history - 1 - k] = token(win[last - 1 - static_cast<std::size_t>(k)]);
          observed.push_back(token(win[last]));
        }
        rel.push_back(win.empty() ? 0 : static_cast<int>(win.size() - 1));
        row_window.push_back(static_cast<std::size_t>(n));
      }
      auto logits = deeplog.ptr()->forward(hist.to(device));
      judge(logits, observed, rel, row_window, out);
    }
    return out;
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
  impl->token_to_id[kBos] = kStartOfSession;
  impl->K = std::min<int>(config.top_k > 0 ? config.top_k : m.top_k, static_cast<int>(m.templates.size()));
  if (m.kind == ModelKind::msmass) {
    impl->msmass = MsmassNet(m.msmass, V);
    load_weights(*impl->msmass, wpath);
    impl->msmass->eval();
    impl->msmass->move_to(impl->device);
    impl->W = m.msmass.window;
    impl->L = m.msmass.span_length();
    impl->spans = detection_span_starts(impl->W, impl->L);
    impl->stride = config.stride > 0 ? config.stride : std::max(1, impl->W / 2);
  } else {
    impl->deeplog = DeepLogNet(m.deeplog, V);
    load_weights(*impl->deeplog, wpath);
    impl->deeplog->eval();
    impl->deeplog->to(impl->device);
    impl->history = m.deeplog.history;
  }
  return Scorer(std::move(impl));
}

const BundleManifest& Scorer::manifest() const noexcept { return impl_->manifest; }
int Scorer::top_k() const noexcept { return impl_->K; }
int Scorer::window_length() const noexcept { return impl_->msmass ? impl_->W : impl_->history + 1; }

std::vector<WindowVerdict> Scorer::score_windows(std::span<const std::vector<std::uint32_t>> windows) const {
  return impl_->score(windows);
}

std::vector<SessionVerdict> Scorer::score_sessions(std::span<const core::Session> sessions) const {
  std::vector<SessionVerdict> out(sessions.size());
  const bool wrap = impl_->manifest.session_boundaries;
  // Sequences as scored: with boundaries on, [start] + events + [end]; position p of the
  // wrapped sequence is event p-1 of the session (p = length + 1 is the end).
  std::vector<std::vector<std::uint32_t>> seqs(sessions.size());
  struct Ref {
    std::size_t session, offset, end;
  };
  std::vector<Ref> refs;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    out[i].session = sessions[i].id;
    const auto& ev = sessions[i].events;
    if (ev.empty()) continue;
    auto& q = seqs[i];
    q.reserve(ev.size() + 2);
    if (wrap) q.push_back(kStartOfSession);
    q.insert(q.end(), ev.begin(), ev.end());
    if (wrap) q.push_back(kEndOfSession);
    const auto n = q.size();
    if (impl_->msmass) {
      for (auto st : window_starts(n, impl_->W, impl_->stride))
        refs.push_back({i, st, std::min(n, st + static_cast<std::size_t>(impl_->W))});
    } else {
      const auto h = static_cast<std::size_t>(impl_->history);
      for (std::size_t p = wrap ? 1 : 0; p < n; ++p) refs.push_back({i, p > h ? p - h : 0, p + 1});
    }
  }
  const auto bs = static_cast<std::size_t>(impl_->config.batch_windows);
  std::vector<std::vector<std::uint32_t>> wins;
  for (std::size_t b = 0; b < refs.size(); b += bs) {
    const auto e = std::min(refs.size(), b + bs);
    wins.clear();
    for (auto r = b; r < e; ++r) {
      const auto& q = seqs[refs[r].session];
      wins.emplace_back(q.begin() + static_cast<long>(refs[r].offset), q.begin() + static_cast<long>(refs[r].end));
    }
    const auto verdicts = impl_->score(wins);
    for (auto r = b; r < e; ++r) {
      auto& s = out[refs[r].session];
      const auto& v = verdicts[r - b];
      ++s.windows;
      s.score = std::max(s.score, v.score);
      if (v.anomalous && !s.anomalous) {
        s.anomalous = true;
        s.evidence = v.evidence;
        if (s.evidence) s.evidence->position += refs[r].offset - (wrap ? 1 : 0);
      }
    }
  }
  return out;
}

}  // namespace logguard::models
