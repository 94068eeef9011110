// `logguard map`: map templates through a bundle's contrastive encoder (issue #4) and print each
// with its mapped template, cosine similarity and verdict; optionally the cosine-similarity
// matrix of the templates (the paper's heat map; bench/plot_similarity.py draws it).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "logguard/core/csv.hpp"
#include "logguard/core/error.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/template_mapper.hpp"

namespace logguard::daemon::detail {
namespace {

struct MapOptions {
  std::string model, templates, output, format, matrix;
  int threads = 1;
};

int run_map(const MapOptions& o) {
  models::configure_threads(o.threads);
  const auto mapper = models::TemplateMapper::load(o.model);
  const auto input = core::read_templates(o.templates);
  std::unordered_map<std::uint32_t, const std::string*> text_of;
  for (const auto& t : mapper.normal()) text_of[t.id] = &t.text;

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!o.output.empty() && o.output != "-") {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) throw core::LoadError(o.output + ": cannot write");
    out = &file;
  }
  std::string format = o.format;
  if (format.empty()) format = o.output.size() >= 6 && o.output.ends_with(".jsonl") ? "jsonl" : "csv";
  if (format != "csv" && format != "jsonl") throw core::ConfigError("--format", "must be csv or jsonl");

  std::vector<std::string> texts;
  for (const auto& t : input) texts.push_back(t.text);
  const auto results = mapper.map_batch(texts);
  std::size_t counts[4] = {0, 0, 0, 0};  // by MapVerdict
  if (format == "csv") *out << "EventId,EventTemplate,MappedId,MappedTemplate,Similarity,Verdict\n";
  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto& r = results[i];
    ++counts[static_cast<int>(r.verdict)];
    std::string mapped;
    const bool mapped_id = r.verdict == models::MapVerdict::known || r.verdict == models::MapVerdict::tentative;
    if (mapped_id) mapped = *text_of.at(r.template_id);
    else if (r.verdict == models::MapVerdict::abnormal) mapped = mapper.abnormal()[static_cast<std::size_t>(r.nearest_abnormal)];
    char sim[32];
    std::snprintf(sim, sizeof sim, "%.4f", r.similarity);
    if (format == "csv") {
      *out << input[i].id << ',' << core::csv_field(input[i].text) << ','
           << (mapped_id ? std::to_string(r.template_id) : std::string()) << ','
           << core::csv_field(mapped) << ',' << sim << ',' << models::to_string(r.verdict) << '\n';
    } else {
      nlohmann::json j = {{"id", input[i].id},
                          {"template", input[i].text},
                          {"verdict", models::to_string(r.verdict)},
                          {"similarity", std::stod(sim)},
                          {"mapped_id", mapped_id ? nlohmann::json(r.template_id) : nullptr},
                          {"mapped_template", mapped.empty() ? nlohmann::json(nullptr) : nlohmann::json(mapped)},
                          {"nearest_id", r.nearest_id},
                          {"nearest_similarity", r.nearest_similarity}};
      *out << j.dump() << '\n';
    }
  }
  out->flush();
  std::fprintf(stderr, "map: %zu templates: %zu known, %zu tentative, %zu abnormal, %zu unknown (S %.4f, tentative from %.4f, "
               "abnormal from %.4f)\n",
               input.size(), counts[0], counts[1], counts[2], counts[3], mapper.threshold(), mapper.tentative_threshold(),
               mapper.abnormal_threshold());

  if (!o.matrix.empty()) {
    // Rows/columns: the input templates, labelled by what the bundle knows about them.
    std::vector<std::string> labels;
    for (const auto& t : input) {
      std::string label = "unlabelled";
      for (const auto& n : mapper.normal())
        if (n.text == t.text) label = "normal";
      for (const auto& a : mapper.abnormal())
        if (a == t.text) label = "abnormal";
      labels.push_back(label);
    }
    const auto m = models::similarity_matrix(mapper.encoder(), texts);
    std::ofstream mo(o.matrix, std::ios::binary | std::ios::trunc);
    if (!mo) throw core::LoadError(o.matrix + ": cannot write");
    mo << "EventId,Label,EventTemplate";
    for (const auto& t : input) mo << ',' << t.id;
    mo << '\n';
    for (std::size_t i = 0; i < input.size(); ++i) {
      mo << input[i].id << ',' << labels[i] << ',' << core::csv_field(input[i].text);
      for (std::size_t j = 0; j < input.size(); ++j) {
        char b[16];
        std::snprintf(b, sizeof b, "%.4f", m[i * input.size() + j]);
        mo << ',' << b;
      }
      mo << '\n';
    }
    std::fprintf(stderr, "map: similarity matrix %zux%zu -> %s\n", input.size(), input.size(), o.matrix.c_str());
  }
  return kOk;
}

}  // namespace

void register_map(CLI::App& root, Action& action) {
  auto opts = std::make_shared<MapOptions>();
  CLI::App* cmd = root.add_subcommand("map", "Map templates through a bundle's template encoder (similarity, verdict)");
  cmd->add_option("-m,--model", opts->model, "model bundle directory with an encoder")->required();
  cmd->add_option("--templates", opts->templates, "templates CSV (EventId,EventTemplate[,...])")->required();
  cmd->add_option("-o,--output", opts->output, "output file (default stdout)");
  cmd->add_option("--format", opts->format, "csv or jsonl (default: jsonl for *.jsonl outputs, else csv)");
  cmd->add_option("--similarity-matrix", opts->matrix, "also write the templates' cosine-similarity matrix (CSV)");
  cmd->add_option("--threads", opts->threads, "intra-op threads (default 1)");
  cmd->callback([opts, &action] { action = [opts] { return run_map(*opts); }; });
}

}  // namespace logguard::daemon::detail
