#pragma once
// LogFormat: a compiled log-format spec such as
//   "<Date> <Time> <Pid> <Level> <Component>: <Content>"
// matched by a hand-written scanner (no regex). Fields are separated by literal text;
// a whitespace run in the spec matches a run of one or more whitespace bytes in the line.
// Each field takes the shortest text up to the first place where the following literal
// matches (like loghub's `(?P<F>.*?)` groups); the last field takes the rest of the line
// (up to a trailing literal, if any).
// Lifecycle: compiled once from the config (throws ConfigError), then immutable; match()
// is const and thread-safe.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::core::detail {

class LogFormat {
 public:
  LogFormat() = default;
  /// Compiles `spec`; throws ConfigError("log_format", ...) when malformed or when it has
  /// no <Content> field. An empty spec means "the whole line is the content".
  explicit LogFormat(const std::string& spec);

  bool empty() const noexcept { return fields_.empty(); }
  const std::vector<std::string>& field_names() const noexcept { return fields_; }

  /// Splits `line` into field values (values[i] for field_names()[i]) and returns true,
  /// or returns false when the line does not fit the spec (values then unspecified).
  bool match(std::string_view line, std::vector<std::string_view>& values) const noexcept;

  std::size_t content_index() const noexcept { return content_index_; }

 private:
  // One literal piece between fields: alternating runs, each either whitespace
  // (matches >= 1 whitespace bytes) or exact text.
  struct Piece {
    bool whitespace = false;
    std::string text;
  };
  using Literal = std::vector<Piece>;

  // Tries to match `lit` at `pos`; returns the end position or npos.
  static std::size_t match_at(const Literal& lit, std::string_view line, std::size_t pos) noexcept;
  // First position >= pos where `lit` matches; sets *end. npos if none.
  static std::size_t find(const Literal& lit, std::string_view line, std::size_t pos,
                          std::size_t* end) noexcept;

  Literal prefix_;                 // literal before the first field (may be empty)
  std::vector<char> ws_only_;      // ws_only_[i]: after_[i] is a single whitespace run (fast path)
  std::vector<std::string> fields_;
  std::vector<Literal> after_;     // after_[i]: literal after field i (last one may be empty)
  std::size_t content_index_ = 0;
};

struct SpaceTable {
  bool v[256] = {};
  constexpr SpaceTable() {
    for (unsigned char c : {' ', '\t', '\n', '\r', '\v', '\f'}) v[c] = true;
  }
};
inline constexpr SpaceTable kSpace{};
inline bool is_space_byte(unsigned char c) noexcept { return kSpace.v[c]; }

}  // namespace logguard::core::detail
