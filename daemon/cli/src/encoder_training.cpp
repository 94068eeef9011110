// Encoder step of `logguard train` and semantic mapping of `logguard detect` (see encoder_training.hpp).
#include "encoder_training.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "logguard/core/error.hpp"
#include "logguard/core/noise.hpp"
#include "logguard/core/wordnet.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/encoder.hpp"
#include "logguard/models/template_mapper.hpp"

namespace logguard::daemon::detail {

void train_encoder(const ModelSection& model, const std::vector<core::Session>& normal_sessions,
                   const std::vector<core::TemplateEntry>& table, const std::string& abnormal_sequences,
                   const std::string& bundle_dir) {
  namespace fs = std::filesystem;
  const auto& c = *model.encoder;
  const auto manifest = models::read_manifest(bundle_dir);

  // Normal templates: the bundle's vocabulary entries that occur in the training sessions.
  std::set<std::uint32_t> seen;
  for (const auto& s : normal_sessions) seen.insert(s.events.begin(), s.events.end());
  std::vector<core::TemplateEntry> normal;
  for (const auto& t : manifest.templates)
    if (seen.count(t.id)) normal.push_back(t);
  if (normal.empty()) throw core::ConfigError("model.encoder", "no bundle template occurs in the training sessions");

  // Abnormal templates: in the table, seen in labelled anomalous sessions, never in normal ones.
  std::vector<std::string> abnormal;
  if (!abnormal_sequences.empty()) {
    std::set<std::uint32_t> ab;
    for (const auto& s : core::read_sequences(abnormal_sequences))
      for (auto e : s.events)
        if (!seen.count(e)) ab.insert(e);
    for (const auto& t : table)
      if (ab.count(t.id)) abnormal.push_back(t.text);
  }

  std::vector<std::string> texts;
  std::vector<std::uint32_t> ids;
  for (const auto& t : normal) {
    texts.push_back(t.text);
    ids.push_back(t.id);
  }
  std::vector<std::vector<std::uint32_t>> seqs;
  for (const auto& s : normal_sessions) seqs.push_back(s.events);

  models::configure_threads(c.threads);
  auto encoder = c.weights.empty() ? models::TemplateEncoder::from_scratch(c, texts)
                                   : models::TemplateEncoder::from_pretrained(c.weights, c.max_length);
  std::fprintf(stderr, "encoder: %s, %zu parameters, dim %d; %zu normal, %zu abnormal templates\n",
               c.weights.empty() ? "from scratch" : c.weights.c_str(), encoder.parameters(), encoder.dim(),
               normal.size(), abnormal.size());

  auto wordnet = std::make_shared<const core::WordNet>(core::WordNet::load());
  core::NoiseConfig nc;
  nc.flavour = core::NoiseFlavour::training;
  nc.replace_rate = c.substitute_rate;
  nc.insert_rate = c.insert_rate;
  nc.delete_rate = c.delete_rate;
  auto gen = std::make_shared<const core::NoiseGenerator>(wordnet, nc);
  const models::NoiseFn noise = [gen](const std::string& t, std::uint64_t seed) { return gen->reword(t, seed); };

  models::EncoderManifest em;
  em.base = c.weights.empty() ? "scratch" : fs::path(c.weights).filename().string();
  em.abnormal_templates = abnormal;
  em.negatives = "none";
  if (c.epochs > 0) {
    models::ContrastiveData data{texts, models::cooccurring_templates(seqs, ids), abnormal, {}};
    if (c.hard_negatives > 0) {
      // Replacement words: WordNet's, or (half of the draws) the words of the training templates.
      auto pool = std::make_shared<std::vector<std::string>>();
      for (const auto& t : texts) {
        std::string w;
        for (char ch : t + " ") {
          if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) w += ch;
          else if (!w.empty()) { pool->push_back(w); w.clear(); }
        }
      }
      data.hard_negative = [gen, pool](const std::string& t, std::uint64_t seed) { return gen->corrupt(t, seed, *pool); };
    }
    const auto r = models::fine_tune(encoder, data, c, noise, [](const models::FineTuneEpoch& e) {
      std::fprintf(stderr, "encoder epoch %d/%d loss %.4f %.1f s\n", e.epoch, e.epochs, e.loss, e.seconds);
    });
    em.negatives = r.negatives;
    em.metrics["fine_tune_seconds"] = r.seconds;
    em.metrics["fine_tune_epochs"] = r.epochs;
    em.metrics["first_loss"] = r.first_loss;
    em.metrics["final_loss"] = r.final_loss;
    em.metrics["trainable_parameters"] = static_cast<double>(r.trainable_parameters);
    std::fprintf(stderr, "encoder: fine-tuned %d epochs in %.1f s (negatives: %s templates, %zu trainable parameters)\n",
                 r.epochs, r.seconds, r.negatives.c_str(), r.trainable_parameters);
  }
  // Validation variants use other seeds than training (same training flavour: the evaluation
  // flavour stays unseen until the benchmark).
  const auto choice = models::choose_threshold(encoder, texts, abnormal, noise, c.validation_variants, c.seed + 7777);
  em.metrics["val_normal_accuracy"] = choice.normal_accuracy;
  em.metrics["val_abnormal_rejected"] = choice.abnormal_rejected;
  em.metrics["val_normal_variants"] = static_cast<double>(choice.normal_variants);
  em.metrics["val_abnormal_templates"] = static_cast<double>(choice.abnormal_templates);
  em.metrics["auto_threshold"] = choice.threshold;
  em.threshold = c.threshold > 0 ? c.threshold : choice.threshold;
  em.threshold_method = c.threshold > 0 ? "config" : choice.method;
  std::fprintf(stderr, "encoder: S = %.4f (%s); validation: %.4f of %zu normal variants map right, %.4f of %zu abnormal rejected at auto S %.4f\n",
               em.threshold, em.threshold_method.c_str(), choice.normal_accuracy, choice.normal_variants,
               choice.abnormal_rejected, choice.abnormal_templates, choice.threshold);
  em.normal_ids = ids;
  const auto tmp = (fs::path(bundle_dir) / "encoder.tmp").string();
  fs::remove_all(tmp);
  encoder.save(tmp);
  models::attach_encoder(bundle_dir, tmp, em);
  fs::remove_all(tmp);
}

std::unordered_map<std::uint32_t, std::uint32_t> map_templates_semantic(const std::string& bundle_dir,
                                                                       const std::vector<core::TemplateEntry>& input,
                                                                       SemanticMapStats* stats) {
  const auto mapper = models::TemplateMapper::load(bundle_dir);
  std::vector<std::string> texts;
  for (const auto& t : input) texts.push_back(t.text);
  const auto results = mapper.map_batch(texts);
  std::unordered_map<std::uint32_t, std::uint32_t> out;
  SemanticMapStats st;
  for (std::size_t i = 0; i < input.size(); ++i) {
    out[input[i].id] = results[i].template_id;
    switch (results[i].verdict) {
      case models::MapVerdict::known: ++st.known; break;
      case models::MapVerdict::abnormal: ++st.abnormal; break;
      default: ++st.unknown;
    }
  }
  if (stats) *stats = st;
  return out;
}

}  // namespace logguard::daemon::detail
