#pragma once
// RFC 4180 CSV helpers shared by the CLI, the golden tests and the sequence readers.
// Stateless functions; thread-safe.
#include <string>
#include <string_view>
#include <vector>

namespace logguard::core::csv {

/// Appends `field` to `out`, quoted when it holds a comma, quote, CR or LF (quotes doubled).
void append_field(std::string& out, std::string_view field);

/// Splits one CSV record (no line terminator) into fields, undoing quoting.
/// Returns false on an unterminated quoted field (fields then hold what was read).
bool split_record(std::string_view record, std::vector<std::string>& fields);

/// Reads one logical CSV record from `text` starting at `pos` (a quoted field may span
/// lines), advancing `pos` past its line terminator. Returns false at end of text.
bool next_record(std::string_view text, std::size_t& pos, std::vector<std::string>& fields);

}  // namespace logguard::core::csv
