#pragma once
// ParseCsvWriter: the rows of `logguard parse` ("LineId,EventId,EventTemplate"), written fast.
//
// Most lines reuse a template, so the "E<id>,<template as a CSV field>" part of a row is built
// once per template text and copied afterwards (the cached text is compared with the line's
// template, so a changed template is noticed whatever changed it); the line number is kept as
// decimal digits and incremented in place; lines per template are counted in a vector indexed
// by id (for the --templates-out table). No allocation per line in steady state.
// Lifecycle: one writer per output; not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/line_parser.hpp"

namespace logguard::core {

class ParseCsvWriter {
 public:
  /// Appends "<line id>,E<id>,<template>" for the next line (ids 1, 2, ...; no line terminator).
  void append_row(std::string& out, const ParseResult& r);
  /// Lines written per template id (index = id; entries past the largest id seen are absent).
  const std::vector<std::uint64_t>& occurrences() const noexcept { return occurrences_; }
  /// Rows written so far.
  std::uint64_t lines() const noexcept { return lines_; }

 private:
  struct Entry {
    std::string text;  // the template text the row part was built from
    std::string row;   // ",E<id>,<CSV field>"
  };
  std::vector<Entry> cache_;               // by template id
  std::vector<std::uint64_t> occurrences_;  // by template id
  std::uint64_t lines_ = 0;
  char digits_[24] = {};                   // the current line id, right-aligned in digits_
  std::size_t width_ = 0;                  // its number of digits
};

}  // namespace logguard::core
