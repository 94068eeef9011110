// `logguard train`: fit MSMASS or DeepLog on normal sessions, fine-tune the template encoder,
// calibrate the threshold on the held-out sessions and write a model bundle.
#include <algorithm>
#include <limits>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "commands.hpp"
#include "logguard/core/error.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/config/config_loader.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/template_resolver.hpp"
#include "logguard/models/trainer.hpp"
#include "logguard/pipeline/feedback.hpp"
#include "encoder_training.hpp"
#include "logguard/core/session_reader.hpp"

namespace logguard::daemon::detail {
namespace {

struct TrainOptions {
  std::string config, out, sequences, templates, input, model, abnormal_sequences, labels, format;
  std::vector<std::string> streams, feedback;
  std::string feedback_stream;
  int threads = 0;
  bool encoder_only = false, recalibrate = false;
};

// Templates labelled abnormal by the sessions in `range`: with per-event labels, those seen on
// abnormal lines and never on normal ones; with session labels only, those of anomalous
// sessions that no normal session holds.
std::set<std::uint32_t> labelled_abnormal_ids(const std::vector<core::Session>& sessions,
                                              const std::vector<std::size_t>& range) {
  std::set<std::uint32_t> normal, abnormal;
  for (auto i : range) {
    const auto& s = sessions[i];
    for (std::size_t k = 0; k < s.events.size(); ++k) {
      const bool bad = s.event_labels.empty() ? s.label == 1 : s.event_labels[k] != 0;
      (bad ? abnormal : normal).insert(s.events[k]);
    }
  }
  for (auto id : normal) abnormal.erase(id);
  return abnormal;
}

// Records `texts` as the bundle's templates labelled abnormal; none of them stays "unseen" (an
// abnormal template resolves to abnormal, not unknown).
void set_abnormal_templates(models::BundleManifest& man, std::vector<std::string> texts) {
  const std::set<std::string> ab(texts.begin(), texts.end());
  std::erase_if(man.unseen_templates, [&](const std::string& t) { return ab.count(t) > 0; });
  man.abnormal_templates = std::move(texts);
}

std::vector<std::string> texts_of(const std::set<std::uint32_t>& ids, const std::vector<core::TemplateEntry>& table) {
  std::vector<std::string> out;
  for (const auto& t : table)
    if (ids.count(t.id)) out.push_back(t.text);
  return out;
}

// Scores the held-out sessions through the bundle as `detect` would (templates resolved by the
// bundle's resolver, encoder included) and records the calibrated detection settings.
void calibrate_bundle(const ModelSection& m, const std::string& bundle_dir, const std::vector<core::Session>& sessions,
                      const std::vector<std::size_t>& held, const std::vector<core::TemplateEntry>& table, bool windows,
                      bool parser_texts) {
  models::DetectConfig dc = m.detect;
  dc.rule = "any_miss";  // the bundle has no scale yet: only the statistics are used
  dc.threshold = -1;
  const auto scorer = models::Scorer::load(bundle_dir, dc);
  const auto resolver = models::TemplateResolver::load(bundle_dir);
  models::ResolveStats rs;
  const auto map = resolver.map_table(table, &rs, parser_texts);
  std::vector<core::Session> mapped;
  mapped.reserve(held.size());
  for (auto i : held) {
    auto s = sessions[i];
    for (auto& e : s.events) {
      auto it = map.find(e);
      e = it == map.end() ? 0 : it->second;
    }
    mapped.push_back(std::move(s));
  }
  const auto stats = scorer.session_window_stats(mapped);
  const auto& man = scorer.manifest();
  std::unordered_set<std::uint32_t> known;
  for (const auto& t : man.templates) known.insert(t.id);
  for (auto id : man.rare_templates) known.erase(id);
  std::vector<models::CalibrationUnit> units(mapped.size());
  for (std::size_t i = 0; i < mapped.size(); ++i) {
    units[i].windows = stats[i];
    units[i].label = mapped[i].label == 1 ? 1 : 0;
    units[i].events = mapped[i].events.size();
    for (auto e : mapped[i].events) units[i].unknown_events += e != models::kAbnormalTemplate && !known.count(e);
  }
  auto base = scorer.detection();
  base.rule = m.detect.rule.empty() ? models::DecisionRule::threshold : models::parse_decision_rule(m.detect.rule, "model.detect.rule");
  auto d = models::calibrate(units, windows ? "window" : "session", m.calibration, base);
  if (!windows) {  // keyed sessions: the shortest normal training session (training part and held-out)
    std::size_t shortest = std::numeric_limits<std::size_t>::max();
    for (const auto& s : sessions)
      if (s.label != 1 && !s.events.empty()) shortest = std::min(shortest, s.events.size());
    d.min_session_events = shortest == std::numeric_limits<std::size_t>::max() ? 0 : shortest;
  }
  models::attach_detection(bundle_dir, d);
  const auto& r = d.report;
  std::fprintf(stderr,
               "calibration: %zu held-out normal %ss (%zu anomalous), %zu events, %zu unknown (templates: %zu exact, "
               "%zu pattern, %zu similar, %zu tentative, %zu abnormal, %zu unseen, %zu unknown); threshold %.3f (%s, budget %.3g %%): "
               "held-out false alarms %.4f%s\n",
               r.normal_units, r.unit.c_str(), r.anomalous_units, r.events, r.unknown_events, rs.exact, rs.pattern, rs.similar,
               rs.tentative, rs.abnormal, rs.unseen, rs.unknown, d.threshold, d.threshold_method.c_str(), d.false_alarm_budget_percent,
               r.false_alarm_rate,
               r.anomalous_units ? (", recall " + std::to_string(r.recall)).c_str() : "");
  if (r.normal_units * d.false_alarm_budget_percent / 100.0 < 1.0)
    std::fprintf(stderr,
                 "calibration: %zu held-out normal %ss cannot resolve a %.3g %% budget: the threshold is the highest "
                 "held-out score (expect about 1/%zu false alarms); more training data or a larger "
                 "model.train.validation_fraction gives a finer threshold\n",
                 r.normal_units, r.unit.c_str(), d.false_alarm_budget_percent, r.normal_units + 1);
  if (d.min_session_events > 1)
    std::fprintf(stderr, "calibration: sessions shorter than %zu events (the shortest normal training session) are anomalous\n",
                 d.min_session_events);
}

// Windows an operator marked false alarm (issue #20): confirmed normal, so trained on as
// normal sessions of their own. Their template texts join the input's template table (a text
// the input lacks gets a new id); pseudo templates (<unknown>, <abnormal>, ...) are left out.
// A pseudo template's name in a feedback window (anomaly records name them so), or a template
// whose text the record did not carry.
bool pseudo_template(const std::string& t) {
  return t.empty() || t == "<unknown>" || t == "<abnormal>" || t == "<end-of-session>" || t == "<start-of-session>" ||
         t.rfind("<template ", 0) == 0;
}

void add_feedback_windows(core::SessionInput& in, const std::vector<std::string>& files, const std::string& stream) {
  std::unordered_map<std::string, std::uint32_t> id_of;
  std::uint32_t next = 1;
  for (const auto& t : in.templates) {
    id_of.emplace(t.text, t.id);
    next = std::max(next, t.id + 1);
  }
  std::size_t windows = 0, events = 0, added = 0, skipped = 0;
  for (const auto& file : files) {
    std::ifstream f(file, std::ios::binary);
    if (!f) throw core::LoadError(file + ": cannot open the feedback records");
    FeedbackBook book;  // the last record of a key wins, as in the store
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) book.apply("", line);
    if (book.stats().malformed > 0)
      std::fprintf(stderr, "train: %s: %llu malformed feedback records skipped\n", file.c_str(),
                   static_cast<unsigned long long>(book.stats().malformed.load()));
    for (const auto& m : book.marks()) {
      if (m.verdict != FeedbackVerdict::false_alarm || (!stream.empty() && m.stream != stream)) continue;
      core::Session s{"feedback:" + m.stream + "/" + m.pattern, {}, in.labelled ? 0 : -1, {}};
      for (const auto& text : m.window) {
        if (pseudo_template(text)) {  // no text to learn
          ++skipped;
          continue;
        }
        auto [it, fresh] = id_of.emplace(text, next);
        if (fresh) {
          in.templates.push_back({next++, text});
          ++added;
        }
        s.events.push_back(it->second);
        if (in.labelled) s.event_labels.push_back(0);
      }
      if (s.events.empty()) continue;
      events += s.events.size();
      ++windows;
      in.sessions.push_back(std::move(s));
    }
  }
  std::fprintf(stderr,
               "train: %zu confirmed-normal windows from feedback (%zu events, %zu new templates, %zu pseudo-template "
               "events left out)\n",
               windows, events, added, skipped);
}

int run_train(const TrainOptions& o) {
  auto cfg = load_app_config(o.config);
  auto& m = cfg.model;
  if (!o.model.empty()) m.train.kind = models::parse_model_kind(o.model);
  if (o.threads > 0) m.train.threads = o.threads;
  m.train.validate();
  core::SessionInput in;
  std::optional<models::RawInputSettings> raw;
  const bool windows = m.count_window_lines > 0 || m.entity.enabled();
  if (!o.input.empty()) {
    // A raw log without a `parser:` section is parsed with the built-in default preset.
    if (!cfg.has_parser) core::parser_preset("default", &cfg.parser);
    core::RawSessionOptions ro{cfg.parser, m.session_key, m.count_window_lines, m.entity, m.label, false,
                               record_format(cfg.input, o.format), o.streams};
    in = core::read_raw_sessions(o.input, ro);
    raw = models::RawInputSettings{cfg.parser, m.session_key, m.count_window_lines, m.entity, m.label, ro.record};
    std::fprintf(stderr, "train: %zu %s -> %zu sessions, %zu templates (%zu without a session)\n", in.lines,
                 ro.record.raw() ? "lines" : "records", in.sessions.size(), in.templates.size(), in.unkeyed_lines);
    report_rejected("train", in);
    if (in.labelled) {
      std::size_t bad = 0;
      for (const auto& s : in.sessions) bad += s.label == 1;
      std::fprintf(stderr, "train: labels from field `%s`: %zu of %zu sessions hold an abnormal line%s\n",
                   m.label.field.c_str(), bad, in.sessions.size(),
                   in.unlabelled_lines ? (" (WARNING: " + std::to_string(in.unlabelled_lines) +
                                          " lines without a known label value, counted as normal)").c_str()
                                       : "");
    }
  } else {
    const auto seq = o.sequences.empty() ? m.sequences : o.sequences;
    const auto tpl = o.templates.empty() ? m.templates : o.templates;
    if (seq.empty() || tpl.empty())
      throw core::ConfigError("model.data", "give --sequences and --templates (or --input RAW.log)");
    in.sessions = core::read_sequences(seq);
    in.templates = core::read_templates(tpl);
    const auto labels_file = o.labels.empty() ? m.labels : o.labels;
    if (!labels_file.empty()) {
      const auto labels = core::read_labels(labels_file);
      std::size_t missing = 0;
      for (auto& s : in.sessions) {
        auto it = labels.find(s.id);
        if (it == labels.end()) ++missing;
        s.label = it == labels.end() ? 0 : it->second;
      }
      in.labelled = true;
      if (missing)
        std::fprintf(stderr, "train: WARNING: %zu sessions have no label in %s (counted as normal)\n", missing,
                     labels_file.c_str());
    } else {
      for (auto& s : in.sessions)
        if (s.label == 1) in.labelled = true;  // a labelled sequence format
    }
    if (cfg.parser.log_format.size() && (!m.session_key.empty() || m.count_window_lines > 0 || m.entity.enabled()))
      raw = models::RawInputSettings{cfg.parser, m.session_key, m.count_window_lines, m.entity, m.label, {}};
  }
  if (!o.feedback.empty()) add_feedback_windows(in, o.feedback, o.feedback_stream);
  if (in.labelled && m.label.normal_only) {  // labels only keep anomalous sessions out of training
    std::erase_if(in.sessions, [](const core::Session& s) { return s.label == 1; });
    for (auto& s : in.sessions) {
      s.label = 0;
      s.event_labels.clear();
    }
    in.labelled = false;
    std::fprintf(stderr, "train: label.training normal_only: %zu normal sessions kept\n", in.sessions.size());
  }
  std::vector<int> labels;
  if (in.labelled)
    for (const auto& s : in.sessions) labels.push_back(s.label == 1 ? 1 : 0);
  const auto abnormal_file = o.abnormal_sequences.empty() ? m.abnormal_sequences : o.abnormal_sequences;
  if (o.encoder_only) {  // add (or replace) the encoder of an existing bundle; MSMASS untouched
    if (!m.encoder) throw core::ConfigError("model.encoder", "--encoder-only needs a model.encoder section");
    const auto man = models::read_manifest(o.out);
    auto abnormal = man.abnormal_templates;
    if (!abnormal_file.empty()) abnormal = abnormal_templates_of(abnormal_file, in.sessions, in.templates);
    train_encoder(m, in.sessions, abnormal, o.out, o.config);
    return kOk;
  }
  if (o.recalibrate) {  // a new threshold (budget, unknown weight) for an existing bundle, same held-out part
    calibrate_bundle(m, o.out, in.sessions, models::heldout_split(m.train, in.sessions), in.templates, windows,
                     !o.input.empty());
    return kOk;
  }
  const int k = m.train.top_k > 0 ? m.train.top_k : (m.train.kind == models::ModelKind::msmass ? 5 : 9);
  std::fprintf(stderr, "train: %s on %zu sessions, %d thread(s), held-out: %s %.0f %%\n", models::to_string(m.train.kind),
               in.sessions.size(), m.train.threads, models::to_string(m.train.validation_split),
               100 * m.train.validation_fraction);
  const auto r = models::train(
      m.train, in.sessions, in.templates, o.out, raw,
      [k](const models::EpochReport& e) { std::fprintf(stderr, "%s\n", models::format_progress(e, k).c_str()); }, labels);
  std::fprintf(stderr, "train: best epoch %d of %d, val_loss %.4f, %.1f s, %zu templates -> %s\n", r.best_epoch,
               r.epochs_run, r.manifest.metrics.at("val_loss"), r.seconds, r.manifest.templates.size(), o.out.c_str());

  // Training part: the sessions not held out. Templates labelled abnormal there become the
  // encoder's negatives and are recorded in the bundle (an event of one scores as abnormal).
  std::vector<bool> is_held(in.sessions.size(), false);
  for (auto i : r.validation) is_held[i] = true;
  std::vector<std::size_t> fit_part, all;
  std::vector<core::Session> normal_fit;
  for (std::size_t i = 0; i < in.sessions.size(); ++i) {
    all.push_back(i);
    if (is_held[i]) continue;
    fit_part.push_back(i);
    if (in.sessions[i].label != 1) normal_fit.push_back(in.sessions[i]);
  }
  std::vector<std::string> abnormal;
  if (in.labelled) abnormal = texts_of(labelled_abnormal_ids(in.sessions, fit_part), in.templates);
  if (!abnormal_file.empty())
    for (auto& t : abnormal_templates_of(abnormal_file, normal_fit, in.templates)) abnormal.push_back(std::move(t));
  if (!abnormal.empty()) std::fprintf(stderr, "train: %zu templates labelled abnormal in the training part\n", abnormal.size());
  {
    auto man = models::read_manifest(o.out);
    set_abnormal_templates(man, abnormal);
    man.template_source = !o.input.empty() ? "parser" : "table";
    models::write_manifest(o.out, man);
  }
  if (m.encoder) train_encoder(m, normal_fit, abnormal, o.out, o.config);
  calibrate_bundle(m, o.out, in.sessions, r.validation, in.templates, windows, !o.input.empty());

  // After calibration, the held-out part's own abnormal templates join the bundle's list too.
  // (Added to the list: those of --abnormal-sequences stay.)
  if (in.labelled) {
    auto man = models::read_manifest(o.out);
    auto every = man.abnormal_templates;
    const std::set<std::string> have(every.begin(), every.end());
    for (auto& t : texts_of(labelled_abnormal_ids(in.sessions, all), in.templates))
      if (!have.count(t)) every.push_back(std::move(t));
    if (every.size() > man.abnormal_templates.size()) {
      std::fprintf(stderr, "train: %zu more templates labelled abnormal in the held-out part recorded\n",
                   every.size() - man.abnormal_templates.size());
      set_abnormal_templates(man, std::move(every));
      models::write_manifest(o.out, man);
    }
  }
  return kOk;
}

}  // namespace

void register_train(CLI::App& root, Action& action) {
  auto opts = std::make_shared<TrainOptions>();
  CLI::App* cmd = root.add_subcommand("train", "Train a detector on normal sessions and write a model bundle");
  cmd->add_option("-c,--config", opts->config, "YAML config with `model:` (and `parser:` for raw logs)")->required();
  cmd->add_option("-o,--out", opts->out, "bundle directory to write")->required();
  cmd->add_option("--sequences", opts->sequences, "session sequence file (replaces model.data.sequences)");
  cmd->add_option("--templates", opts->templates, "templates CSV (replaces model.data.templates)");
  cmd->add_option("--labels", opts->labels,
                  "CSV `session,label` of the training sessions (1 = anomalous; replaces model.data.labels)");
  cmd->add_option("--input", opts->input,
                  "raw log file, cut into sessions by model.data.session_key, count_window_lines or entity; "
                  "labels from model.data.label");
  cmd->add_option("--format", opts->format,
                  "raw, json or otlp: how --input's lines are read (replaces input.format; field paths from the "
                  "config's input: section)");
  cmd->add_option("--stream", opts->streams,
                  "only records whose input.stream field has this value (repeatable)");
  cmd->add_option("--feedback", opts->feedback,
                  "feedback records (`logguard feedback list --json`, or the feedback file): windows marked false "
                  "alarm are trained on as normal sessions (repeatable)");
  cmd->add_option("--feedback-stream", opts->feedback_stream, "only this stream's feedback (default: every stream's)");
  cmd->add_option("--model", opts->model, "msmass or deeplog (replaces model.kind)");
  cmd->add_option("--threads", opts->threads, "intra-op threads (replaces model.train.threads)");
  cmd->add_option("--abnormal-sequences", opts->abnormal_sequences,
                  "labelled anomalous sessions: their templates unseen in training are the encoder's negatives "
                  "(replaces model.data.abnormal_sequences)");
  cmd->add_flag("--encoder-only", opts->encoder_only,
                "only fine-tune the template encoder and add it to the existing bundle --out");
  cmd->add_flag("--recalibrate", opts->recalibrate,
                "only choose the threshold of the existing bundle --out again (model.calibration), on the same "
                "held-out part of the same input");
  cmd->callback([opts, &action] { action = [opts] { return run_train(*opts); }; });
}

}  // namespace logguard::daemon::detail
