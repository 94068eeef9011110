#pragma once
// Internal LibTorch BERT encoder (post-LN, GELU-erf, absolute positions) whose parameter
// names equal the Hugging Face BertModel names without the "bert." prefix
// ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", ...),
// so safetensors checkpoints load by name. Not a public header.
#include <torch/torch.h>

#include <string>

namespace logguard::models::detail {

struct BertSpec {
  int vocab_size = 30522;
  int hidden = 384;
  int layers = 6;
  int heads = 12;
  int intermediate = 1536;
  int max_positions = 512;
  int type_vocab = 2;
  double layer_norm_eps = 1e-12;
  double dropout = 0.1;
  /// Throws core::LoadError("<source>: ...") when inconsistent.
  void check(const std::string& source) const;
};

/// Reads config.json (Hugging Face BertConfig keys); LoadError naming the file.
BertSpec read_bert_config(const std::string& path);
/// config.json text for `spec` (Hugging Face keys, loadable by transformers).
std::string bert_config_json(const BertSpec& spec, int max_length);
/// logguard_max_length from a config.json written by bert_config_json (fallback otherwise).
int read_max_length(const std::string& path, int fallback);

struct BertEmbeddingsImpl : torch::nn::Module {
  explicit BertEmbeddingsImpl(const BertSpec& s);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

struct BertSelfAttentionImpl : torch::nn::Module {
  explicit BertSelfAttentionImpl(const BertSpec& s);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  int heads, d_head;
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertSelfAttention);

/// dense + dropout + LayerNorm(residual + x): BertSelfOutput / BertOutput.
struct BertResidualImpl : torch::nn::Module {
  BertResidualImpl(const BertSpec& s, int in);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidual);

struct BertAttentionImpl : torch::nn::Module {
  explicit BertAttentionImpl(const BertSpec& s);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  BertSelfAttention self{nullptr};
  BertResidual output{nullptr};
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : torch::nn::Module {
  explicit BertIntermediateImpl(const BertSpec& s);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module {
  explicit BertLayerImpl(const BertSpec& s);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidual output{nullptr};
};
TORCH_MODULE(BertLayer);

struct BertEncoderImpl : torch::nn::Module {
  explicit BertEncoderImpl(const BertSpec& s);
  torch::nn::ModuleList layer;
};
TORCH_MODULE(BertEncoder);

struct BertNetImpl : torch::nn::Module {
  explicit BertNetImpl(const BertSpec& s);
  /// ids, mask: [B,L] (mask 1 = token, 0 = pad). Returns the last hidden states [B,L,H].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
  /// Mean over the unmasked tokens, L2-normalized: [B,H] (sentence-transformers pooling).
  torch::Tensor embed(const torch::Tensor& ids, const torch::Tensor& mask);
  BertSpec spec;
  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
};
TORCH_MODULE(BertNet);

/// Copies every parameter of `net` from the file (by name; shapes must match; extra tensors
/// such as pooler.* are ignored). LoadError naming the file and the tensor.
void load_bert_weights(BertNet& net, const std::string& safetensors_path);
void save_bert_weights(const BertNet& net, const std::string& safetensors_path);

}  // namespace logguard::models::detail
