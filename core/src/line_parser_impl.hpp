#pragma once
// LineParser::Impl: the parser's state and per-line pipeline
//   raw line -> strip terminator -> truncate -> UTF-8 repair -> header split -> masks
//   -> tokenize (+hash) -> Drain.
// Shared by line_parser.cpp and snapshot.cpp. Thread-safety as LineParser.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "drain.hpp"
#include "log_format.hpp"
#include "logguard/core/line_parser.hpp"
#include "masker.hpp"

namespace logguard::core {

/// Reusable per-call buffers (one in the parser for parse(), one per thread for match()).
struct LineScratch {
  std::string line;   // the (truncated) input line
  std::string utf8;   // its repaired copy, when it had invalid UTF-8
  std::vector<std::string_view> values;  // header field values
  detail::MaskScratch mask;
  std::vector<detail::Token> tokens;
  std::uint64_t seq_key = 0;  // Drain::exact_key of the token hashes
  std::string_view content;  // after header extraction
  std::string_view masked;   // after masking; tokens index into it
  bool header_matched = true;
  bool truncated = false;
  bool invalid_utf8 = false;
  bool empty = false;
};

struct LineParser::Impl {
  explicit Impl(ParserConfig c);

  /// Runs everything before Drain on `line` into `s`. Const: used by match() too.
  void prepare(std::string_view line, LineScratch& s) const;

  ParserConfig cfg;
  detail::LogFormat format;
  detail::Masker masker;
  detail::Drain drain;
  detail::Tokenizer tokenizer;
  std::uint64_t digest = 0;  // config digest, written into snapshots

  ParserStats stats;
  LineScratch scratch;
  mutable std::vector<HeaderField> header;  // last_header(), built lazily
  mutable bool header_valid = false;
  std::uint32_t last_slot = detail::kNil;
};

/// Digest of every config field that affects parsing (snapshot compatibility check).
std::uint64_t config_digest(const ParserConfig& c);

}  // namespace logguard::core
