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

namespace {

// model.encoder.weights as given, or -- relative and missing from the working directory --
// found above the config file (a repository's models-cache/ run from elsewhere).
std::string locate_weights(const std::string& weights, const std::string& config_file) {
  namespace fs = std::filesystem;
  if (weights.empty() || fs::path(weights).is_absolute() || fs::exists(weights) || config_file.empty()) return weights;
  for (auto dir = fs::absolute(config_file).parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / weights)) return (dir / weights).string();
    if (dir == dir.root_path()) break;
  }
  return weights;
}

}  // namespace

std::vector<std::string> abnormal_templates_of(const std::string& abnormal_sequences,
                                               const std::vector<core::Session>& normal,
                                               const std::vector<core::TemplateEntry>& table) {
  std::set<std::uint32_t> seen, ab;
  for (const auto& s : normal) seen.insert(s.events.begin(), s.events.end());
  for (const auto& s : core::read_sequences(abnormal_sequences))
    for (auto e : s.events)
      if (!seen.count(e)) ab.insert(e);
  std::vector<std::string> out;
  for (const auto& t : table)
    if (ab.count(t.id)) out.push_back(t.text);
  return out;
}

void train_encoder(const ModelSection& model, const std::vector<core::Session>& normal_sessions,
                   const std::vector<std::string>& abnormal, const std::string& bundle_dir,
                   const std::string& config_file) {
  namespace fs = std::filesystem;
  auto c = *model.encoder;
  const auto manifest = models::read_manifest(bundle_dir);
  // Normal templates: the bundle's vocabulary (the templates of its training sessions).
  const auto& normal = manifest.templates;
  if (normal.empty()) throw core::ConfigError("model.encoder", "the bundle has no template");

  std::vector<std::string> texts;
  std::vector<std::uint32_t> ids;
  for (const auto& t : normal) {
    texts.push_back(t.text);
    ids.push_back(t.id);
  }
  std::vector<std::vector<std::uint32_t>> seqs;
  for (const auto& s : normal_sessions) seqs.push_back(s.events);

  models::configure_threads(c.threads);
  c.weights = locate_weights(c.weights, config_file);
  if (!c.weights.empty() && !fs::exists(c.weights)) {
    std::fprintf(stderr,
                 "WARNING: encoder weights `%s` not found (run scripts/fetch-models): training the template encoder "
                 "FROM SCRATCH instead: it knows only the training templates' words, so most new and reworded "
                 "templates will resolve to unknown (docs/evaluation.md). The bundle records base \"scratch\".\n",
                 c.weights.c_str());
    c.weights.clear();
  }
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
  em.base = c.weights.empty() ? models::kScratchEncoderBase : fs::path(c.weights).filename().string();
  em.abnormal_templates = abnormal;
  em.abnormal_by_similarity = c.abnormal_by_similarity.value_or(!c.weights.empty());
  if (!em.abnormal_by_similarity && !abnormal.empty())
    std::fprintf(stderr,
                 "encoder: a new template nearest a labelled abnormal one resolves to unknown, not abnormal (%s; "
                 "model.encoder.abnormal_by_similarity)\n",
                 c.abnormal_by_similarity ? "configured" : "from-scratch encoder");
  em.negatives = "none";
  std::vector<int> related;  // the related-template positives fine-tuning pulls together
  if (c.epochs > 0) {
    related = models::cooccurring_templates(seqs, ids);
    models::ContrastiveData data{texts, related, abnormal, {}};
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
  const auto choice = models::choose_threshold(encoder, texts, abnormal, noise, c.validation_variants, c.seed + 7777,
                                                c.sibling_negatives ? &related : nullptr);
  em.metrics["val_normal_accuracy"] = choice.normal_accuracy;
  em.metrics["val_abnormal_rejected"] = choice.abnormal_rejected;
  em.metrics["val_normal_variants"] = static_cast<double>(choice.normal_variants);
  em.metrics["val_abnormal_templates"] = static_cast<double>(choice.abnormal_templates);
  em.metrics["val_siblings_rejected"] = choice.siblings_rejected;
  em.metrics["val_sibling_templates"] = static_cast<double>(choice.sibling_templates);
  em.metrics["auto_threshold"] = choice.threshold;
  em.metrics["quantile_threshold"] = choice.quantile_threshold;
  em.threshold = c.threshold > 0 ? c.threshold : choice.threshold;
  // An abnormal verdict by similarity needs the stricter cosine (only with labelled templates).
  em.abnormal_threshold = abnormal.empty() ? -1 : std::max<double>(em.threshold, choice.abnormal_threshold);
  em.metrics["abnormal_threshold"] = choice.abnormal_threshold;
  em.threshold_method = c.threshold > 0 ? "config" : choice.method;
  std::fprintf(stderr,
               "encoder: S = %.4f (%s); validation: %.4f of %zu normal variants map right, %.4f of %zu abnormal and "
               "%.4f of %zu other normal templates (leave one out) stay below auto S %.4f (floor: the normal-quantile "
               "rule, %.4f)\n",
               em.threshold, em.threshold_method.c_str(), choice.normal_accuracy, choice.normal_variants,
               choice.abnormal_rejected, choice.abnormal_templates, choice.siblings_rejected, choice.sibling_templates,
               choice.threshold, choice.quantile_threshold);
  if (em.abnormal_threshold > em.threshold)
    std::fprintf(stderr,
                 "encoder: a template nearest a labelled abnormal one is abnormal from cosine %.4f (below: unknown)\n",
                 em.abnormal_threshold);
  // The tentative band: from the cosine nearly every validation rewording reaches up to S.
  // (Only with sibling negatives, whose S sits well above that rule; model.encoder.*.)
  em.tentative_threshold =
      c.sibling_negatives && c.tentative_mapping && choice.quantile_threshold < em.threshold ? choice.quantile_threshold : -1;
  if (em.tentative_threshold > -1)
    std::fprintf(stderr,
                 "encoder: templates with cosine in [%.4f, S) map tentatively: kept where the model expects their "
                 "nearest template, else unknown (model.encoder.tentative_mapping)\n",
                 em.tentative_threshold);
  em.normal_ids = ids;
  const auto tmp = (fs::path(bundle_dir) / "encoder.tmp").string();
  fs::remove_all(tmp);
  encoder.save(tmp);
  models::attach_encoder(bundle_dir, tmp, em);
  fs::remove_all(tmp);
}

}  // namespace logguard::daemon::detail
