// Input record formats of `logguard train` / `detect --input` (see commands.hpp).
#include <cstdio>

#include "commands.hpp"

namespace logguard::daemon::detail {

core::RecordFormat record_format(core::RecordFormat base, const std::string& format_flag) {
  if (!format_flag.empty()) base.kind = core::record_kind_from_name(format_flag, "--format");
  if (base.raw()) {
    // Field paths of a JSON config mean nothing for raw lines: the defaults apply.
    const auto limit = base.max_record_bytes;
    base = core::RecordFormat{};
    base.max_record_bytes = limit;
  }
  base.validate("input");
  return base;
}

void report_rejected(const char* command, const core::SessionInput& in) {
  if (in.rejected == 0 && in.other_stream == 0) return;
  std::string reasons;
  for (const auto& [why, n] : in.rejected_by_reason) reasons += (reasons.empty() ? "" : ", ") + why + " " + std::to_string(n);
  std::fprintf(stderr, "%s: %zu input records rejected (%s), %zu of other streams skipped\n", command, in.rejected,
               reasons.empty() ? "none" : reasons.c_str(), in.other_stream);
}

}  // namespace logguard::daemon::detail
