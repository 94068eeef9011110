#pragma once
// Plain configuration structs of the models stage (filled by daemon/ from YAML or built in
// C++). validate() throws core::ConfigError naming the key relative to the `model` section
// ("model.msmass.scales", "model.train.epochs", "model.detect.top_k", ...).
#include <cstdint>
#include <string>
#include <vector>

namespace logguard::models {

enum class ModelKind { msmass, deeplog };
const char* to_string(ModelKind k) noexcept;
/// "msmass" | "deeplog"; throws ConfigError("model.kind") otherwise.
ModelKind parse_model_kind(const std::string& s);

/// MASS-style encoder-decoder transformer with multi-scale (banded) self-attention.
struct MsmassConfig {
  int window = 10;                     // W: events per window (long sessions slide, short ones pad)
  int d_model = 64;
  int ff_dim = 128;
  int encoder_layers = 2;
  int decoder_layers = 1;
  std::vector<int> scales{1, 3, 5, 0}; // band width per head group (odd; 0 = whole window)
  std::vector<int> heads_per_scale{1, 1, 1, 1};
  double mask_ratio = 0.5;             // masked span length = round(W * ratio), contiguous
  double dropout = 0.1;
  int span_length() const;             // derived masked-span length (>= 1)
  int heads() const;                   // sum of heads_per_scale
  void validate() const;
};

/// DeepLog: LSTM over the last `history` events, next event must be in the top-g.
struct DeepLogConfig {
  int history = 10;                    // h
  int embed_dim = 32;
  int hidden = 64;
  int layers = 2;
  void validate() const;
};

/// Which held-out sessions validate training and calibrate the threshold.
enum class ValidationSplit {
  tail,    // the last validation_fraction of the sessions in input order (time order: the model
           // is validated on the future it did not see, as in production)
  random,  // a seeded random sample of the sessions
};
const char* to_string(ValidationSplit v) noexcept;
ValidationSplit parse_validation_split(const std::string& s);  // ConfigError("model.train.validation_split")

struct TrainConfig {
  ModelKind kind = ModelKind::msmass;
  MsmassConfig msmass;
  DeepLogConfig deeplog;
  int epochs = 20;                     // upper bound; early stopping on validation loss
  int patience = 3;                    // epochs without validation improvement before stopping
  int batch_size = 64;
  double learning_rate = 1e-3;
  double validation_fraction = 0.1;    // of the (normal) training sessions, held out by session
  ValidationSplit validation_split = ValidationSplit::tail;
  int train_stride = 1;                // window stride over long sessions (MSMASS)
  bool dedupe_windows = false;         // train on distinct windows only (normal logs repeat a lot)
  bool session_boundaries = true;      // wrap each session in start/end tokens: a session that
                                       // ends (or starts) where normal ones do not is anomalous
  int min_template_sessions = 0;       // templates in fewer training sessions are recorded as
                                       // rare in the bundle and scored as unknown; 0 = off
  int min_transition_sessions = 0;     // > 0: a transition (event after its predecessor, session
                                       // start and end included) seen in fewer training sessions is
                                       // novel and scored (docs/model-bundle.md); 0 = off
  std::uint64_t seed = 42;
  int threads = 1;                     // intra-op threads (at::set_num_threads), set once
  int top_k = 0;                       // default K stored in the bundle; 0 = 5 (msmass) / 9 (deeplog)
  void validate() const;
};

struct DetectConfig {
  int top_k = 0;                       // 0 = the bundle's K (evidence; the any_miss rule)
  std::string rule;                    // "" = the bundle's; "threshold" | "any_miss"
  double threshold = -1;               // < 0 = the bundle's calibrated threshold
  std::string unknown_score;           // "" = the bundle's; "auto" | "alarm" | nats
  std::string device = "cpu";          // "cpu" or "cuda:N"
  std::string engine = "auto";         // MSMASS on the CPU: "native" (the packed kernels of
                                       // msmass_cpu), "libtorch", or "auto" (native where it
                                       // applies: MSMASS on the CPU; LibTorch otherwise)
  int threads = 1;                     // scoring threads (native) / intra-op threads (LibTorch)
  int batch_windows = 256;             // windows per forward pass in score_sessions
  int stride = 0;                      // MSMASS window stride over long sessions; 0 = the bundle's
  void validate() const;
};

/// Sets LibTorch intra-op and inter-op thread counts. The first call applies both; later
/// calls may change the intra-op count only (inter-op can be set once per process).
void configure_threads(int intra_op, int inter_op = 1);

}  // namespace logguard::models
