// `logguard detect`: score every session with a model bundle, one JSON object per line.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "logguard/core/error.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/config/config_loader.hpp"
#include "logguard/models/scorer.hpp"
#include "encoder_training.hpp"
#include "logguard/core/session_reader.hpp"

namespace logguard::daemon::detail {
namespace {

struct DetectOptions {
  std::string model, sequences, templates, input, output, config;
  int top_k = 0, threads = 0, batch = 0, stride = 0;
  std::string device;
};

nlohmann::json template_json(std::uint32_t id) {
  if (id == models::kEndOfSession) return "<end-of-session>";
  if (id == 0) return "<unknown>";
  return id;
}

int run_detect(const DetectOptions& o) {
  models::DetectConfig dc;
  if (!o.config.empty()) dc = load_app_config(o.config).model.detect;
  if (o.top_k > 0) dc.top_k = o.top_k;
  if (o.threads > 0) dc.threads = o.threads;
  if (o.batch > 0) dc.batch_windows = o.batch;
  if (o.stride > 0) dc.stride = o.stride;
  if (!o.device.empty()) dc.device = o.device;
  const auto scorer = models::Scorer::load(o.model, dc);
  const auto& man = scorer.manifest();

  core::SessionInput in;
  if (!o.input.empty()) {
    if (!man.raw_input) throw core::LoadError(o.model + "/manifest.json: bundle records no parser settings for raw logs");
    in = core::read_raw_sessions(o.input, man.raw_input->parser, man.raw_input->session_key,
                           man.raw_input->count_window_lines, man.templates);
  } else {
    if (o.sequences.empty() || o.templates.empty())
      throw core::ConfigError("", "give --sequences and --templates, or --input RAW.log");
    in.sessions = core::read_sequences(o.sequences);
    in.templates = core::read_templates(o.templates);
  }
  // With an encoder in the bundle every input template is mapped by similarity (issue #4);
  // without, by id / normalized text.
  SemanticMapStats sem;
  const auto map = man.encoder ? map_templates_semantic(o.model, in.templates, &sem)
                               : models::map_templates(man.templates, in.templates);
  if (man.encoder)
    std::fprintf(stderr, "detect: encoder mapped %zu input templates: %zu known, %zu abnormal, %zu unknown (S %.3f)\n",
                 in.templates.size(), sem.known, sem.abnormal, sem.unknown, man.encoder->threshold);
  std::size_t unknown = 0;
  for (auto& s : in.sessions)
    for (auto& e : s.events) {
      auto it = map.find(e);
      e = it == map.end() ? 0 : it->second;
      unknown += e == 0;
    }
  const auto verdicts = scorer.score_sessions(in.sessions);
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  if (!out) throw core::LoadError(o.output + ": cannot write");
  std::size_t anomalous = 0;
  for (const auto& v : verdicts) {
    nlohmann::json j = {{"session", v.session}, {"anomalous", v.anomalous}, {"score", v.score}, {"windows", v.windows}};
    if (v.evidence) {
      nlohmann::json top = nlohmann::json::array();
      for (const auto& p : v.evidence->top_k) top.push_back({{"template", template_json(p.template_id)}, {"p", p.probability}});
      j["evidence"] = {{"position", v.evidence->position},
                       {"observed", v.evidence->unknown ? nlohmann::json("<unknown>") : template_json(v.evidence->observed)},
                       {"top_k", top}};
    }
    anomalous += v.anomalous;
    out << j.dump() << '\n';
  }
  std::fprintf(stderr, "detect: %zu sessions, %zu anomalous, %zu unknown events (%s, top-%d) -> %s\n", verdicts.size(),
               anomalous, unknown, models::to_string(man.kind), scorer.top_k(), o.output.c_str());
  return kOk;
}

}  // namespace

void register_detect(CLI::App& root, Action& action) {
  auto opts = std::make_shared<DetectOptions>();
  CLI::App* cmd = root.add_subcommand("detect", "Score sessions with a model bundle (JSON lines, one per session)");
  cmd->add_option("-m,--model", opts->model, "model bundle directory")->required();
  cmd->add_option("--sequences", opts->sequences, "session sequence file");
  cmd->add_option("--templates", opts->templates, "templates CSV of the sequence file's ids");
  cmd->add_option("--input", opts->input, "raw log file (parser settings from the bundle)");
  cmd->add_option("-o,--output", opts->output, "JSONL output file")->required();
  cmd->add_option("-c,--config", opts->config, "YAML config whose model.detect section applies");
  cmd->add_option("--top-k", opts->top_k, "K (replaces the bundle's default)");
  cmd->add_option("--threads", opts->threads, "intra-op threads");
  cmd->add_option("--batch", opts->batch, "windows per forward pass");
  cmd->add_option("--stride", opts->stride, "MSMASS window stride over long sessions");
  cmd->add_option("--device", opts->device, "cpu or cuda:N");
  cmd->callback([opts, &action] { action = [opts] { return run_detect(*opts); }; });
}

}  // namespace logguard::daemon::detail
