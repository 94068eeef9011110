#pragma once
// Error values for logguard. Start-up code (config, model load) throws ConfigError /
// LoadError with a message naming the file or key; steady-state code returns Expected<T>
// and never throws on the hot path.
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace logguard::core {

/// A configuration value is invalid. `key` is the dotted path of the offending setting
/// (e.g. "parser.drain.depth"); what() is a one-line human message that includes it.
/// `file`, when known, prefixes the message: "<file>: <key>: <message>".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, std::string message, std::string file = {})
      : std::runtime_error(compose(file, key, message)),
        key_(std::move(key)), message_(std::move(message)), file_(std::move(file)) {}
  const std::string& key() const noexcept { return key_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& file() const noexcept { return file_; }
  /// The same error, attributed to `file`.
  ConfigError in_file(std::string file) const { return ConfigError(key_, message_, std::move(file)); }

 private:
  static std::string compose(const std::string& file, const std::string& key, const std::string& msg) {
    std::string s = file.empty() ? std::string() : file + ": ";
    if (!key.empty()) s += key + ": ";
    return s + msg;
  }
  std::string key_, message_, file_;
};

/// A file (snapshot, model bundle, data file) could not be loaded; what() names the file.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The error half of Expected<T>.
struct Error {
  std::string message;
};

/// Minimal value-or-error type (std::expected is C++23).
template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}               // NOLINT(google-explicit-constructor)
  Expected(Error error) : v_(std::move(error)) {}           // NOLINT(google-explicit-constructor)
  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace logguard::core
