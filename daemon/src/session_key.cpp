#include "logguard/daemon/session_key.hpp"

#include <re2/re2.h>

namespace logguard::daemon {

struct SessionKeyExtractor::Impl {
  WindowConfig::Mode mode;
  WindowConfig::KeyFrom from;
  std::unique_ptr<RE2> re;
};

SessionKeyExtractor::SessionKeyExtractor(const WindowConfig& config) : impl_(std::make_unique<Impl>()) {
  impl_->mode = config.mode;
  impl_->from = config.key_from;
  if (config.mode == WindowConfig::Mode::session && config.key_from == WindowConfig::KeyFrom::pattern) {
    RE2::Options opts;
    opts.set_log_errors(false);
    impl_->re = std::make_unique<RE2>(config.key_pattern, opts);
    if (!impl_->re->ok()) throw core::ConfigError("key_pattern", "invalid regex: " + impl_->re->error());
    if (impl_->re->NumberOfCapturingGroups() > 1)
      throw core::ConfigError("key_pattern", "must have at most one capturing group (the key)");
  }
}

SessionKeyExtractor::~SessionKeyExtractor() = default;
SessionKeyExtractor::SessionKeyExtractor(SessionKeyExtractor&&) noexcept = default;
SessionKeyExtractor& SessionKeyExtractor::operator=(SessionKeyExtractor&&) noexcept = default;

void SessionKeyExtractor::extract(const Record& r, std::vector<std::string_view>& keys) const {
  keys.clear();
  if (impl_->mode != WindowConfig::Mode::session) return;
  if (impl_->from == WindowConfig::KeyFrom::message_key) {
    if (!r.key.empty()) keys.push_back(r.key);
    return;
  }
  // With one capturing group the group is the key, otherwise the whole match.
  const RE2& re = *impl_->re;
  const bool group = re.NumberOfCapturingGroups() == 1;
  re2::StringPiece input(r.line.data(), r.line.size());
  re2::StringPiece m[2];
  std::size_t pos = 0;
  while (pos <= input.size() &&
         re.Match(input, pos, input.size(), RE2::UNANCHORED, m, group ? 2 : 1)) {
    const re2::StringPiece& k = group ? m[1] : m[0];
    if (!k.empty()) keys.emplace_back(k.data(), k.size());
    const std::size_t end = static_cast<std::size_t>(m[0].data() - input.data()) + m[0].size();
    pos = m[0].empty() ? end + 1 : end;
  }
}

}  // namespace logguard::daemon
