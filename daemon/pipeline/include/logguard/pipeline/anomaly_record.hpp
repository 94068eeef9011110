#pragma once
// The JSON record the sink writes for one anomalous window (schema "logguard.anomaly/v3",
// documented in docs/anomaly-schema.md). Its id is a hash of the model
// version, the session key and the window's first/last source positions and length, so a
// window re-scored after a crash produces the same id and a consumer can drop the duplicate.
// Thread-safety: pure functions.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

/// Template id -> text (empty when unknown). Called on the sink thread.
using TemplateText = std::function<std::string(core::TemplateId)>;

struct AnomalyRecordOptions {
  std::size_t raw_lines = 3;  // raw lines quoted: the failing positions' lines first
  std::string stream = "default";  // the stream the records belong to (issue #20)
};

/// 16 lowercase hex digits.
std::string anomaly_record_id(const Window& w, std::string_view model_version);

/// What makes a window anomalous, in a form that outlives the bundle that judged it (operator
/// feedback marks patterns, issue #20): its failing transitions -- for each failing position
/// (context, observed): the template before it ("<window-start>" at position 0) and the
/// observed one, as template texts (pseudo templates by name: "<unknown>", "<abnormal>",
/// "<end-of-session>") -- distinct and sorted; a window anomalous without a failing position
/// counts every transition of the window. `id`: FNV-1a (64 bit) of the stream and the
/// transitions, 16 hex digits: equal for every window of the stream that fails the same way.
struct AnomalyPattern {
  std::string id;
  std::vector<std::pair<std::string, std::string>> transitions;
};
AnomalyPattern anomaly_pattern(const Window& w, const Verdict& v, std::string_view stream, const TemplateText& text);

/// One JSON object (no trailing newline). `pattern`: the window's pattern when computed already
/// (else it is computed here).
std::string anomaly_record_json(const Window& w, const Verdict& v, std::string_view model_version,
                                const TemplateText& text, const AnomalyRecordOptions& options = {},
                                const AnomalyPattern* pattern = nullptr);

}  // namespace logguard::daemon
