// safetensors reader/writer (see safetensors.hpp).
#include "safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "logguard/core/error.hpp"
#include "logguard/core/file_io.hpp"

namespace logguard::models::detail {

using core::LoadError;
using nlohmann::json;

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

std::size_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL") return 1;
  return 0;
}

std::vector<float> SafeTensorsFile::f32(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw LoadError(path + ": missing tensor `" + name + "`");
  if (it->second.dtype != "F32")
    throw LoadError(path + ": tensor `" + name + "` has dtype " + it->second.dtype + ", expected F32");
  std::vector<float> v(it->second.bytes / 4);
  std::memcpy(v.data(), data.data() + it->second.offset, it->second.bytes);
  return v;
}

SafeTensorsFile parse_safetensors(std::string bytes, const std::string& source) {
  auto fail = [&](const std::string& why) { return LoadError(source + ": not a valid safetensors file: " + why); };
  if (bytes.size() < 8) throw fail("shorter than the 8-byte header length (truncated)");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n < 2 || n > bytes.size() - 8)
    throw fail("header length " + std::to_string(n) + " exceeds the file size " + std::to_string(bytes.size()) +
               " (truncated or not safetensors)");
  json h;
  try {
    h = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::exception& e) {
    throw fail(std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!h.is_object()) throw fail("header is not a JSON object");
  SafeTensorsFile f;
  f.path = source;
  const std::size_t data_size = bytes.size() - 8 - n;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  try {
    for (const auto& [name, t] : h.items()) {
      if (name == "__metadata__") {
        for (const auto& [k, v] : t.items()) f.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
        continue;
      }
      SafeTensor st;
      st.dtype = t.at("dtype").get<std::string>();
      const auto es = dtype_size(st.dtype);
      if (es == 0) throw fail("tensor `" + name + "` has unknown dtype " + st.dtype);
      st.shape = t.at("shape").get<std::vector<std::int64_t>>();
      std::uint64_t numel = 1;
      for (auto d : st.shape) {
        if (d < 0) throw fail("tensor `" + name + "` has a negative dimension");
        numel *= static_cast<std::uint64_t>(d);
      }
      const auto off = t.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (off.size() != 2 || off[0] > off[1] || off[1] > data_size)
        throw fail("tensor `" + name + "` data_offsets lie outside the data area of " + std::to_string(data_size) +
                   " bytes (truncated?)");
      if (off[1] - off[0] != numel * es)
        throw fail("tensor `" + name + "` has " + std::to_string(off[1] - off[0]) + " bytes, shape needs " +
                   std::to_string(numel * es));
      st.offset = off[0];
      st.bytes = off[1] - off[0];
      ranges.emplace_back(off[0], off[1]);
      f.tensors.emplace(name, std::move(st));
    }
  } catch (const json::exception& e) {
    throw fail(std::string("malformed header (") + e.what() + ")");
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw fail("tensor data ranges overlap");
  f.data = bytes.substr(8 + n);
  return f;
}

SafeTensorsFile read_safetensors(const std::string& path) {
  auto bytes = core::read_file_bytes(path);
  if (!bytes) throw LoadError(path + ": cannot open");
  return parse_safetensors(std::move(*bytes), path);
}

void write_safetensors(const std::string& path, const std::vector<F32Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const F32Tensor*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  std::size_t off = 0;
  for (const auto* t : sorted) {
    const std::size_t b = t->values.size() * 4;
    h[t->name] = {{"dtype", "F32"}, {"shape", t->shape}, {"data_offsets", {off, off + b}}};
    off += b;
  }
  std::string header = h.dump();
  while ((header.size() + 8) % 8) header += ' ';  // data area 8-byte aligned, as the reference writer does
  const std::uint64_t n = header.size();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw LoadError(tmp + ": cannot write");
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto* t : sorted)
      out.write(reinterpret_cast<const char*>(t->values.data()), static_cast<std::streamsize>(t->values.size() * 4));
    if (!out) throw LoadError(tmp + ": write failed");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace logguard::models::detail
