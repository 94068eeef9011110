#pragma once
// Template encoder: a BERT model (LibTorch) + WordPiece tokenizer that turns a template text
// into an L2-normalized sentence embedding (mean pooling over tokens, as sentence-transformers
// all-MiniLM-L6-v2 does), and its contrastive fine-tuning (Wang et al. 2022, section 3.2).
//
// Lifecycle: from_pretrained(dir) loads config.json + vocab.txt + model.safetensors (the
// Hugging Face layout; scripts/fetch-models puts all-MiniLM-L6-v2 there) or from_scratch()
// builds a small randomly initialised BERT with a vocabulary taken from the templates; then
// fine_tune() (optional), save(dir) (same three files) and encode(). Every load error is a
// core::LoadError naming the file. Template wildcards "<*>" are removed before encoding.
// Thread-safety: encode() is const and may run concurrently (inference mode, read-only
// weights); fine_tune() needs exclusive access.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logguard/models/tokenizer.hpp"

namespace logguard::models {

/// `model.encoder` section. validate() throws ConfigError("model.encoder.<key>").
struct EncoderConfig {
  std::string weights;            // directory with config.json, vocab.txt, model.safetensors; "" = from scratch
  int max_length = 64;            // tokens incl. [CLS]/[SEP]
  double tau = 1.0;               // temperature of the contrastive loss
  double threshold = 0;           // S; 0 = auto (chosen on validation variants, stored in the bundle)
  int epochs = 4;                 // fine-tuning epochs (0 = no fine-tuning)
  double learning_rate = 3e-5;
  int batch_size = 16;            // anchors per step
  int train_layers = 2;           // top encoder layers fine-tuned; 0 = all (+ embeddings)
  int variants = 4;               // noisy positives per anchor per epoch
  double substitute_rate = 0.15;  // noise: share of words replaced by a synonym
  double insert_rate = 0.1;       // noise: share of words after which one is inserted
  double delete_rate = 0.1;       // noise: share of words deleted
  int validation_variants = 20;   // noisy variants per normal template to choose S
  int hard_negatives = 0;         // per anchor per step: the anchor with one word replaced by a
                                  // word of another meaning, as extra negatives (0 = none)
  std::optional<bool> abnormal_by_similarity;  // a template nearest a labelled abnormal one maps
                                  // to abnormal; unset (`auto`) = only with pretrained weights
  bool normal_negatives = true;   // fine-tuning with labelled abnormal templates: the other normal
                                  // templates are negatives too (false: the abnormal ones only)
  bool sibling_negatives = false;  // S also against the other normal templates (leave one out)
  bool tentative_mapping = true;  // with sibling_negatives: a template below S but within the
                                  // band nearly every validation rewording reaches maps
                                  // tentatively: kept where the model expects its nearest
                                  // template, else unknown (scorer.hpp)
  std::uint64_t seed = 42;
  int threads = 1;
  // From-scratch shape (weights == ""):
  int scratch_hidden = 64, scratch_layers = 2, scratch_heads = 4, scratch_intermediate = 128;
  int scratch_vocab_words = 4000;
  void validate() const;
};

/// Row-major [rows, dim] unit vectors.
struct Embeddings {
  std::size_t rows = 0;
  int dim = 0;
  std::vector<float> values;
  const float* row(std::size_t i) const { return values.data() + i * static_cast<std::size_t>(dim); }
};

/// Text the encoder sees for a template: "<*>" removed, whitespace collapsed.
std::string encoder_text(const std::string& template_text);

class TemplateEncoder {
 public:
  static TemplateEncoder from_pretrained(const std::string& dir, int max_length = 64);
  static TemplateEncoder from_scratch(const EncoderConfig& config, const std::vector<std::string>& corpus);
  ~TemplateEncoder();
  TemplateEncoder(TemplateEncoder&&) noexcept;
  TemplateEncoder& operator=(TemplateEncoder&&) noexcept;

  /// Writes config.json, vocab.txt, model.safetensors into dir (created).
  void save(const std::string& dir) const;
  /// Embeddings of the texts as given (call encoder_text() for templates), `batch` at a time.
  Embeddings encode(const std::vector<std::string>& texts, std::size_t batch = 64) const;
  int dim() const noexcept;
  int max_length() const noexcept;
  int layers() const noexcept;
  std::size_t parameters() const;
  const WordPieceTokenizer& tokenizer() const noexcept;

  struct Impl;
  Impl& impl() noexcept { return *impl_; }  // for fine_tune (models/src)

 private:
  explicit TemplateEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Training data of the contrastive step.
struct ContrastiveData {
  std::vector<std::string> normal;    // normal template texts (anchors)
  std::vector<int> related;           // per anchor: a co-occurring normal template (index) or -1
  std::vector<std::string> abnormal;  // labelled abnormal templates; empty = other normals are negatives
  /// Makes a hard negative of an anchor (core::NoiseGenerator::corrupt); used when
  /// EncoderConfig::hard_negatives > 0.
  std::function<std::string(const std::string& text, std::uint64_t seed)> hard_negative;
};

/// Makes a noisy variant of a text; deterministic in (text, seed).
using NoiseFn = std::function<std::string(const std::string& text, std::uint64_t seed)>;

struct FineTuneEpoch {
  int epoch = 0, epochs = 0;
  double loss = 0, seconds = 0;
};
struct FineTuneResult {
  int epochs = 0;
  double seconds = 0, first_loss = 0, final_loss = 0;
  std::string negatives;             // "abnormal+normal" (labelled; normal_negatives), "abnormal"
                                     // (labelled only) or "normal" (other normal templates)
  std::size_t trainable_parameters = 0;
};

/// Contrastive fine-tuning: for anchor h_n the positives are a noisy variant h_n* and the
/// related template h_n+; the negatives are every abnormal template and (normal_negatives, or
/// when none are labelled) every other normal template except h_n+, at most 64 per step. Loss per positive p:
///   -log( e^{cos(h_n,p)/tau} / (e^{cos(h_n,p)/tau} + sum_a e^{cos(h_n,h_a)/tau}) ).
/// Seeded (config.seed); only the top config.train_layers layers are updated.
FineTuneResult fine_tune(TemplateEncoder& encoder, const ContrastiveData& data, const EncoderConfig& config,
                         const NoiseFn& noise, const std::function<void(const FineTuneEpoch&)>& on_epoch = {});

/// Built-in noise when no better generator is given: deletes, duplicates and swaps words at
/// the config's rates (no synonyms). Deterministic in (text, seed).
NoiseFn basic_noise(double insert_rate, double delete_rate, double swap_rate);

/// For each template (index into `ids`), the most frequent other template within `radius`
/// events in the sessions (-1 if none): the "related normal template" h_n+.
std::vector<int> cooccurring_templates(const std::vector<std::vector<std::uint32_t>>& sessions,
                                       const std::vector<std::uint32_t>& ids, int radius = 2);

}  // namespace logguard::models
