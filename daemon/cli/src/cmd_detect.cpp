// `logguard detect`: score every session with a model bundle, one JSON object per line.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "logguard/core/error.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/config/config_loader.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/template_resolver.hpp"
#include "logguard/core/session_reader.hpp"

namespace logguard::daemon::detail {
namespace {

struct DetectOptions {
  std::string model, sequences, templates, input, output, config, labels, format;
  std::vector<std::string> streams;
  int top_k = 0, threads = 0, batch = 0, stride = 0;
  double threshold = -1;
  std::string device, rule;
  double max_unknown_percent = 50;
  bool no_encoder = false;
};

nlohmann::json template_json(std::uint32_t id) {
  if (id == models::kEndOfSession) return "<end-of-session>";
  if (id == models::kAbnormalTemplate) return "<abnormal>";
  if (id == 0) return "<unknown>";
  return id;
}

int run_detect(const DetectOptions& o) {
  models::DetectConfig dc;
  std::optional<core::RecordFormat> config_input;
  if (!o.config.empty()) {
    const auto cfg = load_app_config(o.config);
    dc = cfg.model.detect;
    if (cfg.has_input) config_input = cfg.input;
  }
  if (o.top_k > 0) dc.top_k = o.top_k;
  if (o.threads > 0) dc.threads = o.threads;
  if (o.batch > 0) dc.batch_windows = o.batch;
  if (o.stride > 0) dc.stride = o.stride;
  if (o.threshold >= 0) dc.threshold = o.threshold;
  if (!o.rule.empty()) dc.rule = o.rule;
  if (!o.device.empty()) dc.device = o.device;
  const auto scorer = models::Scorer::load(o.model, dc);
  const auto& man = scorer.manifest();
  const auto& det = scorer.detection();
  if (!det.calibrated)
    std::fprintf(stderr,
                 "detect: WARNING: %s has no calibrated threshold (bundle format %d): judging by the any-miss rule "
                 "(top-%d); retrain it for scores with a false-alarm budget\n",
                 o.model.c_str(), man.format_version, det.top_k);

  core::SessionInput in;
  if (!o.input.empty()) {
    if (!man.raw_input)
      throw core::LoadError(o.model + "/manifest.json: the bundle records no parser settings, so it cannot read raw "
                                      "logs; train it with --input (or a config with a parser section)");
    const auto& ri = *man.raw_input;
    // Templates as a streaming parser sees them when each line comes (logguardd's view).
    // Records as the bundle's training read them, unless the config's `input:` or --format says otherwise.
    core::RawSessionOptions ro{ri.parser, ri.session_key, ri.count_window_lines, ri.entity, ri.label, true,
                               record_format(config_input ? *config_input : ri.record, o.format), o.streams};
    in = core::read_raw_sessions(o.input, ro, man.templates);
    report_rejected("detect", in);
  } else {
    if (o.sequences.empty() || o.templates.empty())
      throw core::ConfigError("", "give --sequences and --templates, or --input RAW.log");
    in.sessions = core::read_sequences(o.sequences);
    in.templates = core::read_templates(o.templates);
  }
  if (!o.labels.empty()) {
    const auto labels = core::read_labels(o.labels);
    for (auto& s : in.sessions) {
      auto it = labels.find(s.id);
      s.label = it == labels.end() ? -1 : it->second;
    }
    in.labelled = true;
  }
  // Input templates -> bundle templates, as training calibrated them and logguardd maps them.
  // The encoder (a BERT model, ~1 s to load) is loaded only when some input template is not
  // the text (or table pattern) of a bundle template: only those go through it.
  const bool parser_texts = !o.input.empty();
  models::TemplateResolver resolver(man, nullptr);
  if (man.encoder && !o.no_encoder) {
    const bool needed = std::any_of(in.templates.begin(), in.templates.end(), [&](const core::TemplateEntry& t) {
      return resolver.resolve_without_encoder(t.text, parser_texts).how == models::Resolution::unknown;
    });
    if (needed)
      resolver = models::TemplateResolver::load(o.model);
    else
      std::fprintf(stderr, "detect: every input template is a bundle template: the template encoder is not loaded\n");
  }
  models::ResolveStats rs;
  const auto map = resolver.map_table(in.templates, &rs, parser_texts);
  std::fprintf(stderr,
               "detect: %zu input templates: %zu exact, %zu pattern, %zu similar (encoder), %zu tentative (encoder, judged "
               "in context), %zu abnormal, %zu unseen in normal training, %zu unknown\n",
               in.templates.size(), rs.exact, rs.pattern, rs.similar, rs.tentative, rs.abnormal, rs.unseen, rs.unknown);
  std::size_t unknown = 0, abnormal = 0, events = 0;
  for (auto& s : in.sessions)
    for (auto& e : s.events) {
      auto it = map.find(e);
      e = it == map.end() ? 0 : it->second;
      unknown += e == 0;
      abnormal += e == models::kAbnormalTemplate;
      ++events;
    }
  // A bundle fed logs it was not trained for would flag nearly everything: refuse instead.
  if (events > 0 && 100.0 * static_cast<double>(unknown) / static_cast<double>(events) > o.max_unknown_percent)
    throw core::LoadError(o.model + ": " + std::to_string(unknown) + " of " + std::to_string(events) +
                          " input events match no bundle template (more than --max-unknown-percent " +
                          std::to_string(static_cast<int>(o.max_unknown_percent)) +
                          "): is this the log the bundle was trained for (same format, same parser)? " +
                          (man.encoder && man.encoder->from_scratch()
                               ? "Its template encoder was trained from scratch (no pretrained weights), which maps "
                                 "few new templates: run scripts/fetch-models and retrain. "
                               : "") +
                          "Retrain on this log with `logguard train --input`, or raise --max-unknown-percent");
  const auto verdicts = scorer.score_sessions(in.sessions);
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  if (!out) throw core::LoadError(o.output + ": cannot write");
  std::size_t anomalous = 0;
  for (std::size_t i = 0; i < verdicts.size(); ++i) {
    const auto& v = verdicts[i];
    nlohmann::json j = {{"session", v.session}, {"anomalous", v.anomalous}, {"score", v.score},
                        {"threshold", det.threshold}, {"windows", v.windows}};
    if (in.labelled && in.sessions[i].label >= 0) j["label"] = in.sessions[i].label;
    if (v.evidence) {
      nlohmann::json top = nlohmann::json::array();
      for (const auto& p : v.evidence->top_k) top.push_back({{"template", template_json(p.template_id)}, {"p", p.probability}});
      j["evidence"] = {{"position", v.evidence->position},
                       {"observed", template_json(v.evidence->observed)},
                       {"rank", v.evidence->rank},
                       {"unknown_events", v.evidence->unknown_events},
                       {"novel_events", v.evidence->novel_events},
                       {"top_k", top}};
    }
    anomalous += v.anomalous;
    out << j.dump() << '\n';
  }
  std::fprintf(stderr,
               "detect: %zu sessions, %zu anomalous, %zu events (%zu unknown, %zu abnormal) (%s, %s %.3f, top-%d, stride %d) -> %s\n",
               verdicts.size(), anomalous, events, unknown, abnormal, models::to_string(man.kind),
               det.rule == models::DecisionRule::threshold ? "threshold" : "any-miss; threshold unused", det.threshold,
               scorer.top_k(), det.stride, o.output.c_str());
  return kOk;
}

}  // namespace

void register_detect(CLI::App& root, Action& action) {
  auto opts = std::make_shared<DetectOptions>();
  CLI::App* cmd = root.add_subcommand("detect", "Score sessions with a model bundle (JSON lines, one per session)");
  cmd->add_option("-m,--model", opts->model, "model bundle directory")->required();
  cmd->add_option("--sequences", opts->sequences, "session sequence file");
  cmd->add_option("--templates", opts->templates, "templates CSV of the sequence file's ids");
  cmd->add_option("--input", opts->input, "raw log file (parser, sessions and labels as the bundle records)");
  cmd->add_option("--format", opts->format,
                  "raw, json or otlp: how --input's lines are read (default: as the bundle's training read them; "
                  "field paths from the bundle or --config's input: section)");
  cmd->add_option("--stream", opts->streams, "only records whose input.stream field has this value (repeatable)");
  cmd->add_option("--labels", opts->labels, "CSV `session,label`: written beside each verdict as `label`");
  cmd->add_option("-o,--output", opts->output, "JSONL output file")->required();
  cmd->add_option("-c,--config", opts->config, "YAML config whose model.detect section overrides the bundle");
  cmd->add_option("--top-k", opts->top_k, "K (replaces the bundle's)");
  cmd->add_option("--threshold", opts->threshold, "score threshold in nats (replaces the bundle's calibrated one)");
  cmd->add_option("--rule", opts->rule, "threshold (default) or any_miss (the paper's top-K rule)");
  cmd->add_option("--threads", opts->threads, "intra-op threads");
  cmd->add_option("--batch", opts->batch, "windows per forward pass");
  cmd->add_option("--stride", opts->stride, "MSMASS window stride over long sessions (replaces the bundle's)");
  cmd->add_option("--device", opts->device, "cpu or cuda:N");
  cmd->add_option("--max-unknown-percent", opts->max_unknown_percent,
                  "refuse input whose events match no bundle template above this share (default 50)");
  cmd->add_flag("--no-encoder", opts->no_encoder,
                "resolve templates by text (and table patterns) only, ignoring the bundle's encoder (comparisons)");
  cmd->callback([opts, &action] { action = [opts] { return run_detect(*opts); }; });
}

}  // namespace logguard::daemon::detail
