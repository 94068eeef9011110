#pragma once
// The JSON record the sink writes for one anomalous window (schema "logguard.anomaly/v2",
// documented in docs/anomaly-schema.md). Its id is a hash of the model
// version, the session key and the window's first/last source positions and length, so a
// window re-scored after a crash produces the same id and a consumer can drop the duplicate.
// Thread-safety: pure functions.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "logguard/pipeline/stages.hpp"

namespace logguard::daemon {

/// Template id -> text (empty when unknown). Called on the sink thread.
using TemplateText = std::function<std::string(core::TemplateId)>;

struct AnomalyRecordOptions {
  std::size_t raw_lines = 3;  // raw lines quoted: the failing positions' lines first
};

/// 16 lowercase hex digits.
std::string anomaly_record_id(const Window& w, std::string_view model_version);

/// One JSON object (no trailing newline).
std::string anomaly_record_json(const Window& w, const Verdict& v, std::string_view model_version,
                                const TemplateText& text, const AnomalyRecordOptions& options = {});

}  // namespace logguard::daemon
