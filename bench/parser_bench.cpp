// bench_parser: single-thread throughput and memory of logguard::core::LineParser.
//
//   bench_parser [--input FILE] [--lines N] [--templates K] [--only NAME]
//
// Reads FILE (default: shared HDFS_5k.log) into memory and times LineParser::parse() over
// N lines (default 2,000,000; the file is replayed cyclically) for these configurations,
// each with a fresh parser. One untimed-in-the-main-figure warm-up pass over the distinct
// lines creates the templates first (its own rate is printed as warmup_lines/s); lines/s
// is the steady state over the N replayed lines that follow:
//   format+masks  HDFS log_format + built-in masks hdfs_block, ipv4 (with port), number
//                 (mirrors configs/loghub/HDFS.yaml)
//   masks-only    same masks, no log_format (the whole line is the content)
//   format-only   log_format, no masks
//   format+re2    log_format + the same three masks written as RE2 regexes
//   hdfs-yaml     configs/loghub/HDFS.yaml: built-in masks hdfs_block_list, number
//   preset-default  the built-in default preset (parser: {preset: default}) with the HDFS
//                 log_format: every built-in mask of the preset, punctuation tokens, typed Drain
//   preset-noformat the default preset alone (no log_format: the header is content too)
//   templates-K   format+masks over a synthesized corpus with about K distinct templates:
//                 every content token that the masks do not replace entirely (numbers,
//                 blk ids, ip:port) gets the suffix "_<code(v)>" for a variant v in [0, V),
//                 V = ceil(K / T) where T is the number of templates format+masks finds in
//                 FILE. Variants share no constant token, so every (template, variant)
//                 pair is its own template; three tokens "v_<code(v)>" are appended so that
//                 mostly-variable lines of two variants stay below the threshold. A pool of 200,000 lines
//                 with (line, variant) drawn by a fixed-seed PRNG is replayed cyclically;
//                 an untimed calibration pass rescales V when variants merge (templates whose
//                 only constants contain digits are shared by all variants).
//   templates-1var  the same synthesized line shapes with a single variant (T templates):
//                 the few-template control for the 10k ratio.
// Reports lines/s, clusters, memory_bytes()/cluster_count() and peak RSS (getrusage;
// process-wide maximum so far).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/line_parser.hpp"

using namespace logguard::core;

namespace {

#ifndef LOGGUARD_DEFAULT_INPUT
#define LOGGUARD_DEFAULT_INPUT "../shared/data/hdfs/raw-5k/HDFS_5k.log"
#endif

ParserConfig hdfs_config(bool format, int masks /*0 none, 1 builtin, 2 re2, 3 HDFS.yaml*/) {
  ParserConfig c;
  if (format) c.log_format = "<Date> <Time> <Pid> <Level> <Component>: <Content>";
  if (masks == 3) {  // configs/loghub/HDFS.yaml as of this benchmark
    c.masks = {{"blocks", "hdfs_block_list", "", "<*>"}, {"num", "number", "", "<*>"}};
  } else if (masks == 1) {
    c.masks = {{"blk", "hdfs_block", "", "<*>"}, {"ip", "ipv4", "", "<*>"}, {"num", "number", "", "<*>"}};
  } else if (masks == 2) {
    c.masks = {{"blk", "", R"(blk_-?\d+)", "<*>"},
               {"ip", "", R"((?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?)", "<*>"},
               {"num", "", R"(\b-?\d+\b)", "<*>"}};
  }
  c.drain.depth = 4;
  c.drain.similarity_threshold = 0.5;
  c.drain.max_children = 100;
  return c;
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

struct Result {
  double lines_per_s = 0;
  std::size_t clusters = 0;
  double bytes_per_template = 0;
};

// The replay pool as one contiguous buffer (as lines sit in a reader's buffer).
struct Pool {
  std::string data;
  std::vector<std::string_view> lines;
  explicit Pool(const std::vector<std::string>& src) {
    std::size_t total = 0;
    for (const auto& l : src) total += l.size() + 1;
    data.reserve(total);
    std::vector<std::size_t> offs;
    for (const auto& l : src) {
      offs.push_back(data.size());
      data += l;
      data += '\n';
    }
    for (std::size_t i = 0; i < src.size(); ++i) lines.emplace_back(data.data() + offs[i], src[i].size());
  }
};

Result run(const std::string& name, const ParserConfig& cfg, const std::vector<std::string>& src, std::size_t n) {
  const Pool pool(src);
  LineParser p(cfg);
  std::uint64_t sink = 0;
  // Warm-up: one pass over the pool (creates the templates), timed separately.
  const auto w0 = std::chrono::steady_clock::now();
  for (const auto l : pool.lines) sink += p.parse(l).template_id;
  const double warm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sink += p.parse(pool.lines[k]).template_id;
    if (++k == pool.lines.size()) k = 0;
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(t1 - t0).count();
  Result r;
  r.lines_per_s = static_cast<double>(n) / s;
  r.clusters = p.cluster_count();
  r.bytes_per_template = r.clusters ? static_cast<double>(p.memory_bytes()) / static_cast<double>(r.clusters) : 0;
  std::printf("%-14s warmup_lines=%zu warmup_lines/s=%.0f | lines=%zu  time=%.3f s  lines/s=%.0f  clusters=%zu  bytes/template=%.0f  "
              "scans=%llu  scored=%llu  peak_rss=%.1f MiB  (checksum %llu)\n",
              name.c_str(), pool.lines.size(), static_cast<double>(pool.lines.size()) / warm_s, n, s, r.lines_per_s, r.clusters, r.bytes_per_template,
              static_cast<unsigned long long>(p.stats().similarity_scans),
              static_cast<unsigned long long>(p.stats().candidates_scored), peak_rss_kib() / 1024.0,
              static_cast<unsigned long long>(sink));
  std::fflush(stdout);
  return r;
}

std::string code(std::size_t v) {  // 0 -> "a", 25 -> "z", 26 -> "ba", ... (letters only)
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('a' + v % 26));
    v /= 26;
  } while (v != 0);
  return s;
}

// True for tokens the HDFS masks replace entirely (numbers, blk ids, ip[:port], "/ip:port").
bool masked_whole(std::string_view tok) {
  if (!tok.empty() && tok.front() == '/') tok.remove_prefix(1);
  if (tok.rfind("blk_", 0) == 0) return true;
  if (tok.empty()) return false;
  for (char c : tok)
    if (!((c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-')) return false;
  return true;
}

// The line with every content token that the masks do not replace entirely suffixed by
// "_<code(v)>", so that variants share no constant token.
std::string variant(const std::string& line, std::size_t v) {
  const std::size_t colon = line.find(": ");
  if (colon == std::string::npos) return line;
  std::string out = line.substr(0, colon + 2);
  const std::string suffix = std::string("_").append(code(v));
  std::size_t i = colon + 2;
  while (i < line.size()) {
    if (line[i] == ' ') {
      out.push_back(' ');
      ++i;
      continue;
    }
    std::size_t e = line.find(' ', i);
    if (e == std::string::npos) e = line.size();
    const std::string_view tok(line.data() + i, e - i);
    out.append(tok);
    if (!masked_whole(tok)) out += suffix;
    i = e;
  }
  // Three more variant-only constants keep variants apart even where the line is mostly
  // variables (at similarity threshold 0.5).
  for (int k = 0; k < 3; ++k) out += " v" + suffix;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input = LOGGUARD_DEFAULT_INPUT;
  std::size_t n = 2'000'000, templates = 10'000;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value for " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--input") input = next();
    else if (a == "--lines") n = std::stoull(next());
    else if (a == "--templates") templates = std::stoull(next());
    else if (a == "--only") only = next();
    else {
      std::cerr << "usage: bench_parser [--input FILE] [--lines N] [--templates K] [--only NAME]\n";
      return 2;
    }
  }
  std::ifstream f(input, std::ios::binary);
  if (!f) {
    std::cerr << "cannot open " << input << "\n";
    return 1;
  }
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  for (std::string l; std::getline(f, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    bytes += l.size() + 1;
    lines.push_back(std::move(l));
  }
  if (lines.empty()) {
    std::cerr << input << ": no lines\n";
    return 1;
  }
  std::printf("input=%s  distinct_lines=%zu  avg_bytes=%.1f  replayed_to=%zu\n", input.c_str(), lines.size(),
              static_cast<double>(bytes) / static_cast<double>(lines.size()), n);
  auto want = [&](const std::string& name) { return only.empty() || name.rfind(only, 0) == 0; };

  Result base;
  if (want("format+masks") || want("templates")) base = run("format+masks", hdfs_config(true, 1), lines, n);
  if (want("masks-only")) run("masks-only", hdfs_config(false, 1), lines, n);
  if (want("format-only")) run("format-only", hdfs_config(true, 0), lines, n);
  if (want("format+re2")) run("format+re2", hdfs_config(true, 2), lines, n);
  if (want("hdfs-yaml")) run("hdfs-yaml", hdfs_config(true, 3), lines, n);
  if (want("preset-default") || want("preset-noformat")) {
    ParserConfig preset;
    parser_preset("default", &preset);
    if (want("preset-noformat")) run("preset-noformat", preset, lines, n);
    preset.log_format = hdfs_config(true, 0).log_format;
    if (want("preset-default")) run("preset-default", preset, lines, n);
  }
  if (want("templates") && templates > 0) {
    const std::size_t t_base = std::max<std::size_t>(1, base.clusters);
    std::size_t variants = (templates + t_base - 1) / t_base;
    std::vector<std::string> pool;
    auto make_pool = [&] {
      std::mt19937_64 rng(42);
      pool.clear();
      const std::size_t pool_size = 200'000;
      pool.reserve(pool_size);
      for (std::size_t i = 0; i < pool_size; ++i) {
        const std::size_t line = rng() % lines.size();
        pool.push_back(variant(lines[line], rng() % variants));
      }
    };
    // Some base templates share digit-bearing constant tokens across variants and merge;
    // one untimed calibration pass scales the variant count so that about K remain.
    make_pool();
    for (int round = 0; round < 3; ++round) {
      LineParser probe(hdfs_config(true, 1));
      for (const auto& l : pool) probe.parse(l);
      const std::size_t got = std::max<std::size_t>(1, probe.cluster_count());
      if (got >= templates * 98 / 100) break;
      variants = (variants * templates + got - 1) / got;
      make_pool();
    }
    const Result r = run("templates-" + std::to_string(templates), hdfs_config(true, 1), pool, n);
    // Control with the same line shapes (suffixes, extra tokens) but one variant.
    const std::size_t keep_variants = variants;
    variants = 1;
    make_pool();
    const Result one = run("templates-1var", hdfs_config(true, 1), pool, n);
    std::printf("templates-%zu / templates-1var throughput = %.1f%%  (variants=%zu; vs format+masks %.1f%%)\n",
                templates, 100.0 * r.lines_per_s / one.lines_per_s, keep_variants,
                base.lines_per_s > 0 ? 100.0 * r.lines_per_s / base.lines_per_s : 0.0);
  }
  return 0;
}
