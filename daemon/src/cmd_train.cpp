// `logguard train`: fit MSMASS or DeepLog on normal sessions and write a model bundle.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "logguard/core/error.hpp"
#include "logguard/daemon/cli.hpp"
#include "logguard/daemon/config_loader.hpp"
#include "logguard/models/trainer.hpp"
#include "encoder_training.hpp"
#include "model_inputs.hpp"

namespace logguard::daemon::detail {
namespace {

struct TrainOptions {
  std::string config, out, sequences, templates, input, model, abnormal_sequences;
  int threads = 0;
  bool encoder_only = false;
};

int run_train(const TrainOptions& o) {
  auto cfg = load_app_config(o.config);
  auto& m = cfg.model;
  if (!o.model.empty()) m.train.kind = models::parse_model_kind(o.model);
  if (o.threads > 0) m.train.threads = o.threads;
  m.train.validate();
  SessionInput in;
  std::optional<models::RawInputSettings> raw;
  if (!o.input.empty()) {
    // A raw log without a `parser:` section is parsed with the built-in default preset.
    if (!cfg.has_parser) core::parser_preset("default", &cfg.parser);
    in = read_raw_sessions(o.input, cfg.parser, m.session_key, m.count_window_lines);
    raw = models::RawInputSettings{cfg.parser, m.session_key, m.count_window_lines};
    std::fprintf(stderr, "train: %zu lines -> %zu sessions, %zu templates (%zu lines without a session key)\n",
                 in.lines, in.sessions.size(), in.templates.size(), in.unkeyed_lines);
  } else {
    const auto seq = o.sequences.empty() ? m.sequences : o.sequences;
    const auto tpl = o.templates.empty() ? m.templates : o.templates;
    if (seq.empty() || tpl.empty())
      throw core::ConfigError("model.data", "give --sequences and --templates (or --input RAW.log)");
    in.sessions = core::read_sequences(seq);
    in.templates = core::read_templates(tpl);
    if (cfg.parser.log_format.size() && (!m.session_key.empty() || m.count_window_lines > 0))
      raw = models::RawInputSettings{cfg.parser, m.session_key, m.count_window_lines};
  }
  const auto abnormal = o.abnormal_sequences.empty() ? m.abnormal_sequences : o.abnormal_sequences;
  if (o.encoder_only) {  // add (or replace) the encoder of an existing bundle; MSMASS untouched
    if (!m.encoder) throw core::ConfigError("model.encoder", "--encoder-only needs a model.encoder section");
    train_encoder(m, in.sessions, in.templates, abnormal, o.out);
    return kOk;
  }
  const int k = m.train.top_k > 0 ? m.train.top_k : (m.train.kind == models::ModelKind::msmass ? 5 : 9);
  std::fprintf(stderr, "train: %s on %zu sessions, %d thread(s)\n", models::to_string(m.train.kind), in.sessions.size(),
               m.train.threads);
  const auto r = models::train(m.train, in.sessions, in.templates, o.out, raw, [k](const models::EpochReport& e) {
    std::fprintf(stderr, "%s\n", models::format_progress(e, k).c_str());
  });
  std::fprintf(stderr, "train: best epoch %d of %d, val_loss %.4f, %.1f s -> %s\n", r.best_epoch, r.epochs_run,
               r.manifest.metrics.at("val_loss"), r.seconds, o.out.c_str());
  if (m.encoder)  // issue #4: contrastive template encoder, written into the same bundle
    train_encoder(m, in.sessions, in.templates, abnormal, o.out);
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
  cmd->add_option("--input", opts->input, "raw log file, parsed and keyed by model.data.session_key (or cut into model.data.count_window_lines)");
  cmd->add_option("--model", opts->model, "msmass or deeplog (replaces model.kind)");
  cmd->add_option("--threads", opts->threads, "intra-op threads (replaces model.train.threads)");
  cmd->add_option("--abnormal-sequences", opts->abnormal_sequences,
                  "labelled anomalous sessions: their templates unseen in training are the encoder's negatives "
                  "(replaces model.data.abnormal_sequences)");
  cmd->add_flag("--encoder-only", opts->encoder_only,
                "only fine-tune the template encoder and add it to the existing bundle --out");
  cmd->callback([opts, &action] { action = [opts] { return run_train(*opts); }; });
}

}  // namespace logguard::daemon::detail
