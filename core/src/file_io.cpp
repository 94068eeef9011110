// Whole-file reads (see file_io.hpp).
#include "logguard/core/file_io.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace logguard::core {

std::optional<std::string> read_file_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || fs::is_directory(st)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes;
  if (!fs::is_regular_file(st)) {  // a pipe or device: copy the stream
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    return bytes;
  }
  const auto size = fs::file_size(path, ec);
  if (ec) return std::nullopt;
  bytes.resize(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(size))) return std::nullopt;
  // A file that grew since file_size keeps its first `size` bytes: callers check sizes and
  // digests where it matters.
  return bytes;
}

}  // namespace logguard::core
