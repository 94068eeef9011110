// Validation of the models configuration structs and the process-wide thread setup.
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>
#include <numeric>

#include "logguard/core/error.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/detection.hpp"

namespace logguard::models {

using core::ConfigError;

const char* to_string(ModelKind k) noexcept { return k == ModelKind::msmass ? "msmass" : "deeplog"; }

ModelKind parse_model_kind(const std::string& s) {
  if (s == "msmass") return ModelKind::msmass;
  if (s == "deeplog") return ModelKind::deeplog;
  throw ConfigError("model.kind", "must be `msmass` or `deeplog`, got `" + s + "`");
}

int MsmassConfig::span_length() const {
  return std::max(1, static_cast<int>(std::lround(window * mask_ratio)));
}
int MsmassConfig::heads() const { return std::accumulate(heads_per_scale.begin(), heads_per_scale.end(), 0); }

void MsmassConfig::validate() const {
  const std::string p = "model.msmass.";
  if (window < 2 || window > 4096) throw ConfigError(p + "window", "must be in [2, 4096]");
  if (d_model < 4) throw ConfigError(p + "d_model", "must be >= 4");
  if (ff_dim < 1) throw ConfigError(p + "ff_dim", "must be >= 1");
  if (encoder_layers < 1) throw ConfigError(p + "encoder_layers", "must be >= 1");
  if (decoder_layers < 1) throw ConfigError(p + "decoder_layers", "must be >= 1");
  if (scales.empty()) throw ConfigError(p + "scales", "must list at least one scale");
  for (int s : scales)
    if (s < 0 || (s > 0 && s % 2 == 0))
      throw ConfigError(p + "scales", "each scale must be an odd band width or 0 (whole window), got " +
                                          std::to_string(s));
  if (heads_per_scale.size() != scales.size())
    throw ConfigError(p + "heads_per_scale", "needs one entry per scale (" + std::to_string(scales.size()) + ")");
  for (int h : heads_per_scale)
    if (h < 1) throw ConfigError(p + "heads_per_scale", "each entry must be >= 1");
  if (d_model % heads() != 0)
    throw ConfigError(p + "d_model", "must be divisible by the total head count " + std::to_string(heads()));
  if (!(mask_ratio > 0 && mask_ratio < 1)) throw ConfigError(p + "mask_ratio", "must be in (0, 1)");
  if (span_length() >= window) throw ConfigError(p + "mask_ratio", "masked span must be shorter than the window");
  if (!(dropout >= 0 && dropout < 1)) throw ConfigError(p + "dropout", "must be in [0, 1)");
}

void DeepLogConfig::validate() const {
  const std::string p = "model.deeplog.";
  if (history < 1 || history > 1024) throw ConfigError(p + "history", "must be in [1, 1024]");
  if (embed_dim < 1) throw ConfigError(p + "embed_dim", "must be >= 1");
  if (hidden < 1) throw ConfigError(p + "hidden", "must be >= 1");
  if (layers < 1) throw ConfigError(p + "layers", "must be >= 1");
}

const char* to_string(ValidationSplit v) noexcept { return v == ValidationSplit::tail ? "tail" : "random"; }

ValidationSplit parse_validation_split(const std::string& s) {
  if (s == "tail") return ValidationSplit::tail;
  if (s == "random") return ValidationSplit::random;
  throw ConfigError("model.train.validation_split", "must be `tail` or `random`, got `" + s + "`");
}

void TrainConfig::validate() const {
  const std::string p = "model.train.";
  if (kind == ModelKind::msmass) msmass.validate();
  else deeplog.validate();
  if (epochs < 1) throw ConfigError(p + "epochs", "must be >= 1");
  if (patience < 1) throw ConfigError(p + "patience", "must be >= 1");
  if (batch_size < 1) throw ConfigError(p + "batch_size", "must be >= 1");
  if (!(learning_rate > 0)) throw ConfigError(p + "learning_rate", "must be > 0");
  if (!(validation_fraction > 0 && validation_fraction < 1))
    throw ConfigError(p + "validation_fraction", "must be in (0, 1)");
  if (train_stride < 1) throw ConfigError(p + "train_stride", "must be >= 1");
  if (threads < 1) throw ConfigError(p + "threads", "must be >= 1");
  if (top_k < 0) throw ConfigError(p + "top_k", "must be >= 0");
  if (min_template_sessions < 0) throw ConfigError(p + "min_template_sessions", "must be >= 0");
  if (min_transition_sessions < 0) throw ConfigError(p + "min_transition_sessions", "must be >= 0 (0 = off)");
}

void DetectConfig::validate() const {
  const std::string p = "model.detect.";
  if (top_k < 0) throw ConfigError(p + "top_k", "must be >= 0 (0 = the bundle's default)");
  if (threads < 1) throw ConfigError(p + "threads", "must be >= 1");
  if (batch_windows < 1) throw ConfigError(p + "batch_windows", "must be >= 1");
  if (stride < 0) throw ConfigError(p + "stride", "must be >= 0 (0 = the bundle's)");
  if (!rule.empty()) parse_decision_rule(rule, p + "rule");
  if (!unknown_score.empty()) parse_unknown_weight(unknown_score, p + "unknown_score");
  if (device != "cpu" && device.rfind("cuda", 0) != 0)
    throw ConfigError(p + "device", "must be `cpu` or `cuda:N`, got `" + device + "`");
  if (engine != "auto" && engine != "native" && engine != "libtorch")
    throw ConfigError(p + "engine", "must be `auto`, `native` or `libtorch`, got `" + engine + "`");
  if (engine == "native" && device != "cpu")
    throw ConfigError(p + "engine", "`native` runs on the CPU only (device is `" + device + "`)");
}

void configure_threads(int intra_op, int inter_op) {
  static std::once_flag once;
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::call_once(once, [&] { at::set_num_interop_threads(std::max(1, inter_op)); });
  if (at::get_num_threads() != intra_op) at::set_num_threads(std::max(1, intra_op));
}

}  // namespace logguard::models
