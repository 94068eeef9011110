// Training loop for MSMASS and DeepLog (see trainer.hpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "logguard/core/error.hpp"
#include "logguard/core/file_io.hpp"
#include "logguard/models/trainer.hpp"
#include "nets.hpp"

namespace logguard::models {

namespace F = torch::nn::functional;
using namespace detail;

namespace {

using Tokens = std::vector<std::int64_t>;

// One training or validation example batch source: returns flattened logits [N,V] and
// targets [N] (kPad targets are ignored by the loss).
struct Batch {
  torch::Tensor logits, targets;
};

std::string fmt_duration(double s) {
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

// Tokens of every session; an id outside `templates` is an error, or kUnk where `lenient`
// (held-out sessions may hold templates the training part never showed).
std::vector<std::vector<std::int64_t>> to_tokens(const std::vector<core::Session>& sessions,
                                                 const std::vector<core::TemplateEntry>& templates, bool boundaries,
                                                 const std::vector<bool>& lenient) {
  const auto map = token_map(templates);
  std::vector<std::vector<std::int64_t>> out;
  out.reserve(sessions.size());
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const auto& s = sessions[i];
    Tokens t;
    t.reserve(s.events.size() + 2);
    if (boundaries && !s.events.empty()) t.push_back(kBos);
    for (auto id : s.events) {
      auto it = map.find(id);
      if (it == map.end() && lenient[i]) {
        t.push_back(kUnk);
        continue;
      }
      if (it == map.end())
        throw core::LoadError("training session `" + s.id + "`: event id " + std::to_string(id) +
                              " is not in the template table");
      t.push_back(it->second);
    }
    if (boundaries && !s.events.empty()) t.push_back(kEos);
    out.push_back(std::move(t));
  }
  return out;
}

std::string training_digest(const std::vector<core::Session>& sessions, const std::vector<core::TemplateEntry>& templates) {
  std::string buf;
  for (const auto& t : templates) buf += std::to_string(t.id) + '\t' + t.text + '\n';
  for (const auto& s : sessions) {
    for (auto id : s.events) buf += std::to_string(id) + ' ';
    buf += '\n';
  }
  return digest_hex(buf.data(), buf.size());
}

double cross_entropy(const Batch& b) {
  return F::cross_entropy(b.logits, b.targets, F::CrossEntropyFuncOptions().ignore_index(kPad)).item<double>();
}

// (hits, counted) of targets inside the top-K of the template tokens.
std::pair<std::int64_t, std::int64_t> topk_hits(const Batch& b, int K) {
  auto logits = b.logits.clone();
  logits.slice(1, 0, kEos).fill_(-1e9f);
  auto idx = std::get<1>(logits.topk(K, 1));
  auto valid = b.targets.ne(kPad);
  auto hit = idx.eq(b.targets.unsqueeze(1)).any(1).logical_and(valid);
  return {hit.sum().item<std::int64_t>(), valid.sum().item<std::int64_t>()};
}

}  // namespace

std::vector<std::size_t> heldout_split(const TrainConfig& config, const std::vector<core::Session>& sessions) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < sessions.size(); ++i)
    if (!sessions[i].events.empty()) order.push_back(i);
  if (order.size() < 2) throw core::ConfigError("sequences", "need at least 2 non-empty training sessions");
  if (config.validation_split == ValidationSplit::random) {
    std::mt19937_64 rng(config.seed ^ 0x5eedull);
    std::shuffle(order.begin(), order.end(), rng);
  }
  const auto n_hold = std::clamp<std::size_t>(static_cast<std::size_t>(std::lround(static_cast<double>(order.size()) *
                                                                                   config.validation_fraction)),
                                              1, order.size() - 1);
  std::vector<std::size_t> held(order.end() - static_cast<long>(n_hold), order.end());
  std::sort(held.begin(), held.end());
  return held;
}

std::string format_progress(const EpochReport& r, int top_k) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "epoch %d/%d loss %.4f val_loss %.4f val_top%d %.4f %.0f windows/s %s eta %s%s",
                r.epoch, r.epochs, r.train_loss, r.val_loss, top_k, r.val_topk_accuracy, r.windows_per_second,
                fmt_duration(r.epoch_seconds).c_str(), fmt_duration(r.eta_seconds).c_str(), r.improved ? " *" : "");
  return buf;
}

TrainResult train(const TrainConfig& config, const std::vector<core::Session>& sessions,
                  const std::vector<core::TemplateEntry>& templates, const std::string& bundle_dir,
                  const std::optional<RawInputSettings>& raw_input,
                  const std::function<void(const EpochReport&)>& on_epoch, const std::vector<int>& labels) {
  config.validate();
  if (templates.empty()) throw core::ConfigError("templates", "the template table is empty");
  std::size_t non_empty = 0;
  for (const auto& s : sessions) non_empty += !s.events.empty();
  if (non_empty < 2) throw core::ConfigError("sequences", "need at least 2 non-empty training sessions");

  const auto t0 = std::chrono::steady_clock::now();
  configure_threads(config.threads, 1);
  torch::manual_seed(config.seed);
  std::mt19937_64 rng(config.seed);

  if (!labels.empty() && labels.size() != sessions.size())
    throw core::ConfigError("labels", "one label per session needed, got " + std::to_string(labels.size()) + " for " +
                                          std::to_string(sessions.size()) + " sessions");
  auto is_normal = [&](std::size_t i) { return labels.empty() || labels[i] == 0; };
  {
    const std::set<std::uint32_t> known_ids = [&] {
      std::set<std::uint32_t> k;
      for (const auto& t : templates) k.insert(t.id);
      return k;
    }();
    for (const auto& s : sessions)
      for (auto id : s.events)
        if (!known_ids.count(id))
          throw core::LoadError("training session `" + s.id + "`: event id " + std::to_string(id) +
                                " is not in the template table");
  }

  // Held-out split by session: the last validation_fraction of the non-empty sessions in input
  // order (tail; time order) or a seeded random sample. Labelled anomalous sessions of the
  // held-out part calibrate the threshold; those before it are dropped.
  const auto held = heldout_split(config, sessions);
  std::vector<bool> is_held(sessions.size(), false);
  for (auto i : held) is_held[i] = true;
  std::vector<std::size_t> train_idx;
  for (std::size_t i = 0; i < sessions.size(); ++i)
    if (!is_held[i] && !sessions[i].events.empty() && is_normal(i)) train_idx.push_back(i);
  std::vector<std::size_t> val_idx;  // normal held-out sessions: validation loss, early stopping
  for (auto i : held)
    if (is_normal(i)) val_idx.push_back(i);
  if (train_idx.empty()) throw core::ConfigError("sequences", "no normal training session before the held-out part");
  if (val_idx.empty()) throw core::ConfigError("model.train.validation_fraction", "no normal session in the held-out part");

  // Vocabulary: the templates the training sessions hold (table order). Templates seen in
  // fewer than min_template_sessions of them are "rare": they keep their token (the model is
  // the same with or without the setting) and are recorded in the bundle, whose scorer treats
  // them as unknown templates.
  std::unordered_map<std::uint32_t, int> seen_in;
  for (auto i : train_idx) {
    std::unordered_set<std::uint32_t> ids(sessions[i].events.begin(), sessions[i].events.end());
    for (auto id : ids) ++seen_in[id];
  }
  std::vector<core::TemplateEntry> vocab;
  std::vector<std::uint32_t> rare;
  for (const auto& t : templates) {
    const auto it = seen_in.find(t.id);
    if (it == seen_in.end()) continue;
    vocab.push_back(t);
    if (it->second < config.min_template_sessions) rare.push_back(t.id);
  }
  const int V = static_cast<int>(kFirstTemplate + vocab.size());
  const int K = std::min<int>(config.top_k > 0 ? config.top_k : (config.kind == ModelKind::msmass ? 5 : 9),
                              static_cast<int>(vocab.size()) + 1);

  std::vector<bool> lenient(sessions.size(), true);
  for (auto i : train_idx) lenient[i] = false;
  auto tokens = to_tokens(sessions, vocab, config.session_boundaries, lenient);

  std::shared_ptr<torch::nn::Module> module;
  std::function<Batch(const std::vector<std::size_t>&, bool)> make_train_batch;  // (example ids, training)
  std::function<Batch(std::size_t, std::size_t)> make_val_batch;                  // [begin, end)
  std::size_t n_train = 0, n_val_examples = 0;

  // Example storage shared by the lambdas.
  auto train_ex = std::make_shared<std::vector<Tokens>>();
  auto train_len = std::make_shared<std::vector<int>>();
  auto val_ex = std::make_shared<std::vector<Tokens>>();
  auto val_span = std::make_shared<std::vector<int>>();

  if (config.kind == ModelKind::msmass) {
    const auto& c = config.msmass;
    const int W = c.window, L = c.span_length();
    auto net = MsmassNet(c, V);
    module = net.ptr();
    auto window_of = [&](const Tokens& t, std::size_t start) {
      Tokens w(static_cast<std::size_t>(W), kPad);
      const auto n = std::min<std::size_t>(static_cast<std::size_t>(W), t.size() - start);
      std::copy_n(t.begin() + static_cast<long>(start), n, w.begin());
      return std::pair{w, static_cast<int>(n)};
    };
    std::set<Tokens> seen;
    for (auto i : train_idx)
      for (auto st : window_starts(tokens[i].size(), W, config.train_stride)) {
        auto [w, n] = window_of(tokens[i], st);
        if (config.dedupe_windows && !seen.insert(w).second) continue;
        train_ex->push_back(std::move(w));
        train_len->push_back(n);
      }
    const auto spans = detection_span_starts(W, L);
    for (auto i : val_idx)
      for (auto st : window_starts(tokens[i].size(), W, std::max(1, W / 2))) {
        auto [w, n] = window_of(tokens[i], st);
        for (int s : spans)
          if (s < n) {
            val_ex->push_back(w);
            val_span->push_back(s);
          }
      }
    n_train = train_ex->size();
    n_val_examples = val_ex->size();
    auto build = [W, L, net](const std::vector<const Tokens*>& wins, const std::vector<int>& starts) {
      const auto B = static_cast<long>(wins.size());
      auto enc = torch::empty({B, W}, torch::kLong), dec = torch::empty({B, L}, torch::kLong);
      auto pos = torch::empty({B, L}, torch::kLong), tgt = torch::empty({B, L}, torch::kLong);
      auto e = enc.accessor<std::int64_t, 2>(), d = dec.accessor<std::int64_t, 2>();
      auto p = pos.accessor<std::int64_t, 2>(), g = tgt.accessor<std::int64_t, 2>();
      for (long b = 0; b < B; ++b) {
        const auto& w = *wins[static_cast<std::size_t>(b)];
        const int s = starts[static_cast<std::size_t>(b)];
        for (int j = 0; j < W; ++j) e[b][j] = (j >= s && j < s + L && w[static_cast<std::size_t>(j)] != kPad) ? kMask : w[static_cast<std::size_t>(j)];
        for (int l = 0; l < L; ++l) {
          d[b][l] = l == 0 ? kMask : w[static_cast<std::size_t>(s + l - 1)];
          p[b][l] = s + l;
          const auto t = w[static_cast<std::size_t>(s + l)];
          g[b][l] = (t == kBos || t == kUnk) ? kPad : t;  // context only, never a target
        }
      }
      auto logits = net.ptr()->forward(enc, dec, pos);
      return Batch{logits.reshape({-1, logits.size(-1)}), tgt.reshape({-1})};
    };
    make_train_batch = [=, &rng](const std::vector<std::size_t>& ids, bool) {
      std::vector<const Tokens*> wins;
      std::vector<int> starts;
      for (auto i : ids) {
        wins.push_back(&(*train_ex)[i]);
        const int hi = std::min(W - L, (*train_len)[i] - 1);
        starts.push_back(std::uniform_int_distribution<int>(0, std::max(0, hi))(rng));
      }
      return build(wins, starts);
    };
    make_val_batch = [=](std::size_t b, std::size_t e) {
      std::vector<const Tokens*> wins;
      std::vector<int> starts;
      for (auto i = b; i < e; ++i) {
        wins.push_back(&(*val_ex)[i]);
        starts.push_back((*val_span)[i]);
      }
      return build(wins, starts);
    };
  } else {
    const int h = config.deeplog.history;
    auto net = DeepLogNet(config.deeplog, V);
    module = net.ptr();
    auto add = [h](const Tokens& t, std::vector<Tokens>& out, std::set<Tokens>* seen) {
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == kBos) continue;
        Tokens ex(static_cast<std::size_t>(h) + 1, kPad);  // history (left-padded) + target
        for (std::size_t k = 0; k < static_cast<std::size_t>(h) && k < i; ++k) ex[static_cast<std::size_t>(h) - 1 - k] = t[i - 1 - k];
        ex[static_cast<std::size_t>(h)] = t[i];
        if (seen && !seen->insert(ex).second) continue;
        out.push_back(std::move(ex));
      }
    };
    std::set<Tokens> seen;
    for (auto i : train_idx) add(tokens[i], *train_ex, config.dedupe_windows ? &seen : nullptr);
    for (auto i : val_idx) add(tokens[i], *val_ex, nullptr);
    n_train = train_ex->size();
    n_val_examples = val_ex->size();
    auto build = [h, net](const std::vector<const Tokens*>& exs) {
      const auto B = static_cast<long>(exs.size());
      auto hist = torch::empty({B, h}, torch::kLong), tgt = torch::empty({B}, torch::kLong);
      auto a = hist.accessor<std::int64_t, 2>();
      auto g = tgt.accessor<std::int64_t, 1>();
      for (long b = 0; b < B; ++b) {
        const auto& ex = *exs[static_cast<std::size_t>(b)];
        for (int j = 0; j < h; ++j) a[b][j] = ex[static_cast<std::size_t>(j)];
        const auto t = ex[static_cast<std::size_t>(h)];
        g[b] = t == kUnk ? kPad : t;  // a template the training part never showed: not a target
      }
      return Batch{net.ptr()->forward(hist), tgt};
    };
    make_train_batch = [=](const std::vector<std::size_t>& ids, bool) {
      std::vector<const Tokens*> exs;
      for (auto i : ids) exs.push_back(&(*train_ex)[i]);
      return build(exs);
    };
    make_val_batch = [=](std::size_t b, std::size_t e) {
      std::vector<const Tokens*> exs;
      for (auto i = b; i < e; ++i) exs.push_back(&(*val_ex)[i]);
      return build(exs);
    };
  }
  if (n_train == 0 || n_val_examples == 0) throw core::ConfigError("sequences", "no training or validation windows");

  torch::optim::Adam opt(module->parameters(), torch::optim::AdamOptions(config.learning_rate));
  std::vector<torch::Tensor> best;
  double best_loss = INFINITY, best_acc = 0;
  int best_epoch = 0, bad = 0, epochs_run = 0;
  std::vector<std::size_t> perm(n_train);
  std::iota(perm.begin(), perm.end(), 0);
  const auto bs = static_cast<std::size_t>(config.batch_size);

  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const auto e0 = std::chrono::steady_clock::now();
    module->train();
    std::shuffle(perm.begin(), perm.end(), rng);
    double loss_sum = 0;
    std::size_t batches = 0;
    for (std::size_t b = 0; b < n_train; b += bs) {
      const std::vector<std::size_t> ids(perm.begin() + static_cast<long>(b), perm.begin() + static_cast<long>(std::min(n_train, b + bs)));
      opt.zero_grad();
      auto batch = make_train_batch(ids, true);
      auto loss = F::cross_entropy(batch.logits, batch.targets, F::CrossEntropyFuncOptions().ignore_index(kPad));
      loss.backward();
      torch::nn::utils::clip_grad_norm_(module->parameters(), 1.0);
      opt.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    module->eval();
    double vloss = 0, vcount = 0;
    std::int64_t hits = 0, counted = 0;
    {
      torch::NoGradGuard ng;
      for (std::size_t b = 0; b < n_val_examples; b += 512) {
        auto batch = make_val_batch(b, std::min(n_val_examples, b + 512));
        const auto n = batch.targets.ne(kPad).sum().item<double>();
        if (n > 0) vloss += cross_entropy(batch) * n;
        vcount += n;
        auto [h, c] = topk_hits(batch, K);
        hits += h;
        counted += c;
      }
    }
    EpochReport r;
    r.epoch = epoch;
    r.epochs = config.epochs;
    r.train_loss = loss_sum / static_cast<double>(std::max<std::size_t>(1, batches));
    r.val_loss = vloss / std::max(1.0, vcount);
    r.val_topk_accuracy = counted ? static_cast<double>(hits) / static_cast<double>(counted) : 0;
    r.epoch_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    r.windows_per_second = static_cast<double>(n_train) / std::max(1e-9, train_secs);
    r.eta_seconds = r.epoch_seconds * (config.epochs - epoch);
    r.improved = r.val_loss < best_loss - 1e-5;
    ++epochs_run;
    if (r.improved) {
      best_loss = r.val_loss;
      best_acc = r.val_topk_accuracy;
      best_epoch = epoch;
      bad = 0;
      best.clear();
      for (const auto& p : module->parameters()) best.push_back(p.detach().clone());
    } else {
      ++bad;
    }
    if (on_epoch) on_epoch(r);
    if (bad >= config.patience) break;
  }
  {
    torch::NoGradGuard ng;
    auto params = module->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }

  namespace fs = std::filesystem;
  fs::create_directories(bundle_dir);
  const auto wpath = (fs::path(bundle_dir) / kWeightsFile).string();
  save_weights(*module, wpath);
  const auto written = core::read_file_bytes(wpath);
  if (!written) throw core::LoadError(wpath + ": cannot read back the weights just written");
  const std::string& bytes = *written;

  TrainResult res;
  auto& m = res.manifest;
  m.kind = config.kind;
  m.msmass = config.msmass;
  m.deeplog = config.deeplog;
  m.top_k = K;
  m.session_boundaries = config.session_boundaries;
  m.templates = vocab;
  m.rare_templates = rare;
  for (const auto& t : templates)
    if (!seen_in.count(t.id)) m.unseen_templates.push_back(t.text);
  m.raw_input = raw_input;
  m.training_digest = training_digest(sessions, templates);
  m.training_sessions = train_idx.size();
  m.training_windows = n_train;
  m.weights_bytes = bytes.size();
  m.weights_digest = digest_hex(bytes.data(), bytes.size());
  res.validation = held;
  m.check_transitions = config.min_transition_sessions > 0;
  if (m.check_transitions) {
    // Known transitions: (predecessor, event) pairs of the training sessions (with their start
    // and end when sessions are wrapped), kept when seen in min_transition_sessions of them.
    std::map<std::pair<std::uint32_t, std::uint32_t>, int> seen;
    for (auto i : train_idx) {
      std::vector<std::uint32_t> q;
      if (config.session_boundaries) q.push_back(0xFFFFFFFEu);
      q.insert(q.end(), sessions[i].events.begin(), sessions[i].events.end());
      if (config.session_boundaries) q.push_back(0xFFFFFFFFu);
      std::set<std::pair<std::uint32_t, std::uint32_t>> here;
      for (std::size_t k = 1; k < q.size(); ++k) here.emplace(q[k - 1], q[k]);
      for (const auto& pr : here) ++seen[pr];
    }
    for (const auto& [pr, c] : seen)
      if (c >= config.min_transition_sessions) m.transitions.push_back(pr);
  }
  res.epochs_run = epochs_run;
  res.best_epoch = best_epoch;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.metrics = {{"val_loss", best_loss},
               {"val_topk_accuracy", best_acc},
               {"val_sessions", static_cast<double>(val_idx.size())},
               {"heldout_sessions", static_cast<double>(held.size())},
               {"val_targets", static_cast<double>(n_val_examples)},
               {"best_epoch", best_epoch},
               {"epochs_run", epochs_run},
               {"train_seconds", res.seconds},
               {"seed", static_cast<double>(config.seed)},
               {"threads", config.threads}};
  const auto mpath = fs::path(bundle_dir) / kManifestFile;
  {
    std::ofstream out(mpath.string() + ".tmp", std::ios::binary | std::ios::trunc);
    out << manifest_to_json(m);
    if (!out) throw core::LoadError(mpath.string() + ": cannot write");
  }
  fs::rename(mpath.string() + ".tmp", mpath);
  return res;
}

}  // namespace logguard::models
