#pragma once
// A tiny MSMASS bundle with a fine-tuned from-scratch template encoder, shared by the daemon's
// mapper tests (test_model_stages, test_registry_mapper): four normal templates (ids 1..4, no
// variables, so the parser keeps such lines whole) and two abnormal ones as the encoder's
// negatives. Built per process (CTest runs test cases as parallel processes).
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "logguard/models/bundle.hpp"
#include "logguard/models/encoder.hpp"
#include "logguard/models/trainer.hpp"
#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon::testing {

inline const std::vector<std::string> kEncNormal = {
    "Receiving block from the source node", "PacketResponder for block is terminating",
    "Deleting block file from the data disk", "Verification succeeded for the block"};
inline const std::vector<std::string> kEncAbnormal = {"Exception in receiveBlock for block",
                                                       "writeBlock received exception"};

/// Encoder size and training effort (the defaults separate reworded from abnormal templates;
/// smaller ones are enough where only the mapping's plumbing is tested).
struct TinyEncoder {
  int hidden = 32, layers = 2, heads = 4, intermediate = 64, epochs = 6, variants = 4;
  int sessions = 20;
};

/// Builds the bundle in `<tmp>/<name>-<pid>` with cosine threshold S = `threshold`.
inline std::string tiny_encoder_bundle(const std::string& name, double threshold, const TinyEncoder& size = {}) {
  namespace fs = std::filesystem;
  const auto dir = (fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  models::TrainConfig tc;
  tc.msmass.window = 4;
  tc.msmass.d_model = 8;
  tc.msmass.ff_dim = 8;
  tc.msmass.encoder_layers = 1;
  tc.msmass.scales = {0};
  tc.msmass.heads_per_scale = {1};
  tc.epochs = 1;
  std::vector<core::Session> sessions;
  for (int i = 0; i < size.sessions; ++i) sessions.push_back({"s" + std::to_string(i), {1, 2, 3, 4, 1, 2}, -1});
  std::vector<core::TemplateEntry> table;
  for (std::size_t i = 0; i < kEncNormal.size(); ++i) table.push_back({static_cast<std::uint32_t>(i + 1), kEncNormal[i]});
  models::train(tc, sessions, table, dir);

  models::EncoderConfig c;
  c.scratch_hidden = size.hidden;
  c.scratch_layers = size.layers;
  c.scratch_heads = size.heads;
  c.scratch_intermediate = size.intermediate;
  c.epochs = size.epochs;
  c.learning_rate = 1e-3;
  c.batch_size = 4;
  c.variants = size.variants;
  c.train_layers = 0;
  c.tau = 0.1;
  c.seed = 3;
  auto enc = models::TemplateEncoder::from_scratch(c, kEncNormal);
  models::ContrastiveData data{kEncNormal, {1, 0, 3, 2}, kEncAbnormal};
  models::fine_tune(enc, data, c, models::basic_noise(0.15, 0.15, 0.0));
  const auto files = dir + ".encoder";
  fs::remove_all(files);
  enc.save(files);
  models::EncoderManifest em;
  em.threshold = threshold;
  em.abnormal_by_similarity = true;  // the mapping mechanism under test (a scratch encoder's default is false)
  em.threshold_method = "config";
  em.base = "scratch";
  em.negatives = "abnormal";
  em.abnormal_templates = kEncAbnormal;
  em.normal_ids = {1, 2, 3, 4};
  models::attach_encoder(dir, files, em);
  fs::remove_all(files);
  return dir;
}

/// A record carrying `line` (the mapper reads only the line).
inline Record rec(std::string line) {
  Record r;
  r.line = std::move(line);
  return r;
}

}  // namespace logguard::daemon::testing
