// MSMASS and DeepLog networks, band masks and weight I/O (see nets.hpp).
#include "nets.hpp"

#include <cmath>

#include "logguard/core/error.hpp"

namespace logguard::models::detail {

namespace nn = torch::nn;

torch::Tensor build_band_mask(const std::vector<int>& scales, const std::vector<int>& heads_per_scale, int T,
                              bool causal) {
  int H = 0;
  for (int h : heads_per_scale) H += h;
  auto mask = torch::full({H, T, T}, -1e9f);
  auto a = mask.accessor<float, 3>();
  int head = 0;
  for (std::size_t g = 0; g < scales.size(); ++g)
    for (int r = 0; r < heads_per_scale[g]; ++r, ++head)
      for (int i = 0; i < T; ++i)
        for (int j = 0; j < T; ++j)
          if (band_allows(scales[g], i, j, causal)) a[head][i][j] = 0.f;
  return mask;
}

std::vector<int> detection_span_starts(int W, int L) {
  std::vector<int> s;
  for (int start = 0; start < W; start += L) s.push_back(std::min(start, W - L));
  if (s.size() > 1 && s.back() == s[s.size() - 2]) s.pop_back();
  return s;
}

std::vector<std::size_t> window_starts(std::size_t n, int W, int stride) {
  const auto w = static_cast<std::size_t>(W);
  if (n <= w) return {0};
  std::vector<std::size_t> s;
  for (std::size_t start = 0; start + w < n; start += static_cast<std::size_t>(stride)) s.push_back(start);
  s.push_back(n - w);
  return s;
}

std::unordered_map<std::uint32_t, std::int64_t> token_map(const std::vector<core::TemplateEntry>& templates) {
  std::unordered_map<std::uint32_t, std::int64_t> m{{0xFFFFFFFEu, kBos}, {0xFFFFFFFFu, kEos}};
  for (std::size_t i = 0; i < templates.size(); ++i) m[templates[i].id] = kFirstTemplate + static_cast<std::int64_t>(i);
  return m;
}

AttentionImpl::AttentionImpl(int d_model, int heads_) : heads(heads_), d_head(d_model / heads_) {
  q = register_module("q", nn::Linear(d_model, d_model));
  k = register_module("k", nn::Linear(d_model, d_model));
  v = register_module("v", nn::Linear(d_model, d_model));
  o = register_module("o", nn::Linear(d_model, d_model));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& q_in, const torch::Tensor& kv_in, const torch::Tensor& mask,
                                     torch::Tensor* weights) {
  const auto B = q_in.size(0), Tq = q_in.size(1), Tk = kv_in.size(1);
  auto Q = q->forward(q_in).view({B, Tq, heads, d_head}).transpose(1, 2);
  auto K = k->forward(kv_in).view({B, Tk, heads, d_head}).transpose(1, 2);
  auto V = v->forward(kv_in).view({B, Tk, heads, d_head}).transpose(1, 2);
  auto scores = torch::matmul(Q, K.transpose(-2, -1)) / std::sqrt(static_cast<double>(d_head));
  if (mask.defined()) scores = scores + mask;
  auto p = torch::softmax(scores, -1);
  if (weights) *weights = p;
  if (is_training() && dropout_p > 0) p = torch::dropout(p, dropout_p, true);
  auto ctx = torch::matmul(p, V).transpose(1, 2).contiguous().view({B, Tq, heads * d_head});
  return o->forward(ctx);
}

FeedForwardImpl::FeedForwardImpl(int d_model, int ff_dim, double dropout) {
  l1 = register_module("l1", nn::Linear(d_model, ff_dim));
  l2 = register_module("l2", nn::Linear(ff_dim, d_model));
  drop = register_module("drop", nn::Dropout(dropout));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  return l2->forward(drop->forward(torch::gelu(l1->forward(x))));
}

MsmassNetImpl::MsmassNetImpl(const MsmassConfig& c, int vocab_)
    : cfg(c), vocab(vocab_), W(c.window), L(c.span_length()) {
  const int D = c.d_model, H = c.heads();
  tok = register_module("tok", nn::Embedding(vocab, D));
  pos = register_module("pos", nn::Embedding(W, D));
  drop = register_module("drop", nn::Dropout(c.dropout));
  for (int i = 0; i < c.encoder_layers; ++i) {
    enc_attn->push_back(Attention(D, H));
    enc_ff->push_back(FeedForward(D, c.ff_dim, c.dropout));
    enc_ln1->push_back(nn::LayerNorm(nn::LayerNormOptions({D})));
    enc_ln2->push_back(nn::LayerNorm(nn::LayerNormOptions({D})));
  }
  for (int i = 0; i < c.decoder_layers; ++i) {
    dec_self->push_back(Attention(D, H));
    dec_cross->push_back(Attention(D, H));
    dec_ff->push_back(FeedForward(D, c.ff_dim, c.dropout));
    dec_ln1->push_back(nn::LayerNorm(nn::LayerNormOptions({D})));
    dec_ln2->push_back(nn::LayerNorm(nn::LayerNormOptions({D})));
    dec_ln3->push_back(nn::LayerNorm(nn::LayerNormOptions({D})));
  }
  for (auto* list : {&enc_attn, &dec_self, &dec_cross})
    for (auto& m : **list) m->as<Attention>()->dropout_p = c.dropout;
  register_module("enc_attn", enc_attn);
  register_module("enc_ff", enc_ff);
  register_module("enc_ln1", enc_ln1);
  register_module("enc_ln2", enc_ln2);
  register_module("dec_self", dec_self);
  register_module("dec_cross", dec_cross);
  register_module("dec_ff", dec_ff);
  register_module("dec_ln1", dec_ln1);
  register_module("dec_ln2", dec_ln2);
  register_module("dec_ln3", dec_ln3);
  enc_final = register_module("enc_final", nn::LayerNorm(nn::LayerNormOptions({D})));
  dec_final = register_module("dec_final", nn::LayerNorm(nn::LayerNormOptions({D})));
  out = register_module("out", nn::Linear(D, vocab));
  enc_band = build_band_mask(c.scales, c.heads_per_scale, W, false);
  dec_band = build_band_mask(c.scales, c.heads_per_scale, L, true);
  eye_w = torch::eye(W, torch::kBool);
}

void MsmassNetImpl::move_to(const torch::Device& d) {
  to(d);
  enc_band = enc_band.to(d);
  dec_band = dec_band.to(d);
  eye_w = eye_w.to(d);
}

torch::Tensor MsmassNetImpl::encode(const torch::Tensor& enc, int attention_layer, torch::Tensor* weights) {
  const auto B = enc.size(0);
  auto positions = torch::arange(W, enc.options().dtype(torch::kLong));
  auto x = drop->forward(tok->forward(enc) + pos->forward(positions).unsqueeze(0));
  // Padding keys are hidden from every query except the pad position itself (no empty rows).
  auto pad_keys = enc.eq(kPad).view({B, 1, 1, W}).logical_and(eye_w.logical_not().view({1, 1, W, W}));
  auto mask = enc_band.unsqueeze(0).masked_fill(pad_keys, -1e9f);
  for (int i = 0; i < cfg.encoder_layers; ++i) {
    auto ln1 = enc_ln1[i]->as<nn::LayerNorm>();
    auto h = ln1->forward(x);
    x = x + drop->forward(enc_attn[i]->as<Attention>()->forward(h, h, mask, i == attention_layer ? weights : nullptr));
    x = x + drop->forward(enc_ff[i]->as<FeedForward>()->forward(enc_ln2[i]->as<nn::LayerNorm>()->forward(x)));
  }
  return enc_final->forward(x);
}

torch::Tensor MsmassNetImpl::encoder_attention(const torch::Tensor& enc, int layer) {
  torch::Tensor w;
  encode(enc, layer, &w);
  return w;
}

torch::Tensor MsmassNetImpl::forward(const torch::Tensor& enc, const torch::Tensor& dec_in, const torch::Tensor& dec_pos) {
  const auto B = enc.size(0);
  auto memory = encode(enc);
  auto mem_mask = torch::zeros({B, 1, 1, W}, memory.options()).masked_fill(enc.eq(kPad).view({B, 1, 1, W}), -1e9f);
  auto y = drop->forward(tok->forward(dec_in) + pos->forward(dec_pos));
  auto self_mask = dec_band.unsqueeze(0);
  for (int i = 0; i < cfg.decoder_layers; ++i) {
    auto h = dec_ln1[i]->as<nn::LayerNorm>()->forward(y);
    y = y + drop->forward(dec_self[i]->as<Attention>()->forward(h, h, self_mask));
    h = dec_ln2[i]->as<nn::LayerNorm>()->forward(y);
    y = y + drop->forward(dec_cross[i]->as<Attention>()->forward(h, memory, mem_mask));
    y = y + drop->forward(dec_ff[i]->as<FeedForward>()->forward(dec_ln3[i]->as<nn::LayerNorm>()->forward(y)));
  }
  return out->forward(dec_final->forward(y));
}

DeepLogNetImpl::DeepLogNetImpl(const DeepLogConfig& c, int vocab) {
  tok = register_module("tok", nn::Embedding(vocab, c.embed_dim));
  lstm = register_module("lstm", nn::LSTM(nn::LSTMOptions(c.embed_dim, c.hidden).num_layers(c.layers).batch_first(true)));
  out = register_module("out", nn::Linear(c.hidden, vocab));
}

torch::Tensor DeepLogNetImpl::forward(const torch::Tensor& hist) {
  auto y = std::get<0>(lstm->forward(tok->forward(hist)));
  return out->forward(y.select(1, y.size(1) - 1));
}

void save_weights(torch::nn::Module& m, const std::string& path) {
  torch::serialize::OutputArchive ar;
  for (const auto& p : m.named_parameters()) ar.write(p.key(), p.value().detach().to(torch::kCPU));
  for (const auto& b : m.named_buffers()) ar.write(b.key(), b.value().to(torch::kCPU), /*is_buffer=*/true);
  ar.save_to(path);
}

void load_weights(torch::nn::Module& m, const std::string& path) {
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path);
  } catch (const c10::Error& e) {
    throw core::LoadError(path + ": not a readable LibTorch archive (" + std::string(e.what_without_backtrace()) + ")");
  }
  torch::NoGradGuard no_grad;
  auto read = [&](const std::string& key, torch::Tensor& dst, bool buffer) {
    torch::Tensor t;
    try {
      ar.read(key, t, buffer);
    } catch (const c10::Error&) {
      throw core::LoadError(path + ": missing tensor `" + key + "` (weights do not match the manifest's model)");
    }
    if (t.sizes() != dst.sizes())
      throw core::LoadError(path + ": tensor `" + key + "` has shape " + c10::str(t.sizes()) + ", model expects " +
                            c10::str(dst.sizes()) + " (weights do not match the manifest)");
    dst.copy_(t);
  };
  for (auto& p : m.named_parameters()) read(p.key(), p.value(), false);
  for (auto& b : m.named_buffers()) read(b.key(), b.value(), true);
}

}  // namespace logguard::models::detail
