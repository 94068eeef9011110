#pragma once
// Template styles: how a cluster's template text is written out.
//
// "drain"   the Drain template as is: tokens joined by single spaces, variables "<*>".
// "loghub2" the Drain template rewritten to the Loghub-2.0 conventions, i.e. the template
//           correction rules the Loghub-2.0 benchmark applied to its own ground truth
//           (Khan et al., ICSE 2022): whitespace runs collapsed; path-like pieces, digit-only
//           pieces, booleans/null/root/admin and pieces glued to a "<*>" become "<*>";
//           "<*>.<*>" and "<*><*>" merge into one "<*>". Details in docs/parser-accuracy.md.
//
// Only the emitted text changes: clustering, ids and parameters do not depend on the style.
// Lifecycle/thread-safety: pure functions; the caller computes the text once per template
// change (never per line).
#include <string>
#include <string_view>

namespace logguard::core {

enum class TemplateStyle : unsigned char { drain, loghub2 };

/// Parses "drain" / "loghub2"; false if unknown.
bool template_style_from_name(std::string_view name, TemplateStyle* out) noexcept;

/// Rewrites a Drain template to the Loghub-2.0 conventions (see above).
std::string loghub2_template(std::string_view drain_template);

/// The text to emit for `drain_template` in `style`.
inline std::string styled_template(std::string_view drain_template, TemplateStyle style) {
  return style == TemplateStyle::loghub2 ? loghub2_template(drain_template)
                                         : std::string(drain_template);
}

}  // namespace logguard::core
