// `logguard parse`: raw log lines -> one CSV row per line (LineId,EventId,EventTemplate).
#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "logguard/pipeline/line_reader.hpp"
#include "logguard/core/csv.hpp"
#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/core/parse_csv.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/config/parser_loader.hpp"

namespace logguard::daemon::detail {
namespace {

struct ParseOptions {
  std::string config;
  std::string log_format;
  bool log_format_set = false;
  std::string input = "-";
  std::string output = "-";
  std::string load_snapshot;
  std::string save_snapshot;
  std::string templates_out;
  bool with_params = false;
  bool quiet = false;
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr && f != stdin && f != stdout) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

FilePtr open_file(const std::string& path, const char* mode) {
  if (path == "-") return FilePtr(mode[0] == 'r' ? stdin : stdout);
  FilePtr f(std::fopen(path.c_str(), mode));
  if (!f) throw core::LoadError("cannot open '" + path + "': " + std::strerror(errno));
  return f;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// Final template table, most frequent first: EventId,EventTemplate,Occurrences.
// `occurrences[id]` = lines of template id.
void write_templates(const core::LineParser& parser, const std::vector<std::uint64_t>& occurrences,
                     const std::string& path) {
  std::vector<std::pair<core::TemplateId, std::uint64_t>> order;
  for (std::size_t id = 1; id < occurrences.size(); ++id)
    if (occurrences[id] != 0) order.emplace_back(static_cast<core::TemplateId>(id), occurrences[id]);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::string text = "EventId,EventTemplate,Occurrences\n";
  for (const auto& [id, n] : order) {
    const std::string_view tpl = parser.template_text(id);
    if (tpl.empty()) continue;  // evicted since
    text += "E" + std::to_string(id) + ",";
    core::append_csv_field(text, tpl);
    text += "," + std::to_string(n) + "\n";
  }
  FilePtr f = open_file(path, "wb");
  if (std::fwrite(text.data(), 1, text.size(), f.get()) != text.size() || std::fflush(f.get()) != 0)
    throw std::runtime_error("write to '" + path + "' failed");
}

int run_parse(const ParseOptions& o) {
  // Only the `parser:` section is read: this command runs without the model libraries.
  core::ParserConfig parser_cfg;
  if (!o.config.empty())
    parser_cfg = load_parser_config(o.config);
  else
    core::parser_preset("default", &parser_cfg);  // no config: the default preset
  if (o.log_format_set) {
    parser_cfg.log_format = o.log_format;
    try {
      parser_cfg.validate();
    } catch (const core::ConfigError& e) {
      throw core::ConfigError("--log-format", e.message());
    }
  }

  core::LineParser parser = [&] {
    if (o.load_snapshot.empty()) return core::LineParser(parser_cfg);
    std::ifstream in(o.load_snapshot, std::ios::binary);
    if (!in) throw core::LoadError("cannot open snapshot '" + o.load_snapshot + "'");
    return core::LineParser::load(in, parser_cfg, o.load_snapshot);
  }();

  FilePtr in = open_file(o.input, "rb");
  FilePtr out = open_file(o.output, "wb");
  std::setvbuf(in.get(), nullptr, _IOFBF, 1 << 16);

  const auto t0 = std::chrono::steady_clock::now();
  LineReader reader(in.get(), parser_cfg.max_line_bytes);
  std::string buf;
  buf.reserve(1 << 20);
  buf += o.with_params ? "LineId,EventId,EventTemplate,Parameters\n" : "LineId,EventId,EventTemplate\n";

  std::string_view line;
  bool cut = false;
  std::string params_json;
  core::ParseCsvWriter rows;  // cached per-template row parts, line ids, occurrences
  while (reader.next(line, cut)) {
    const core::ParseResult r = parser.parse(line);
    rows.append_row(buf, r);
    if (o.with_params) {
      params_json = "[";
      bool first = true;
      for (const auto& p : parser.last_parameters()) {
        if (!first) params_json.push_back(',');
        first = false;
        append_json_string(params_json, p);
      }
      params_json.push_back(']');
      buf.push_back(',');
      core::append_csv_field(buf, params_json);
    }
    buf.push_back('\n');
    if (buf.size() >= (1 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), out.get()) != buf.size())
        throw std::runtime_error("write to '" + o.output + "' failed");
      buf.clear();
    }
  }
  if (reader.failed()) throw std::runtime_error("read from '" + o.input + "' failed");
  if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), out.get()) != buf.size())
    throw std::runtime_error("write to '" + o.output + "' failed");
  if (std::fflush(out.get()) != 0) throw std::runtime_error("write to '" + o.output + "' failed");

  if (!o.templates_out.empty()) write_templates(parser, rows.occurrences(), o.templates_out);

  if (!o.save_snapshot.empty()) {
    // Atomic replace: write a sibling temp file, then rename over the target.
    const std::string tmp = o.save_snapshot + ".tmp";
    {
      std::ofstream snap(tmp, std::ios::binary | std::ios::trunc);
      if (!snap) throw std::runtime_error("cannot write snapshot '" + tmp + "'");
      parser.save(snap);
      snap.flush();
      if (!snap) throw std::runtime_error("cannot write snapshot '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), o.save_snapshot.c_str()) != 0)
      throw std::runtime_error("cannot rename snapshot to '" + o.save_snapshot + "'");
  }

  if (!o.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& s = parser.stats();
    std::fprintf(stderr,
                 "logguard parse: %llu lines, %zu templates, %llu header mismatches, %llu truncated, "
                 "%llu invalid UTF-8, %llu empty, %.3f s\n",
                 static_cast<unsigned long long>(rows.lines()), parser.cluster_count(),
                 static_cast<unsigned long long>(s.header_mismatches),
                 static_cast<unsigned long long>(s.truncated_lines),
                 static_cast<unsigned long long>(s.invalid_utf8_lines),
                 static_cast<unsigned long long>(s.empty_lines), secs);
  }
  return kOk;
}

}  // namespace

void register_parse(CLI::App& root, Action& action) {
  auto opts = std::make_shared<ParseOptions>();
  CLI::App* cmd = root.add_subcommand("parse", "Parse raw log lines into templates (CSV: LineId,EventId,EventTemplate)");
  cmd->add_option("-c,--config", opts->config,
                  "YAML config with a `parser:` section (default: the built-in default preset, docs/parser.md)");
  cmd->add_option("--log-format", opts->log_format,
                  "header layout, e.g. '<Date> <Time> <Level> <Component>: <Content>' (overrides the config's)")
      ->each([opts](const std::string&) { opts->log_format_set = true; });
  cmd->add_option("-i,--input", opts->input, "raw log file, or - for stdin")->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "CSV output file, or - for stdout")->capture_default_str();
  cmd->add_flag("--with-params", opts->with_params, "add a Parameters column (JSON array of variable values)");
  cmd->add_option("--load-snapshot", opts->load_snapshot, "continue from a parser snapshot");
  cmd->add_option("--save-snapshot", opts->save_snapshot, "write the parser state here at the end (atomic)");
  cmd->add_option("--templates-out", opts->templates_out,
                  "also write the final templates (EventId,EventTemplate,Occurrences), most frequent first");
  cmd->add_flag("-q,--quiet", opts->quiet, "no summary line on stderr");
  cmd->callback([opts, &action] { action = [opts] { return run_parse(*opts); }; });
}

}  // namespace logguard::daemon::detail
