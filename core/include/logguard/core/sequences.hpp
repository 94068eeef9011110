#pragma once
// Readers for session sequence files, template tables and label files (no LibTorch).
//
// Sequence formats (detected per file from its first non-empty line):
//   keyed     `session_id,id id id`           (ait-aecid; e.g. blk_-123,5 5 22 11)
//   plain     `id id id`                      (DeepLog; the session id is the 1-based line number)
//   labelled  header `Sequence,label`, rows `id id id,0|1`  (LogRobust; id = 1-based row number)
// Template tables: `EventId,EventTemplate` CSV (EventId "E12" or "12"), or a header-less file
// with one template per line whose id is the line number (ait-aecid templates/*.csv).
// Labels: `session,label` (optional header; label 1/0 or Anomaly/Normal).
// All functions throw LoadError naming the file and line on unreadable or malformed input.
// Thread-safety: free functions without shared state.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace logguard::core {

struct Session {
  std::string id;
  std::vector<std::uint32_t> events;  // template (event) ids, ids start at 1
  int label = -1;                     // -1 unknown, 0 normal, 1 anomalous (labelled format only)
  std::vector<std::uint8_t> event_labels;  // raw logs with a label field: per event 0 normal, 1 abnormal
};

struct TemplateEntry {
  std::uint32_t id = 0;
  std::string text;
};

std::vector<Session> read_sequences(const std::string& path);
std::vector<TemplateEntry> read_templates(const std::string& path);
std::unordered_map<std::string, int> read_labels(const std::string& path);

/// Template text normalized for matching tables from different parsers: "<*>" and every
/// non-alphanumeric character become separators, lower-cased, single spaces, trimmed.
std::string normalize_template_text(std::string_view text);

}  // namespace logguard::core
