#pragma once
// Internal (LibTorch) networks and window/mask helpers shared by training and scoring.
// Not a public header: only models/src and tests/models include it.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "logguard/models/bundle.hpp"
#include "logguard/models/config.hpp"

namespace logguard::models::detail {

// Special tokens; template index i has token kFirstTemplate + i.
// kBos/kEos wrap sessions when session_boundaries is on; kEos is a prediction target, kBos never.
inline constexpr std::int64_t kPad = 0, kMask = 1, kUnk = 2, kBos = 3, kEos = 4, kFirstTemplate = 5;

/// true when a head of band width `scale` (odd; 0 = whole) at query i may attend key j.
inline bool band_allows(int scale, int i, int j, bool causal) {
  if (causal && j > i) return false;
  if (scale == 0) return true;
  const int half = (scale - 1) / 2;
  return (i > j ? i - j : j - i) <= half;
}

/// Additive mask [H, T, T] (0 allowed, -1e9 not) for the heads' scales; built once per shape.
torch::Tensor build_band_mask(const std::vector<int>& scales, const std::vector<int>& heads_per_scale, int T,
                              bool causal);

/// Start positions of the fixed detection spans of a window: 0, L, 2L, ..., the last one
/// clamped to W-L, so that together they cover every position.
std::vector<int> detection_span_starts(int W, int L);

/// Multi-head attention with a per-head additive mask. forward returns [B,Tq,D]; if
/// `weights` is non-null it receives the attention probabilities [B,H,Tq,Tk].
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int d_model, int heads);
  torch::Tensor forward(const torch::Tensor& q_in, const torch::Tensor& kv_in, const torch::Tensor& mask,
                        torch::Tensor* weights = nullptr);
  int heads, d_head;
  double dropout_p = 0;
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
};
TORCH_MODULE(Attention);

struct FeedForwardImpl : torch::nn::Module {
  FeedForwardImpl(int d_model, int ff_dim, double dropout);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear l1{nullptr}, l2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(FeedForward);

/// MSMASS: pre-LN transformer encoder-decoder, every self-attention multi-scale.
struct MsmassNetImpl : torch::nn::Module {
  MsmassNetImpl(const MsmassConfig& c, int vocab);
  /// enc: [B,W] tokens (span already replaced by kMask), dec_in: [B,L] shifted span tokens,
  /// dec_pos: [B,L] window positions of the span. Returns logits [B,L,V].
  torch::Tensor forward(const torch::Tensor& enc, const torch::Tensor& dec_in, const torch::Tensor& dec_pos);
  /// Encoder self-attention probabilities of layer `layer` ([B,H,W,W]), for tests.
  torch::Tensor encoder_attention(const torch::Tensor& enc, int layer);
  /// Moves the model and its cached masks.
  void move_to(const torch::Device& d);

  MsmassConfig cfg;
  int vocab, W, L;
  torch::nn::Embedding tok{nullptr}, pos{nullptr};
  torch::nn::ModuleList enc_attn, enc_ff, enc_ln1, enc_ln2;
  torch::nn::ModuleList dec_self, dec_cross, dec_ff, dec_ln1, dec_ln2, dec_ln3;
  torch::nn::LayerNorm enc_final{nullptr}, dec_final{nullptr};
  torch::nn::Linear out{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::Tensor enc_band, dec_band, eye_w;  // cached masks (not parameters)

 private:
  torch::Tensor encode(const torch::Tensor& enc, int attention_layer = -1, torch::Tensor* weights = nullptr);
};
TORCH_MODULE(MsmassNet);

/// DeepLog: embedding -> LSTM -> linear over the next event.
struct DeepLogNetImpl : torch::nn::Module {
  DeepLogNetImpl(const DeepLogConfig& c, int vocab);
  torch::Tensor forward(const torch::Tensor& hist);  // [B,h] -> logits [B,V]
  torch::nn::Embedding tok{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(DeepLogNet);

/// Bundle template id -> token (kStartOfSession/kEndOfSession -> kBos/kEos).
std::unordered_map<std::uint32_t, std::int64_t> token_map(const std::vector<core::TemplateEntry>& templates);

/// Windows of one session for MSMASS: start offsets (n <= W: {0}; else stride steps and a
/// final window ending at the last event).
std::vector<std::size_t> window_starts(std::size_t n, int W, int stride);

/// Writes / reads all parameters and buffers. load throws core::LoadError naming `path`.
void save_weights(torch::nn::Module& m, const std::string& path);
void load_weights(torch::nn::Module& m, const std::string& path);

}  // namespace logguard::models::detail
