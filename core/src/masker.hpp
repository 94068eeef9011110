#pragma once
// Masker: replaces variable parts of a log message (numbers, addresses, ids, ...) by a
// replacement token (default "<*>") before Drain sees it.
//
// Rules run in configured order. Consecutive built-in rules form one single pass over
// the text: at every position that starts a sub-token (start of text, or the previous
// byte is not [A-Za-z0-9]) the built-in scanners are tried in configured order, and the
// first one whose match also ends at a sub-token boundary (end of text, or the next byte
// is not [A-Za-z0-9]) wins. So "blk_-123" -> "<*>" (hdfs_block) and "/10.0.0.1:50010" ->
// "/<*>" (ipv4 with port), while "abc123" and "64MB" are left alone. A regex rule is a
// separate RE2 pass replacing every match. Each pass records its replacements so that
// parameters can be mapped back to the original text.
//
// Lifecycle: built once from the config (throws ConfigError on an unknown built-in or a
// bad regex); apply() is const and thread-safe (all state lives in the caller's buffers).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/parser_config.hpp"

namespace re2 {
class RE2;
}

namespace logguard::core::detail {

/// One replacement made by one pass: input range [in_begin, in_end) of that pass became
/// output range [out_begin, out_end).
struct Replacement {
  std::uint32_t in_begin, in_end, out_begin, out_end;
};

/// Caller-owned buffers for apply(); reusing one avoids allocation in steady state.
struct MaskScratch {
  std::string buf[2];  // raw output buffers; only grow (their size is capacity, not length)
  std::vector<Replacement> reps;          // all passes, in pass order
  std::vector<std::uint32_t> pass_begin;  // reps index where each executed pass starts
};

enum class Builtin : std::uint8_t {
  ipv4, ipv6, hex, number, hdfs_block, hdfs_block_list, uuid, path, url, mac, datetime,
  numeric, hostport, hostname, quoted, textdate, empty_value,
  value_list  // not a scanner: makes a comma-separated list of this pass's matches one match
};

/// Parses a built-in name; false if unknown.
bool builtin_from_name(std::string_view name, Builtin* out) noexcept;

/// Length of the built-in token starting at text[pos] (0 = no match). Does not check the
/// left boundary; does check that the match ends at a sub-token boundary.
std::size_t scan_builtin(Builtin kind, std::string_view text, std::size_t pos) noexcept;

class Masker {
 public:
  Masker();
  explicit Masker(const std::vector<MaskRule>& rules);
  ~Masker();
  Masker(Masker&&) noexcept;
  Masker& operator=(Masker&&) noexcept;

  bool empty() const noexcept { return passes_.empty(); }

  /// Masks `text`; returns a view of the result (into `s.buf`, or `text` itself when
  /// there are no rules). Never throws once `s` buffers have grown.
  std::string_view apply(std::string_view text, MaskScratch& s) const;

  /// Maps the range [begin, end) of the masked text back to the original text.
  static void map_back(const MaskScratch& s, std::size_t* begin, std::size_t* end) noexcept;

 private:
  struct BuiltinRule {
    Builtin kind;
    std::string replacement;
    bool can_start[256] = {};  // bytes that may start a match of this rule
  };
  struct Pass {
    std::vector<BuiltinRule> builtins;   // built-in pass (regex == nullptr)
    std::shared_ptr<re2::RE2> regex;     // else: regex pass
    bool merge_lists = false;            // built-in pass with a value_list rule
    bool prefilter = false;              // try scanners only where possible() allows
    std::string replacement;
    bool can_start[256] = {};            // built-in pass: bytes that may start a match
    bool digit_gated = true;             // every rule's match contains a digit
  };
  // Output goes to a raw buffer `out` (sized by apply() for the worst case); `len` is
  // the number of bytes written.
  void run_builtins(const Pass& p, std::string_view in, char* out, std::size_t& len,
                    std::vector<Replacement>& reps) const;
  static void scan_range(const Pass& p, std::string_view in, std::size_t i, std::size_t end,
                         std::size_t& copied, char* out, std::size_t& len, std::vector<Replacement>& reps,
                         std::size_t p_first);
  void run_regex(const Pass& p, std::string_view in, char* out, std::size_t& len,
                 std::vector<Replacement>& reps) const;

  std::vector<Pass> passes_;
  std::size_t max_replacement_ = 1;  // longest replacement (>= 1), for output sizing
};

}  // namespace logguard::core::detail
