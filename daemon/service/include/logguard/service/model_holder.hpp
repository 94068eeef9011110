#pragma once
// The model bundle logguardd scores with, reloadable (SIGHUP): ModelHolder loads a bundle
// directory into a LoadedModel (scorer, version, model shape, template texts, the encoder's
// semantic mapper) and swaps in a reloaded one only when it loaded completely.
// Thread-safety: current()/generation() from any thread, reload() from one thread at a time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/models/chunk_plan.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/template_mapper.hpp"
#include "logguard/models/template_resolver.hpp"

namespace logguard::daemon {

/// One loaded bundle and what the stages need from it. Immutable once built.
struct LoadedModel {
  explicit LoadedModel(models::Scorer s) : scorer(std::move(s)) {}
  models::Scorer scorer;
  std::string version;                                          // "<kind>-<8 hex of weights digest>"
  std::uint64_t generation = 0;                                 // 1, 2, ... per load
  models::ModelShape shape;
  std::unordered_map<std::string, core::TemplateId> by_text;    // normalized text -> bundle id (checkpoint remap)
  std::unordered_map<core::TemplateId, std::string> text;       // bundle id -> text
  // Bundles with a template encoder (format v2): the semantic mapper (normal templates of
  // the encoder's index, S). Null without an encoder. A reload builds a new one, so its
  // embedding cache starts empty. Non-const only for its (thread-safe) embedding cache:
  // BundleMapper forgets a changed template's old text.
  std::shared_ptr<models::TemplateMapper> semantic;
  // The decision `logguard detect` and training's calibration make for a template text:
  // exact text, the bundle's template-table patterns, labelled-abnormal templates (the
  // encoder step is BundleMapper's, through `semantic`, so that it can count and cache it).
  std::shared_ptr<const models::TemplateResolver> resolver;
};

/// Loads a bundle directory and reloads it on demand (SIGHUP). Lifecycle: the constructor
/// loads (throws LoadError/ConfigError naming the file); reload() re-reads the same directory
/// and swaps only when the new bundle loaded completely.
class ModelHolder {
 public:
  ModelHolder(std::string bundle_dir, models::DetectConfig detect);
  std::shared_ptr<const LoadedModel> current() const;
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  /// Re-reads the bundle; on failure keeps the old model and returns the reason.
  core::Expected<bool> reload();
  const std::string& dir() const noexcept { return dir_; }
  /// Run on every reloaded model before it is swapped in; throwing rejects it (e.g. a bundle
  /// whose W does not fit the running chunk layout). Set before reloads start.
  void set_reload_check(std::function<void(const LoadedModel&)> check) { check_ = std::move(check); }

 private:
  std::shared_ptr<const LoadedModel> load(std::uint64_t generation) const;
  std::string dir_;
  models::DetectConfig detect_;
  mutable std::mutex mu_;
  std::shared_ptr<const LoadedModel> model_;
  std::atomic<std::uint64_t> generation_{0};
  std::function<void(const LoadedModel&)> check_;
};

}  // namespace logguard::daemon
