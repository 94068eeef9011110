// BERT encoder in LibTorch (see bert.hpp).
#include "bert.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "logguard/core/error.hpp"
#include "safetensors.hpp"

namespace logguard::models::detail {

using core::LoadError;
using nlohmann::json;
namespace F = torch::nn::functional;

void BertSpec::check(const std::string& source) const {
  auto bad = [&](const std::string& why) { return LoadError(source + ": invalid BERT config: " + why); };
  if (vocab_size < 5) throw bad("vocab_size must be >= 5");
  if (hidden < 1 || layers < 1 || heads < 1 || intermediate < 1) throw bad("sizes must be >= 1");
  if (hidden % heads != 0) throw bad("hidden_size must be divisible by num_attention_heads");
  if (max_positions < 2) throw bad("max_position_embeddings must be >= 2");
  if (type_vocab < 1) throw bad("type_vocab_size must be >= 1");
  if (!(dropout >= 0 && dropout < 1)) throw bad("hidden_dropout_prob must be in [0, 1)");
}

BertSpec read_bert_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path + ": cannot open");
  json j;
  try {
    j = json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  } catch (const json::exception& e) {
    throw LoadError(path + ": not valid JSON (" + e.what() + ")");
  }
  BertSpec s;
  try {
    if (j.value("model_type", "bert") != "bert") throw LoadError(path + ": model_type is not bert");
    if (j.value("hidden_act", "gelu") != "gelu") throw LoadError(path + ": only hidden_act gelu is supported");
    if (j.value("position_embedding_type", "absolute") != "absolute")
      throw LoadError(path + ": only absolute position embeddings are supported");
    s.vocab_size = j.at("vocab_size").get<int>();
    s.hidden = j.at("hidden_size").get<int>();
    s.layers = j.at("num_hidden_layers").get<int>();
    s.heads = j.at("num_attention_heads").get<int>();
    s.intermediate = j.at("intermediate_size").get<int>();
    s.max_positions = j.at("max_position_embeddings").get<int>();
    s.type_vocab = j.value("type_vocab_size", 2);
    s.layer_norm_eps = j.value("layer_norm_eps", 1e-12);
    s.dropout = j.value("hidden_dropout_prob", 0.1);
  } catch (const json::exception& e) {
    throw LoadError(path + ": malformed BERT config: " + e.what());
  }
  s.check(path);
  return s;
}

int read_max_length(const std::string& path, int fallback) {
  std::ifstream in(path, std::ios::binary);
  try {
    auto j = json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    return j.value("logguard_max_length", fallback);
  } catch (const json::exception&) {
    return fallback;
  }
}

std::string bert_config_json(const BertSpec& s, int max_length) {
  json j = {{"architectures", {"BertModel"}},
            {"model_type", "bert"},
            {"hidden_act", "gelu"},
            {"position_embedding_type", "absolute"},
            {"vocab_size", s.vocab_size},
            {"hidden_size", s.hidden},
            {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads},
            {"intermediate_size", s.intermediate},
            {"max_position_embeddings", s.max_positions},
            {"type_vocab_size", s.type_vocab},
            {"layer_norm_eps", s.layer_norm_eps},
            {"hidden_dropout_prob", s.dropout},
            {"attention_probs_dropout_prob", s.dropout},
            {"pad_token_id", 0},
            {"logguard_max_length", max_length}};
  return j.dump(2) + "\n";
}

namespace {
torch::nn::LayerNorm layer_norm(const BertSpec& s) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.hidden}).eps(s.layer_norm_eps));
}
}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertSpec& s) {
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(s.vocab_size, s.hidden));
  position_embeddings = register_module("position_embeddings", torch::nn::Embedding(s.max_positions, s.hidden));
  token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(s.type_vocab, s.hidden));
  LayerNorm = register_module("LayerNorm", layer_norm(s));
  dropout = register_module("dropout", torch::nn::Dropout(s.dropout));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& ids) {
  const auto L = ids.size(1);
  auto pos = torch::arange(L, ids.options());
  auto x = word_embeddings(ids) + position_embeddings(pos).unsqueeze(0) + token_type_embeddings->weight[0];
  return dropout(LayerNorm(x));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertSpec& s) : heads(s.heads), d_head(s.hidden / s.heads) {
  query = register_module("query", torch::nn::Linear(s.hidden, s.hidden));
  key = register_module("key", torch::nn::Linear(s.hidden, s.hidden));
  value = register_module("value", torch::nn::Linear(s.hidden, s.hidden));
  dropout = register_module("dropout", torch::nn::Dropout(s.dropout));
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
  const auto B = x.size(0), L = x.size(1);
  auto split = [&](const torch::Tensor& t) { return t.view({B, L, heads, d_head}).transpose(1, 2); };
  auto q = split(query(x)), k = split(key(x)), v = split(value(x));
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d_head)) + additive_mask;
  auto p = dropout(torch::softmax(scores, -1));
  return torch::matmul(p, v).transpose(1, 2).reshape({B, L, heads * d_head});
}

BertResidualImpl::BertResidualImpl(const BertSpec& s, int in) {
  dense = register_module("dense", torch::nn::Linear(in, s.hidden));
  LayerNorm = register_module("LayerNorm", layer_norm(s));
  dropout = register_module("dropout", torch::nn::Dropout(s.dropout));
}

torch::Tensor BertResidualImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return LayerNorm(dropout(dense(x)) + residual);
}

BertAttentionImpl::BertAttentionImpl(const BertSpec& s) {
  self = register_module("self", BertSelfAttention(s));
  output = register_module("output", BertResidual(s, s.hidden));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
  return output(self(x, additive_mask), x);
}

BertIntermediateImpl::BertIntermediateImpl(const BertSpec& s) {
  dense = register_module("dense", torch::nn::Linear(s.hidden, s.intermediate));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& x) { return torch::gelu(dense(x)); }

BertLayerImpl::BertLayerImpl(const BertSpec& s) {
  attention = register_module("attention", BertAttention(s));
  intermediate = register_module("intermediate", BertIntermediate(s));
  output = register_module("output", BertResidual(s, s.intermediate));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
  auto a = attention(x, additive_mask);
  return output(intermediate(a), a);
}

BertEncoderImpl::BertEncoderImpl(const BertSpec& s) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int i = 0; i < s.layers; ++i) layer->push_back(BertLayer(s));
}

BertNetImpl::BertNetImpl(const BertSpec& s) : spec(s) {
  embeddings = register_module("embeddings", BertEmbeddings(s));
  encoder = register_module("encoder", BertEncoder(s));
  // BERT initialisation (used when trained from scratch): N(0, 0.02), zero biases, LN = 1/0.
  torch::NoGradGuard ng;
  for (auto& p : named_parameters()) {
    const auto& n = p.key();
    if (n.find("LayerNorm.weight") != std::string::npos) p.value().fill_(1.0);
    else if (n.ends_with(".bias")) p.value().zero_();
    else p.value().normal_(0.0, 0.02);
  }
}

torch::Tensor BertNetImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
  // [B,1,1,L]: 0 for tokens, a large negative for padding (as the reference does).
  auto additive = (1.0 - mask.to(torch::kFloat)).unsqueeze(1).unsqueeze(2) * -3.4e38f;
  auto x = embeddings(ids);
  for (auto& m : *encoder->layer) x = m->as<BertLayer>()->forward(x, additive);
  return x;
}

torch::Tensor BertNetImpl::embed(const torch::Tensor& ids, const torch::Tensor& mask) {
  auto h = forward(ids, mask);
  auto m = mask.to(torch::kFloat).unsqueeze(-1);
  auto mean = (h * m).sum(1) / m.sum(1).clamp_min(1e-9);
  return F::normalize(mean, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

void load_bert_weights(BertNet& net, const std::string& path) {
  const auto f = read_safetensors(path);
  torch::NoGradGuard ng;
  for (auto& p : net->named_parameters()) {
    const auto& name = p.key();
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) throw LoadError(path + ": missing tensor `" + name + "`");
    const auto& t = it->second;
    if (t.shape != p.value().sizes().vec()) {
      std::string want, got;
      auto join = [](std::string& out, std::int64_t d) {
        if (!out.empty()) out += ',';
        out += std::to_string(d);
      };
      for (auto d : p.value().sizes()) join(want, d);
      for (auto d : t.shape) join(got, d);
      throw LoadError(path + ": tensor `" + name + "` has shape [" + got + "], config.json expects [" + want + "]");
    }
    const auto values = f.f32(name);
    p.value().copy_(torch::from_blob(const_cast<float*>(values.data()), p.value().sizes(), torch::kFloat));
  }
}

void save_bert_weights(const BertNet& net, const std::string& path) {
  std::vector<F32Tensor> out;
  for (const auto& p : net->named_parameters()) {
    auto t = p.value().detach().to(torch::kCPU).contiguous();
    F32Tensor ft{p.key(), t.sizes().vec(), {}};
    ft.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    out.push_back(std::move(ft));
  }
  write_safetensors(path, out, {{"format", "pt"}, {"created_by", "logguard"}});
}

}  // namespace logguard::models::detail
