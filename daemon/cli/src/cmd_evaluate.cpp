// `logguard evaluate`: precision / recall / F1 of detect's JSONL against session labels.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "commands.hpp"
#include "logguard/core/error.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/cli/cli.hpp"

namespace logguard::daemon::detail {
namespace {

struct EvaluateOptions {
  std::string predictions, labels;
};

int run_evaluate(const EvaluateOptions& o) {
  std::ifstream in(o.predictions, std::ios::binary);
  if (!in) throw core::LoadError(o.predictions + ": cannot open file");
  std::unordered_map<std::string, bool> pred;
  std::unordered_map<std::string, int> embedded;  // `label` written by detect (raw logs with labels)
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      const auto session = j.at("session").get<std::string>();
      pred[session] = j.at("anomalous").get<bool>();
      if (j.contains("label")) embedded[session] = j["label"].get<int>();
    } catch (const nlohmann::json::exception& e) {
      throw core::LoadError(o.predictions + ":" + std::to_string(n) + ": " + e.what());
    }
  }
  if (o.labels.empty() && embedded.empty())
    throw core::ConfigError("--labels", "the predictions carry no `label`: give a labels CSV (session,label)");
  const auto labels = o.labels.empty() ? embedded : core::read_labels(o.labels);
  std::size_t tp = 0, fp = 0, fn = 0, tn = 0, missing = 0;
  for (const auto& [session, label] : labels) {
    auto it = pred.find(session);
    const bool p = it != pred.end() && it->second;  // a missing prediction counts as normal
    missing += it == pred.end();
    if (label == 1) (p ? tp : fn)++;
    else (p ? fp : tn)++;
  }
  const double precision = tp + fp ? double(tp) / double(tp + fp) : 0.0;
  const double recall = tp + fn ? double(tp) / double(tp + fn) : 0.0;
  const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
  const double fpr = fp + tn ? double(fp) / double(fp + tn) : 0.0;  // false alarms per normal unit
  const nlohmann::json j = {{"precision", precision}, {"recall", recall}, {"f1", f1}, {"fpr", fpr},
                            {"tp", tp}, {"fp", fp}, {"fn", fn}, {"tn", tn}, {"labelled", labels.size()},
                            {"missing_predictions", missing}};
  std::printf("%s\n", j.dump().c_str());
  return kOk;
}

}  // namespace

void register_evaluate(CLI::App& root, Action& action) {
  auto opts = std::make_shared<EvaluateOptions>();
  CLI::App* cmd = root.add_subcommand("evaluate", "Precision, recall, F1 and false-alarm rate of predictions against labels (JSON)");
  cmd->add_option("-p,--predictions", opts->predictions, "JSONL written by `logguard detect`")->required();
  cmd->add_option("-l,--labels", opts->labels,
                  "CSV `session,label` (1 = anomalous); default: the `label` detect wrote (raw logs with labels)");
  cmd->callback([opts, &action] { action = [opts] { return run_evaluate(*opts); }; });
}

}  // namespace logguard::daemon::detail
