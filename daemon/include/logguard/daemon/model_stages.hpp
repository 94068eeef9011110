#pragma once
// The daemon's model stages: a reloadable model bundle (ModelHolder), the Mapper that turns a
// raw line into a bundle template id (BundleMapper: Drain, then the bundle vocabulary by
// normalized template text, else -- when the bundle has a template encoder -- by cosine
// similarity, as `logguard detect` maps) and the Scorer adapter over models::Scorer
// (BundleScorer).
//
// Offline equivalence. `logguard detect` scores a session as the sequence
// [start] + events + [end] cut into model windows (MSMASS: W events, starts 0, s, 2s, ... and a
// last one ending at the session's end; DeepLog: one target per position with h events of
// history) and ORs their verdicts. The Windower cuts an open session into chunks of
// `chunk_length` events that slide by `chunk_stride`; chunk k starts at event k*chunk_stride.
// BundleScorer scores, in each chunk, exactly the offline model windows that end inside it
// and did not fit into the previous chunk (a closing chunk also judges the end token). With an
// overlap chunk_length - chunk_stride >= W, every offline window lies inside one chunk, so a
// session's windows OR to the same verdict as `logguard detect` on the same lines, as long as
// the session is not closed early (idle timeout, eviction) and the parser's templates map the
// same. count/time windows are judged as whole sessions (like `detect` on count windows).
//
// Thread-safety: ModelHolder is thread-safe (current() from any thread, reload() from one);
// BundleMapper belongs to the consumer thread; BundleScorer to the scorer thread (its
// counters are atomics readable from any thread).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/daemon/anomaly_record.hpp"
#include "logguard/daemon/stages.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/template_mapper.hpp"

namespace logguard::daemon {

class TemplateRegistry;  // registry.hpp

/// How the model cuts a session into model windows (as models::Scorer::score_sessions).
struct ModelShape {
  std::size_t window = 0;     // W (MSMASS) or h+1 (DeepLog)
  std::size_t stride = 1;     // MSMASS window stride over sessions
  bool boundaries = true;     // sessions wrapped in start/end tokens
  bool deeplog = false;
};

/// One loaded bundle and what the stages need from it. Immutable once built.
struct LoadedModel {
  explicit LoadedModel(models::Scorer s) : scorer(std::move(s)) {}
  models::Scorer scorer;
  std::string version;                                          // "<kind>-<8 hex of weights digest>"
  std::uint64_t generation = 0;                                 // 1, 2, ... per load
  ModelShape shape;
  std::unordered_map<std::string, core::TemplateId> by_text;    // normalized text -> bundle id
  std::unordered_map<core::TemplateId, std::string> text;       // bundle id -> text
  // Bundles with a template encoder (format v2): the semantic mapper (normal templates of
  // the encoder's index, S) and the ids it indexes. Null without an encoder. A reload builds
  // a new one, so its embedding cache starts empty. Non-const only for its (thread-safe)
  // embedding cache: BundleMapper forgets a changed template's old text.
  std::shared_ptr<models::TemplateMapper> semantic;
  std::unordered_set<core::TemplateId> semantic_ids;
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

/// Pins the bundle's templates (models::BundleManifest::templates, Drain texts) in the parser
/// (core::LineParser::pin) so that live lines map onto exactly the templates the model was
/// trained on and an abnormal variant ("... Interrupted" beside "... terminating") cannot
/// generalise one of them. Skipped when the parser writes another template_style (its texts
/// are not Drain texts). Returns how many were pinned.
std::size_t pin_templates(core::LineParser& parser, const std::vector<core::TemplateEntry>& templates);

/// Counters of the mapper (consumer thread writes, anyone reads).
struct MapperStats {
  std::atomic<std::uint64_t> lines{0};
  std::atomic<std::uint64_t> parse_errors{0};       // header mismatch, truncated or invalid UTF-8
  std::atomic<std::uint64_t> templates_created{0};
  std::atomic<std::uint64_t> templates_changed{0};
  std::atomic<std::uint64_t> events_known{0};       // mapped to a bundle template
  std::atomic<std::uint64_t> events_unknown{0};     // no bundle template matches
  std::atomic<std::uint64_t> templates_known{0};    // parser templates currently mapped
  std::atomic<std::uint64_t> templates_pinned{0};   // bundle templates pinned in the parser
  std::atomic<std::uint64_t> templates_encoded{0};  // parser templates run through the encoder
  std::atomic<std::uint64_t> encoder_nanoseconds{0};  // time spent encoding them
  std::atomic<std::uint64_t> templates_adopted{0};  // mappings taken from the template registry
  std::atomic<std::uint64_t> registry_pinned{0};    // registry texts pinned in the parser (re-pins included)
  std::atomic<std::uint64_t> parser_rebuilds{0};    // reloads that brought other parser settings
};

/// Raw line -> bundle template id (0 = unknown, as `logguard detect` maps unmatched templates).
/// The bundle's templates are pinned in the parser (pin_templates) at the first line, after
/// set_parser() and after each reload. The parser's template -> bundle id map is cached per parser id and recomputed when the
/// template is created or changes, and after a model reload. A template whose normalized
/// text is a bundle template the encoder indexes takes that id (its cosine to itself is 1,
/// so the encoder would choose it too); any other template, when the bundle has an encoder,
/// is encoded once and mapped by models::TemplateMapper (cos >= S -> that normal template,
/// else unknown; an abnormal match is unknown too) -- the decision `logguard detect` makes.
/// Encodings are cached by template text (in the loaded model's TemplateMapper); a changed
/// template's old text is forgotten. Only new/changed templates cost an encoding (counted in
/// MapperStats::templates_encoded); map() never throws (an encoder failure maps to unknown).
///
/// With a TemplateRegistry (set_registry, issue #6) a new or changed template that is not an
/// exact bundle template is first looked up in the registry under the running model version:
/// a registered decision is adopted without encoding (MapperStats::templates_adopted); else the
/// mapper decides as above and publishes the decision. Every registry poll_interval of map()
/// calls (a clock check) it polls the registry: every generalised text (one with a "<*>") new
/// to this instance is pinned in the parser (so a line of a registered form parses to the same
/// template on every instance; texts without a variable stay free to generalise),
/// and a changed decision for the running model clears the mapping cache (recomputed lazily,
/// now from the registry). After a reload or set_parser() the bundle's templates and then the
/// registry's generalised texts are pinned again. The registry must outlive the mapper (or be unset first);
/// it is used on the mapper's (consumer) thread only.
class BundleMapper {
 public:
  BundleMapper(core::LineParser parser, std::shared_ptr<ModelHolder> model);
  core::TemplateId map(const Record& r) noexcept;
  const MapperStats& stats() const noexcept { return stats_; }
  core::LineParser& parser() noexcept { return parser_; }
  /// Replaces the parser (checkpoint restore); clears the cache; pins again at the next line.
  void set_parser(core::LineParser parser);
  /// On: the parser settings come from the bundle (a config without `parser:`), so after a
  /// reload whose bundle records other settings (models::BundleManifest::raw_input) the
  /// parser is rebuilt from them at the next line -- its learned templates are dropped, the new
  /// bundle's are pinned -- and counted in MapperStats::parser_rebuilds. Off (the default): the
  /// configured parser stays. The reload check should reject a bundle whose settings do not
  /// build a parser (check_bundle_parser), so the rebuild on the consumer thread cannot fail.
  void follow_bundle_parser(bool on) noexcept { follow_bundle_parser_ = on; }
  /// Called with the seconds of each template encoding (consumer thread); optional.
  std::function<void(double)> on_encoded;
  /// Follows `r` from the next map() on (nullptr: off). Pins every registry text at the next
  /// map(), with the bundle's templates.
  void set_registry(TemplateRegistry* r) noexcept;
  /// Polls the registry now (map() calls it every poll_interval); for an idle consumer loop.
  void sync_registry() noexcept;

 private:
  core::TemplateId lookup(core::TemplateId parser_id, std::string_view text);
  void pin_registry_text(const std::string& text);
  core::LineParser parser_;
  std::shared_ptr<ModelHolder> model_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<const LoadedModel> cached_model_;
  std::vector<std::uint32_t> cache_;          // parser id -> bundle id + 1 (0 = not computed)
  std::vector<std::string> encoded_text_;     // parser id -> text last sent to the encoder
  TemplateRegistry* registry_ = nullptr;
  std::chrono::steady_clock::time_point next_sync_{};
  bool follow_bundle_parser_ = false;
  MapperStats stats_;
};

/// For a daemon that takes its parser settings from the bundle: throws core::ConfigError
/// ("parser") when the bundle records none or they do not build a parser (an invalid regex).
void check_bundle_parser(const LoadedModel& m);

/// How the Windower cuts sessions (see the top of this file).
struct ChunkLayout {
  bool sessions = true;          // false: count/time windows, each judged as a whole
  std::size_t length = 0;        // chunk_length (WindowConfig::length)
  std::size_t stride = 0;        // chunk_stride (WindowConfig::effective_stride())
};

/// A model window inside a chunk: [begin, end) of the chunk's token sequence.
struct ModelWindowRef {
  std::size_t begin = 0, end = 0;
};

/// The chunk's token sequence (bundle ids, with start/end tokens where they belong) and the
/// model windows to score in it. `event_of_token[i]` is the Window::events index of token i
/// (events.size() for the end token, SIZE_MAX for the start token).
struct ChunkPlan {
  std::vector<std::uint32_t> tokens;
  std::vector<std::size_t> event_of_token;
  std::vector<ModelWindowRef> windows;
};
ChunkPlan plan_chunk(const Window& w, const ModelShape& m, const ChunkLayout& layout);

/// Scorer adapter counters.
struct ScorerStats {
  std::atomic<std::uint64_t> model_windows{0};   // model windows judged (cache hits included)
  std::atomic<std::uint64_t> cache_hits{0};
  std::atomic<std::uint64_t> cache_misses{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> reloads_seen{0};
};

/// Scorer over models::Scorer with a bounded verdict cache keyed by the model window's token
/// sequence (cleared when the model changes). The model is taken from the holder once per
/// batch, so a reload takes effect between batches.
class BundleScorer : public Scorer {
 public:
  BundleScorer(std::shared_ptr<ModelHolder> model, ChunkLayout layout, std::size_t cache_capacity);
  core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) override;
  std::string model_version() const override;
  const ScorerStats& stats() const noexcept { return stats_; }
  /// Called after each batch with (windows in batch, model windows, seconds); optional.
  std::function<void(std::size_t, std::size_t, double)> on_batch;

 private:
  struct Key {
    std::vector<std::uint32_t> tokens;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  std::shared_ptr<ModelHolder> model_;
  ChunkLayout layout_;
  std::size_t capacity_;
  std::uint64_t generation_ = 0;
  std::unordered_map<Key, models::WindowVerdict, KeyHash> cache_;
  std::vector<Key> fifo_;  // insertion order ring for eviction
  std::size_t fifo_next_ = 0;
  ScorerStats stats_;
};

/// Checks a chunk layout against the model: overlap length - stride >= W. Throws ConfigError
/// keyed "pipeline.window.stride" / "pipeline.window.length".
void check_chunk_layout(const ChunkLayout& layout, const ModelShape& m);

/// Bundle template text (sink thread), "<end-of-session>" for the end token.
TemplateText bundle_template_text(std::shared_ptr<ModelHolder> model);

}  // namespace logguard::daemon
