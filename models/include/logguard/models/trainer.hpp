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
  std::vector<std::size_t> validation;  // indices into `sessions` of the held-out sessions (normal and
                                        // labelled anomalous), in input order: calibrate on these
};

/// Formats one progress line: "epoch 3/20 loss 0.41 val_loss 0.39 val_top5 0.998 ...".
std::string format_progress(const EpochReport& r, int top_k);

/// The held-out sessions (indices, ascending) train() sets aside: the last
/// validation_fraction of the non-empty sessions in input order (tail) or a seeded random
/// sample (random). Deterministic: the same config and sessions give the same split.
std::vector<std::size_t> heldout_split(const TrainConfig& config, const std::vector<core::Session>& sessions);

/// `sessions`: event ids as in `templates` (ids absent from the table are an error), in input
/// (time) order. `labels`: empty (all normal) or one per session, 0 normal / 1 anomalous.
/// The held-out part (model.train.validation_split) takes normal and anomalous sessions alike;
/// only the normal sessions before it train the model, and the bundle's vocabulary is the
/// templates they hold (a template first seen later is new to the model, as in production).
/// The bundle is written without a "detection" section: calibrate on TrainResult::validation
/// and attach_detection() afterwards.
TrainResult train(const TrainConfig& config, const std::vector<core::Session>& sessions,
                  const std::vector<core::TemplateEntry>& templates, const std::string& bundle_dir,
                  const std::optional<RawInputSettings>& raw_input = std::nullopt,
                  const std::function<void(const EpochReport&)>& on_epoch = {},
                  const std::vector<int>& labels = {});

}  // namespace logguard::models
