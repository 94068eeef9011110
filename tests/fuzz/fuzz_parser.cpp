// libFuzzer target: arbitrary bytes through LineParser::parse(), match(), last_parameters(),
// save()/load(). Built with -DLOGGUARD_FUZZ=ON (clang; -fsanitize=fuzzer,address,undefined):
//   build-core-fuzz/bin/fuzz_parser -max_total_time=30 -max_len=4096
// Selector bits 1 and 2 together choose the default preset (its masks, punctuation tokens and
// typed matching); the top bit varies its distinct_words.
// The first input byte picks a configuration; the rest is split into lines at '\n'. Every
// input with the high bit of byte 0 set is also fed to load() verbatim, and every input
// corrupts a valid snapshot at chosen offsets (checksum repaired) to reach the validation.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include <xxhash.h>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"

using namespace logguard::core;

namespace {
ParserConfig config_for(std::uint8_t sel) {
  ParserConfig c;
  if (sel & 1) c.log_format = "<Date> <Time> <Pid> <Level> <Component>: <Content>";
  if (sel & 2)
    c.masks = {{"blk", "hdfs_block", "", "<*>"}, {"ip", "ipv4", "", "<*>"}, {"num", "number", "", "<*>"}};
  if (sel & 4)
    c.masks.insert(c.masks.end(), {{"v6", "ipv6", "", "<*>"}, {"p", "path", "", "<*>"}, {"u", "url", "", "<*>"},
                                   {"h", "hex", "", "<*>"}, {"d", "datetime", "", "<*>"}, {"m", "mac", "", "<*>"},
                                   {"id", "uuid", "", "<*>"}, {"re", "", R"(user=\w+)", "<U>"}});
  if ((sel & 6) == 6) {  // the default preset: its built-in masks, punctuation tokens, typed matching
    ParserConfig preset;
    parser_preset("default", &preset);
    c.masks = preset.masks;
    c.drain.punctuation_tokens = preset.drain.punctuation_tokens;
    c.drain.wildcard_match = WildcardMatch::typed;
    c.drain.distinct_words = 2 + (sel >> 7);
    c.drain.template_style = TemplateStyle::loghub2;
  }
  if (sel & 8) c.drain.max_clusters = 4;
  if (sel & 16) c.drain.extra_delimiters = (sel & 6) == 6 ? "#" : "=,:";  // (not one of the punctuation tokens)
  if ((sel & 6) != 6 && (sel & 32)) c.drain.wildcard_match = (sel & 64) ? WildcardMatch::any : WildcardMatch::never;
  if ((sel & 96) == 64) c.drain.depth = 6;
  c.max_line_bytes = 512;
  return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ParserConfig cfg = config_for(data[0]);
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  LineParser p(cfg);
  std::size_t pos = 0;
  while (pos <= in.size()) {
    std::size_t end = in.find('\n', pos);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view line = in.substr(pos, end - pos);
    const ParseResult r = p.parse(line);
    if (r.template_id == kNoTemplate) __builtin_trap();
    if (p.template_text(r.template_id) != r.template_text) __builtin_trap();
    (void)p.last_parameters();
    (void)p.last_header();
    if (p.match(line) == kNoTemplate && r.change == ChangeKind::none) __builtin_trap();
    pos = end + 1;
  }
  // Snapshot round trip must reproduce the state exactly.
  std::ostringstream out;
  p.save(out);
  std::istringstream back(out.str());
  LineParser q = LineParser::load(back, cfg, "fuzz");
  if (q.templates() != p.templates()) __builtin_trap();
  std::ostringstream again;
  q.save(again);
  if (again.str() != out.str()) __builtin_trap();
  // Structure-aware corruption: change bytes of the valid snapshot at input-chosen places
  // and repair the checksum, so the section validation itself is exercised. The result
  // must load (and then parse) or throw LoadError.
  {
    std::string snap = out.str();
    const std::size_t body = snap.size() - 8;
    for (std::size_t k = 0; k + 3 <= in.size() && k < 24 && body > 24; k += 3) {
      const std::size_t at = 24 + (static_cast<std::uint8_t>(in[k]) | static_cast<std::uint8_t>(in[k + 1]) << 8) % (body - 24);
      snap[at] = in[k + 2];
    }
    const std::uint64_t sum = XXH3_64bits(snap.data(), body);
    for (int i = 0; i < 8; ++i) snap[body + i] = static_cast<char>(static_cast<std::uint8_t>(sum >> (8 * i)));
    std::istringstream bad(snap);
    try {
      LineParser r = LineParser::load(bad, cfg, "fuzz-mutated");
      (void)r.parse(in.substr(0, in.find('\n')));
      (void)r.templates();
    } catch (const LoadError&) {
    }
  }
  // Raw bytes as a snapshot: must either load or throw LoadError.
  if ((data[0] & 0x80) != 0) {
    std::istringstream raw{std::string(in)};
    try {
      (void)LineParser::load(raw, cfg, "fuzz-raw");
    } catch (const LoadError&) {
    }
  }
  return 0;
}
