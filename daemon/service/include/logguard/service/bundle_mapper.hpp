#pragma once
// BundleMapper, the daemon's Mapper: a raw line -> a bundle template id (Drain, then the
// bundle's models::TemplateResolver -- exact text, template-table patterns, labelled-abnormal
// templates -- else, when the bundle has a template encoder, cosine similarity: the decision
// `logguard detect` makes), optionally sharing templates through the template registry. Thread-safety: the consumer thread (its counters are atomics
// readable from any thread).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/line_parser.hpp"
#include "logguard/pipeline/stages.hpp"
#include "logguard/service/model_holder.hpp"

namespace logguard::daemon {

class TemplateRegistry;  // logguard/kafka/registry.hpp

/// Counters of the mapper (consumer thread writes, anyone reads).
struct MapperStats {
  std::atomic<std::uint64_t> lines{0};
  std::atomic<std::uint64_t> parse_errors{0};       // header mismatch, truncated or invalid UTF-8
  std::atomic<std::uint64_t> templates_created{0};
  std::atomic<std::uint64_t> templates_changed{0};
  std::atomic<std::uint64_t> events_known{0};       // mapped to a bundle template
  std::atomic<std::uint64_t> events_unknown{0};     // no bundle template matches
  std::atomic<std::uint64_t> events_abnormal{0};    // a template labelled abnormal in training
  std::atomic<std::uint64_t> templates_known{0};    // parser templates currently mapped
  std::atomic<std::uint64_t> templates_pinned{0};   // bundle templates pinned in the parser
  std::atomic<std::uint64_t> templates_encoded{0};  // parser templates run through the encoder
  std::atomic<std::uint64_t> encoder_nanoseconds{0};  // time spent encoding them
  std::atomic<std::uint64_t> templates_adopted{0};  // mappings taken from the template registry
  std::atomic<std::uint64_t> registry_pinned{0};    // registry texts pinned in the parser (re-pins included)
  std::atomic<std::uint64_t> parser_rebuilds{0};    // reloads that brought other parser settings
};

/// Raw line -> bundle template id (0 = unknown, models::kAbnormalTemplate = a template labelled
/// abnormal in training or closest to one, as `logguard detect` maps them).
/// The bundle's templates are pinned in the parser (core::pin_templates) at the first line, after
/// set_parser() and after each reload. The parser's template -> bundle id map is cached per parser id and recomputed when the
/// template is created or changes, and after a model reload. A template the resolver places
/// without the encoder (its normalized text is a bundle or labelled-abnormal template, or it
/// fits a table pattern of a bundle trained on a template table) takes that id; any other
/// template, when the bundle has an encoder, is encoded once and mapped by
/// models::TemplateMapper (cos >= S -> that normal template, or kAbnormalTemplate when closest
/// to a labelled-abnormal one, else unknown) -- the decision `logguard detect` makes.
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
  /// `header_parsed` false: the lines are JSON / OTLP messages read without their header
  /// (core::message_parser): the bundle's settings are used without their log_format.
  void follow_bundle_parser(bool on, bool header_parsed = true) noexcept {
    follow_bundle_parser_ = on;
    header_parsed_ = header_parsed;
  }
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
  bool header_parsed_ = true;
  MapperStats stats_;
};

/// For a daemon that takes its parser settings from the bundle: throws core::ConfigError
/// ("parser") when the bundle records none or they do not build a parser (an invalid regex).
void check_bundle_parser(const LoadedModel& m);

}  // namespace logguard::daemon
