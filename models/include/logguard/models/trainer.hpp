#pragma once
// Training of MSMASS / DeepLog on normal sessions, writing a model bundle.
//
// train() is a blocking start-up style call: it validates the config (ConfigError), splits
// the sessions into train/validation by session (seeded), trains with early stopping on the
// validation loss, keeps the best epoch's weights and writes BUNDLE_DIR (created if needed).
// Fixed seed + same data + same thread count give bit-identical weights.
// Thread-safety: one train() at a time per process (LibTorch thread settings are global).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/config.hpp"

namespace logguard::models {

struct EpochReport {
  int epoch = 0;                 // 1-based
  int epochs = 0;                // configured maximum
  double train_loss = 0;
  double val_loss = 0;
  double val_topk_accuracy = 0;  // fraction of validation targets inside the top-K
  double windows_per_second = 0; // training throughput this epoch
  double epoch_seconds = 0;
  double eta_seconds = 0;        // remaining epochs at this epoch's speed (upper bound)
  bool improved = false;
};

struct TrainResult {
  BundleManifest manifest;
  int epochs_run = 0;
  int best_epoch = 0;
  double seconds = 0;
};

/// Formats one progress line: "epoch 3/20 loss 0.41 val_loss 0.39 val_top5 0.998 ...".
std::string format_progress(const EpochReport& r, int top_k);

/// `sessions`: event ids as in `templates` (ids absent from the table are an error).
TrainResult train(const TrainConfig& config, const std::vector<core::Session>& sessions,
                  const std::vector<core::TemplateEntry>& templates, const std::string& bundle_dir,
                  const std::optional<RawInputSettings>& raw_input = std::nullopt,
                  const std::function<void(const EpochReport&)>& on_epoch = {});

}  // namespace logguard::models
