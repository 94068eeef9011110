#pragma once
// Whole-file reads for the larger files the project loads (model bundles, encoder weights,
// checkpoints): one sized read rather than a character-by-character stream copy, which costs
// ~1 ms per MB (a 90 MB encoder was read three times per `logguard detect`).
// Thread-safety: free function, no shared state.
#include <optional>
#include <string>

namespace logguard::core {

/// The bytes of the file at `path`; std::nullopt when it cannot be opened or fully read
/// (callers name the file and the reason in their own error).
std::optional<std::string> read_file_bytes(const std::string& path);

}  // namespace logguard::core
