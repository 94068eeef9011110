// Template encoder (BERT + WordPiece), contrastive fine-tuning, helpers (see encoder.hpp).
#include "logguard/models/encoder.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "bert.hpp"
#include "logguard/core/error.hpp"
#include "logguard/models/config.hpp"

namespace logguard::models {

using core::ConfigError;
using core::LoadError;

void EncoderConfig::validate() const {
  const std::string p = "model.encoder.";
  if (max_length < 3 || max_length > 512) throw ConfigError(p + "max_length", "must be in [3, 512]");
  if (!(tau > 0)) throw ConfigError(p + "tau", "must be > 0");
  if (!(threshold >= 0 && threshold < 1)) throw ConfigError(p + "threshold", "must be in [0, 1) (0 = auto)");
  if (epochs < 0) throw ConfigError(p + "epochs", "must be >= 0");
  if (!(learning_rate > 0)) throw ConfigError(p + "learning_rate", "must be > 0");
  if (batch_size < 1) throw ConfigError(p + "batch_size", "must be >= 1");
  if (train_layers < 0) throw ConfigError(p + "train_layers", "must be >= 0 (0 = all)");
  if (variants < 1) throw ConfigError(p + "variants", "must be >= 1");
  for (auto [k, v] : {std::pair{"substitute_rate", substitute_rate}, {"insert_rate", insert_rate}, {"delete_rate", delete_rate}})
    if (!(v >= 0 && v <= 1)) throw ConfigError(p + k, "must be in [0, 1]");
  if (validation_variants < 1) throw ConfigError(p + "validation_variants", "must be >= 1");
  if (hard_negatives < 0 || hard_negatives > 64) throw ConfigError(p + "hard_negatives", "must be in [0, 64]");
  if (threads < 1) throw ConfigError(p + "threads", "must be >= 1");
  if (scratch_hidden < 4 || scratch_layers < 1 || scratch_heads < 1 || scratch_intermediate < 1)
    throw ConfigError(p + "scratch_hidden", "scratch model sizes must be >= 1 (hidden >= 4)");
  if (scratch_hidden % scratch_heads != 0)
    throw ConfigError(p + "scratch_heads", "must divide scratch_hidden");
  if (scratch_vocab_words < 1) throw ConfigError(p + "scratch_vocab_words", "must be >= 1");
}

std::string encoder_text(const std::string& t) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 3, "<*>") == 0) {
      i += 2;
      space = true;
      continue;
    }
    const char c = t[i];
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

struct TemplateEncoder::Impl {
  Impl(const detail::BertSpec& s, WordPieceTokenizer t, int max_len)
      : net(s), tok(std::move(t)), max_length(std::min(max_len, s.max_positions)) {}
  detail::BertNet net;
  WordPieceTokenizer tok;
  int max_length;

  /// ids and mask [B, longest] for the texts.
  std::pair<torch::Tensor, torch::Tensor> tensors(const std::vector<std::string>& texts, std::size_t begin,
                                                  std::size_t end) const {
    std::vector<std::vector<std::int64_t>> ids;
    std::size_t longest = 2;
    for (std::size_t i = begin; i < end; ++i) {
      ids.push_back(tok.encode(texts[i], max_length));
      longest = std::max(longest, ids.back().size());
    }
    const auto B = static_cast<std::int64_t>(ids.size()), L = static_cast<std::int64_t>(longest);
    auto t = torch::full({B, L}, tok.pad_id(), torch::kLong);
    auto m = torch::zeros({B, L}, torch::kLong);
    auto ta = t.accessor<std::int64_t, 2>();
    auto ma = m.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < B; ++b)
      for (std::size_t j = 0; j < ids[b].size(); ++j) {
        ta[b][static_cast<std::int64_t>(j)] = ids[b][j];
        ma[b][static_cast<std::int64_t>(j)] = 1;
      }
    return {t, m};
  }
};

TemplateEncoder::TemplateEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TemplateEncoder::~TemplateEncoder() = default;
TemplateEncoder::TemplateEncoder(TemplateEncoder&&) noexcept = default;
TemplateEncoder& TemplateEncoder::operator=(TemplateEncoder&&) noexcept = default;

TemplateEncoder TemplateEncoder::from_pretrained(const std::string& dir, int max_length) {
  namespace fs = std::filesystem;
  const auto cfg = (fs::path(dir) / "config.json").string();
  if (!fs::is_directory(dir)) throw LoadError(dir + ": encoder directory missing (run scripts/fetch-models?)");
  auto spec = detail::read_bert_config(cfg);
  spec.dropout = std::min(spec.dropout, 0.1);
  auto tok = WordPieceTokenizer::from_file((fs::path(dir) / "vocab.txt").string());
  if (static_cast<int>(tok.vocab().size()) != spec.vocab_size)
    throw LoadError((fs::path(dir) / "vocab.txt").string() + ": " + std::to_string(tok.vocab().size()) +
                    " tokens, config.json says vocab_size " + std::to_string(spec.vocab_size));
  auto impl = std::make_unique<Impl>(spec, std::move(tok), detail::read_max_length(cfg, max_length));
  detail::load_bert_weights(impl->net, (fs::path(dir) / "model.safetensors").string());
  impl->net->eval();
  return TemplateEncoder(std::move(impl));
}

TemplateEncoder TemplateEncoder::from_scratch(const EncoderConfig& c, const std::vector<std::string>& corpus) {
  c.validate();
  std::vector<std::string> texts;
  for (const auto& t : corpus) texts.push_back(encoder_text(t));
  auto vocab = WordPieceTokenizer::build_vocab(texts, static_cast<std::size_t>(c.scratch_vocab_words));
  detail::BertSpec s;
  s.vocab_size = static_cast<int>(vocab.size());
  s.hidden = c.scratch_hidden;
  s.layers = c.scratch_layers;
  s.heads = c.scratch_heads;
  s.intermediate = c.scratch_intermediate;
  s.max_positions = std::max(c.max_length, 8);
  torch::manual_seed(c.seed);
  auto impl = std::make_unique<Impl>(s, WordPieceTokenizer(std::move(vocab), "scratch vocabulary"), c.max_length);
  impl->net->eval();
  return TemplateEncoder(std::move(impl));
}

void TemplateEncoder::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  {
    std::ofstream out(fs::path(dir) / "config.json", std::ios::binary | std::ios::trunc);
    out << detail::bert_config_json(impl_->net->spec, impl_->max_length);
    if (!out) throw LoadError(dir + "/config.json: cannot write");
  }
  {
    std::ofstream out(fs::path(dir) / "vocab.txt", std::ios::binary | std::ios::trunc);
    for (const auto& t : impl_->tok.vocab()) out << t << '\n';
    if (!out) throw LoadError(dir + "/vocab.txt: cannot write");
  }
  detail::save_bert_weights(impl_->net, (fs::path(dir) / "model.safetensors").string());
}

Embeddings TemplateEncoder::encode(const std::vector<std::string>& texts, std::size_t batch) const {
  torch::InferenceMode guard;
  Embeddings e;
  e.rows = texts.size();
  e.dim = dim();
  e.values.resize(e.rows * static_cast<std::size_t>(e.dim));
  batch = std::max<std::size_t>(batch, 1);
  for (std::size_t b = 0; b < texts.size(); b += batch) {
    const auto end = std::min(texts.size(), b + batch);
    auto [ids, mask] = impl_->tensors(texts, b, end);
    auto out = impl_->net->embed(ids, mask).contiguous();
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + out.numel(), e.values.begin() + static_cast<std::ptrdiff_t>(b * e.dim));
  }
  return e;
}

int TemplateEncoder::dim() const noexcept { return impl_->net->spec.hidden; }
int TemplateEncoder::max_length() const noexcept { return impl_->max_length; }
int TemplateEncoder::layers() const noexcept { return impl_->net->spec.layers; }
const WordPieceTokenizer& TemplateEncoder::tokenizer() const noexcept { return impl_->tok; }
std::size_t TemplateEncoder::parameters() const {
  std::size_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += static_cast<std::size_t>(p.numel());
  return n;
}

// ---------------------------------------------------------------------------------------------
// Contrastive fine-tuning

FineTuneResult fine_tune(TemplateEncoder& encoder, const ContrastiveData& data, const EncoderConfig& c,
                         const NoiseFn& noise, const std::function<void(const FineTuneEpoch&)>& on_epoch) {
  c.validate();
  if (data.normal.empty()) throw ConfigError("model.encoder", "no normal templates to fine-tune on");
  if (!data.related.empty() && data.related.size() != data.normal.size())
    throw ConfigError("model.encoder", "related[] must have one entry per normal template");
  if (c.hard_negatives > 0 && !data.hard_negative)
    throw ConfigError("model.encoder.hard_negatives", "set, but no hard-negative generator was given");
  configure_threads(c.threads);
  auto& impl = encoder.impl();
  auto& net = impl.net;
  const auto t0 = std::chrono::steady_clock::now();
  FineTuneResult r;
  r.negatives = data.abnormal.empty() ? "normal" : c.normal_negatives ? "abnormal+normal" : "abnormal";

  // Freeze everything below the top train_layers layers.
  const int L = net->spec.layers;
  const int first_trained = c.train_layers == 0 ? -1 : std::max(0, L - c.train_layers);
  std::vector<torch::Tensor> params;
  for (auto& p : net->named_parameters()) {
    bool train = first_trained < 0;
    const auto& n = p.key();
    if (!train && n.rfind("encoder.layer.", 0) == 0) train = std::stoi(n.substr(14)) >= first_trained;
    p.value().set_requires_grad(train);
    if (train) {
      params.push_back(p.value());
      r.trainable_parameters += static_cast<std::size_t>(p.value().numel());
    }
  }
  torch::manual_seed(c.seed);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(c.learning_rate).weight_decay(0.01));
  std::mt19937_64 rng(c.seed);

  std::vector<std::string> normal, abnormal;
  for (const auto& t : data.normal) normal.push_back(encoder_text(t));
  for (const auto& t : data.abnormal) abnormal.push_back(encoder_text(t));
  const std::size_t N = normal.size();
  constexpr std::size_t kMaxNegatives = 64;
  // Negatives: the abnormal templates; the other normal templates when none are labelled, or
  // besides them (normal_negatives). With a handful of labelled templates and nothing else to
  // push against, fine-tuning pulls every normal template together, and a new message of the
  // system then lands near one of them (BGL's first 10,000 lines: 2 abnormal templates).
  std::vector<std::string> pool = abnormal;
  if (abnormal.empty() || c.normal_negatives) pool.insert(pool.end(), normal.begin(), normal.end());

  net->train();
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    const auto e0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int steps = 0;
    for (int pass = 0; pass < c.variants; ++pass) {
      std::vector<std::size_t> order(N);
      for (std::size_t i = 0; i < N; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      for (std::size_t b = 0; b < N; b += static_cast<std::size_t>(c.batch_size)) {
        const auto end = std::min(N, b + static_cast<std::size_t>(c.batch_size));
        // Rows: [anchors][noisy variants][every text used as related or negative].
        std::vector<std::string> texts;
        std::map<std::string, std::int64_t> row_of;
        auto row = [&](const std::string& t) {
          auto [it, fresh] = row_of.emplace(t, static_cast<std::int64_t>(texts.size()));
          if (fresh) texts.push_back(t);
          return it->second;
        };
        std::vector<std::int64_t> anchor_rows, noisy_rows, related_rows;
        for (std::size_t k = b; k < end; ++k) anchor_rows.push_back(row(normal[order[k]]));
        for (std::size_t k = b; k < end; ++k) {
          const std::string v = encoder_text(noise(data.normal[order[k]], rng()));
          noisy_rows.push_back(static_cast<std::int64_t>(texts.size()));
          texts.push_back(v);  // never deduplicated: a variant equal to its anchor is still a positive
        }
        for (std::size_t k = b; k < end; ++k) {
          const int rel = data.related.empty() ? -1 : data.related[order[k]];
          related_rows.push_back(rel >= 0 && static_cast<std::size_t>(rel) != order[k] ? row(normal[rel]) : -1);
        }
        // Per anchor: its hard negatives (never deduplicated against other rows' roles).
        std::vector<std::vector<std::int64_t>> hard_rows(end - b);
        for (std::size_t k = b; k < end; ++k)
          for (int h = 0; h < c.hard_negatives; ++h) {
            const std::string t = encoder_text(data.hard_negative(data.normal[order[k]], rng()));
            if (t == normal[order[k]]) continue;
            hard_rows[k - b].push_back(static_cast<std::int64_t>(texts.size()));
            texts.push_back(t);
          }
        std::vector<std::int64_t> neg_rows;
        std::vector<std::size_t> pick(pool.size());
        for (std::size_t i = 0; i < pick.size(); ++i) pick[i] = i;
        if (pick.size() > kMaxNegatives) {
          std::shuffle(pick.begin(), pick.end(), rng);
          pick.resize(kMaxNegatives);
        }
        for (auto i : pick) neg_rows.push_back(row(pool[i]));

        auto [ids, mask] = impl.tensors(texts, 0, texts.size());
        auto E = net->embed(ids, mask);            // [R,H], unit rows
        auto sims = torch::matmul(E, E.t()) / c.tau;  // cosine / tau
        std::vector<torch::Tensor> terms;
        for (std::size_t a = 0; a < anchor_rows.size(); ++a) {
          const auto ar = anchor_rows[a];
          std::vector<std::int64_t> negs;
          for (auto n : neg_rows)
            if (n != ar && n != related_rows[a]) negs.push_back(n);
          negs.insert(negs.end(), hard_rows[a].begin(), hard_rows[a].end());
          auto row_sims = sims[ar];
          auto neg = negs.empty() ? torch::zeros({0}) : row_sims.index_select(0, torch::tensor(negs));
          for (auto p : {noisy_rows[a], related_rows[a]}) {
            if (p < 0) continue;
            auto logits = torch::cat({row_sims[p].unsqueeze(0), neg});
            terms.push_back(-torch::log_softmax(logits, 0)[0]);
          }
        }
        if (terms.empty()) continue;
        auto loss = torch::stack(terms).mean();
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss_sum += loss.item<double>();
        ++steps;
      }
    }
    FineTuneEpoch rep{epoch, c.epochs, steps ? loss_sum / steps : 0,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count()};
    if (epoch == 1) r.first_loss = rep.loss;
    r.final_loss = rep.loss;
    r.epochs = epoch;
    if (on_epoch) on_epoch(rep);
  }
  net->eval();
  for (auto& p : net->parameters()) p.set_requires_grad(false);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

NoiseFn basic_noise(double insert_rate, double delete_rate, double swap_rate) {
  return [=](const std::string& text, std::uint64_t seed) {
    static const char* const kFillers[] = {"now", "then", "also", "again", "the", "a", "just", "still"};
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<std::string> w;
    std::istringstream in(text);
    for (std::string s; in >> s;) w.push_back(s);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w.size() > 2 && u(rng) < delete_rate) continue;
      out.push_back(w[i]);
      if (u(rng) < insert_rate) out.push_back(kFillers[rng() % std::size(kFillers)]);
    }
    for (std::size_t i = 0; i + 1 < out.size(); ++i)
      if (u(rng) < swap_rate) std::swap(out[i], out[i + 1]);
    std::string s;
    for (const auto& x : out) s += (s.empty() ? "" : " ") + x;
    return s.empty() ? text : s;
  };
}

std::vector<int> cooccurring_templates(const std::vector<std::vector<std::uint32_t>>& sessions,
                                       const std::vector<std::uint32_t>& ids, int radius) {
  std::map<std::uint32_t, int> index;
  for (std::size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], static_cast<int>(i));
  std::vector<std::map<int, std::size_t>> counts(ids.size());
  for (const auto& s : sessions)
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto a = index.find(s[i]);
      if (a == index.end()) continue;
      const std::size_t lo = i >= static_cast<std::size_t>(radius) ? i - static_cast<std::size_t>(radius) : 0;
      for (std::size_t j = lo; j < std::min(s.size(), i + static_cast<std::size_t>(radius) + 1); ++j) {
        auto b = index.find(s[j]);
        if (b != index.end() && b->second != a->second) ++counts[static_cast<std::size_t>(a->second)][b->second];
      }
    }
  std::vector<int> out(ids.size(), -1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::size_t best = 0;
    for (auto [j, n] : counts[i])
      if (n > best) {
        best = n;
        out[i] = j;
      }
  }
  return out;
}

}  // namespace logguard::models
