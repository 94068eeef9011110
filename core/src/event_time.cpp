// Event time formats and line labels (see event_time.hpp).
#include "logguard/core/event_time.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "logguard/core/error.hpp"
#include "log_format.hpp"
#include "civil_time.hpp"

namespace logguard::core {

namespace {

constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};

using detail::days_from_civil;

bool is_conversion(char c) { return std::string_view("YymdHMSfb%").find(c) != std::string_view::npos; }

}  // namespace

TimeFormat::TimeFormat(std::string format, const std::string& key) : format_(std::move(format)) {
  if (format_.empty()) throw ConfigError(key, "must not be empty");
  if (format_ == "epoch_s" || format_ == "epoch_ms") return;
  for (std::size_t i = 0; i < format_.size(); ++i) {
    if (format_[i] != '%') continue;
    if (i + 1 >= format_.size() || !is_conversion(format_[i + 1]))
      throw ConfigError(key, "unknown conversion in `" + format_ + "` (use %Y %y %m %d %H %M %S %f %b %%, or epoch_s / epoch_ms)");
    ++i;
  }
}

std::optional<std::int64_t> TimeFormat::parse(std::string_view text) const noexcept {
  if (format_.empty()) return std::nullopt;
  if (format_ == "epoch_s" || format_ == "epoch_ms") {
    const std::string s(text);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(format_ == "epoch_s" ? v * 1000.0 : v));
  }
  std::int64_t year = 1970, mon = 1, day = 1, hour = 0, min = 0, sec = 0, ms = 0;
  std::size_t p = 0;
  const std::size_t n = text.size();
  auto digits = [&](std::size_t max, std::int64_t& out) {
    std::size_t k = 0;
    out = 0;
    while (p < n && k < max && std::isdigit(static_cast<unsigned char>(text[p]))) {
      out = out * 10 + (text[p] - '0');
      ++p;
      ++k;
    }
    return k > 0;
  };
  for (std::size_t i = 0; i < format_.size(); ++i) {
    const char c = format_[i];
    if (c == ' ') {
      if (p >= n || text[p] != ' ') return std::nullopt;
      while (p < n && text[p] == ' ') ++p;
      continue;
    }
    if (c != '%') {
      if (p >= n || text[p] != c) return std::nullopt;
      ++p;
      continue;
    }
    const char conv = format_[++i];
    bool ok = true;
    switch (conv) {
      case 'Y': ok = digits(4, year); break;
      case 'y':
        ok = digits(2, year);
        year += year >= 69 ? 1900 : 2000;
        break;
      case 'm': ok = digits(2, mon) && mon >= 1 && mon <= 12; break;
      case 'd': ok = digits(2, day) && day >= 1 && day <= 31; break;
      case 'H': ok = digits(2, hour) && hour <= 24; break;
      case 'M': ok = digits(2, min) && min <= 59; break;
      case 'S': ok = digits(2, sec) && sec <= 60; break;
      case 'f': {
        std::int64_t frac = 0;
        const std::size_t start = p;
        ok = digits(9, frac);
        std::size_t width = p - start;
        while (width > 3) {
          frac /= 10;
          --width;
        }
        while (width < 3) {
          frac *= 10;
          ++width;
        }
        ms = frac;
        break;
      }
      case 'b': {
        ok = false;
        if (p + 3 <= n) {
          std::string m3;
          for (std::size_t k = 0; k < 3; ++k) m3 += static_cast<char>(std::tolower(static_cast<unsigned char>(text[p + k])));
          for (int k = 0; k < 12; ++k)
            if (m3 == kMonths[k]) {
              mon = k + 1;
              ok = true;
            }
          p += 3;
        }
        break;
      }
      default:  // '%'
        ok = p < n && text[p] == '%';
        ++p;
    }
    if (!ok) return std::nullopt;
  }
  if (p != n) return std::nullopt;
  const auto days = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + min) * 60000 + sec * 1000 + ms;
}

void EntityWindows::validate(const std::string& prefix) const {
  if (field.empty()) return;
  if (time_fields.empty()) throw ConfigError(prefix + ".time_fields", "name the header field(s) holding the event time");
  TimeFormat(time_format, prefix + ".time_format");
  if (window_ms < 1) throw ConfigError(prefix + ".window_ms", "must be >= 1");
}

struct EntityKeyer::Impl {
  detail::LogFormat format;
  TimeFormat time;
  std::size_t entity = 0;
  std::vector<std::size_t> time_fields;
  std::int64_t window_ms = 0;
};

EntityKeyer::EntityKeyer(const EntityWindows& s, const std::string& log_format, const std::string& prefix)
    : impl_(std::make_unique<Impl>()) {
  s.validate(prefix);
  if (!s.enabled()) throw ConfigError(prefix + ".field", "needed for entity sessions");
  impl_->format = detail::LogFormat(log_format);
  impl_->time = TimeFormat(s.time_format, prefix + ".time_format");
  impl_->window_ms = s.window_ms;
  const auto& names = impl_->format.field_names();
  auto index = [&](const std::string& name, const std::string& key) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return i;
    throw ConfigError(prefix + "." + key, "`" + name + "` is not a field of the log format `" + log_format + "`");
  };
  impl_->entity = index(s.field, "field");
  for (const auto& f : s.time_fields) impl_->time_fields.push_back(index(f, "time_fields"));
}

EntityKeyer::~EntityKeyer() = default;
EntityKeyer::EntityKeyer(EntityKeyer&&) noexcept = default;
EntityKeyer& EntityKeyer::operator=(EntityKeyer&&) noexcept = default;

bool EntityKeyer::key(std::string_view line, std::string& out) const {
  thread_local std::vector<std::string_view> values;
  thread_local std::string when;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!impl_->format.match(line, values)) return false;
  const auto entity = values[impl_->entity];
  if (entity.empty()) return false;
  when.clear();
  for (auto i : impl_->time_fields) {
    if (!when.empty()) when += ' ';
    when += values[i];
  }
  const auto t = impl_->time.parse(when);
  if (!t) return false;
  const std::int64_t w = impl_->window_ms;
  const std::int64_t start = (*t >= 0 ? *t / w : (*t - w + 1) / w) * w;
  out.assign(entity);
  out += '@';
  out += std::to_string(start);
  return true;
}

int LabelSettings::classify(std::string_view value) const noexcept {
  const auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), value) != v.end(); };
  if (value.empty()) return -1;
  if (in(normal_values)) return 0;
  if (in(abnormal_values)) return 1;
  if (abnormal_values.empty()) return 1;
  if (normal_values.empty()) return 0;
  return -1;
}

void LabelSettings::validate(const std::string& prefix) const {
  if (field.empty()) {
    if (!normal_values.empty() || !abnormal_values.empty())
      throw ConfigError(prefix + ".field", "needed when label values are given");
    return;
  }
  if (normal_values.empty() && abnormal_values.empty())
    throw ConfigError(prefix + ".normal_values", "give normal_values and/or abnormal_values");
  for (const auto& v : normal_values)
    if (std::find(abnormal_values.begin(), abnormal_values.end(), v) != abnormal_values.end())
      throw ConfigError(prefix + ".abnormal_values", "`" + v + "` is also a normal value");
}

}  // namespace logguard::core
