// bench_parse_batch: many small parse runs in one process, for the accuracy benchmarks
// (bench/parser_cv.py). `logguard parse` loads LibTorch at start-up (~1 s); this core-only
// driver parses with the same LineParser, so a grid of hundreds of runs takes seconds.
//
// One job per stdin line, tab-separated key=value pairs:
//   in=FILE out=FILE [from=N] [to=N] [preset=default|none] [format=LOG_FORMAT]
//   [st=X] [depth=N] [mode=masked|never|any|typed] [style=drain|loghub2] [drop=mask1,mask2]
// Lines [from, to) of FILE (0-based, default all) are parsed by a fresh parser; `out` gets one
// line per input line: the template emitted for it, a tab, the final template of its cluster.
// Prints "ok" or "error: ..." per job on stdout.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/core/line_parser.hpp"

using namespace logguard::core;

namespace {

std::map<std::string, std::string> fields(const std::string& line) {
  std::map<std::string, std::string> kv;
  std::stringstream ss(line);
  std::string item;
  while (std::getline(ss, item, '\t')) {
    const auto eq = item.find('=');
    if (eq != std::string::npos) kv[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return kv;
}

void run(const std::map<std::string, std::string>& kv) {
  auto get = [&](const char* k, const std::string& def = "") {
    const auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  };
  ParserConfig cfg;
  const std::string preset = get("preset", "default");
  if (preset != "none" && !parser_preset(preset, &cfg)) throw std::runtime_error("unknown preset " + preset);
  cfg.log_format = get("format");
  if (kv.count("st")) cfg.drain.similarity_threshold = std::stod(get("st"));
  if (kv.count("depth")) cfg.drain.depth = std::stoi(get("depth"));
  if (kv.count("kw")) cfg.drain.distinct_words = std::stoi(get("kw"));
  if (kv.count("punct")) cfg.drain.punctuation_tokens = get("punct") == "none" ? "" : get("punct");
  if (kv.count("mode") && !wildcard_match_from_name(get("mode"), &cfg.drain.wildcard_match))
    throw std::runtime_error("bad mode");
  if (kv.count("style") && !template_style_from_name(get("style"), &cfg.drain.template_style))
    throw std::runtime_error("bad style");
  std::stringstream drop(get("drop"));
  for (std::string name; std::getline(drop, name, ',');)
    std::erase_if(cfg.masks, [&](const MaskRule& m) { return m.name == name; });

  std::ifstream in(get("in"), std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + get("in"));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const std::size_t from = std::stoul(get("from", "0"));
  const std::size_t to = std::min(lines.size(), static_cast<std::size_t>(std::stoul(get("to", "1000000000"))));

  LineParser parser(cfg);
  std::vector<std::string> emitted;
  std::vector<TemplateId> ids;
  for (std::size_t i = from; i < to; ++i) {
    const ParseResult r = parser.parse(lines[i]);
    emitted.emplace_back(r.template_text);
    ids.push_back(r.template_id);
  }
  std::ofstream out(get("out"), std::ios::binary | std::ios::trunc);
  for (std::size_t i = 0; i < ids.size(); ++i) out << emitted[i] << '\t' << parser.template_text(ids[i]) << '\n';
  if (!out) throw std::runtime_error("cannot write " + get("out"));
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    try {
      run(fields(line));
      std::cout << "ok\n";
    } catch (const std::exception& e) {
      std::cout << "error: " << e.what() << "\n";
    }
    std::cout.flush();
  }
  return 0;
}
