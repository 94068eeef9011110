#pragma once
// RFC 4180 CSV helpers shared by the CLI, the golden tests and the sequence readers.
// Writing: append_csv_field(). Reading: the strict split_csv_record(), and in namespace csv
// a lenient reader (next_record() takes records whose quoted fields span lines).
// Stateless functions; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"

namespace logguard::core {

/// Appends `field` to `out`, quoted when it contains a comma, a double quote, CR or LF;
/// quotes inside are doubled.
void append_csv_field(std::string& out, std::string_view field);

/// `field` as a CSV field (see append_csv_field).
std::string csv_field(std::string_view field);

/// Joins fields into one record (no line terminator).
std::string csv_record(const std::vector<std::string>& fields);

/// Splits one CSV record (without its line terminator; quoted fields may contain commas,
/// doubled quotes and line breaks) into `fields`. Returns false, leaving `fields`
/// unspecified, on an unterminated quoted field or text after a closing quote.
bool split_csv_record(std::string_view record, std::vector<std::string>& fields);

/// As above, returning the fields or an error message.
Expected<std::vector<std::string>> split_csv_record(std::string_view record);

namespace csv {


/// Lenient split of one record (no line terminator): stops at an unquoted CR/LF, takes
/// text after a closing quote literally. Returns false on an unterminated quoted field
/// (fields then hold what was read).
bool split_record(std::string_view record, std::vector<std::string>& fields);

/// Reads one logical record from `text` at `pos` (a quoted field may span lines),
/// advancing `pos` past its line terminator. Returns false at end of text.
bool next_record(std::string_view text, std::size_t& pos, std::vector<std::string>& fields);

}  // namespace csv
}  // namespace logguard::core
