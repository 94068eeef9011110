#pragma once
// safetensors files (the Hugging Face weight format): an 8-byte little-endian header length N,
// N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the raw little-endian tensor bytes. Plain C++ (no LibTorch) so tests can use it directly.
//
// read_safetensors() loads the whole file and validates everything before returning: header
// length within the file, JSON, known dtype, offsets inside the data area, in order, not
// overlapping, and end - begin == numel * dtype size. Any problem is a core::LoadError naming
// the file. write_safetensors() writes F32 tensors atomically (.tmp + rename).
// Thread-safety: plain values.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace logguard::models::detail {

struct SafeTensor {
  std::string dtype;               // "F32", "I64", ... as in the file
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;          // into SafeTensorsFile::data
  std::size_t bytes = 0;
};

struct SafeTensorsFile {
  std::string path;
  std::map<std::string, SafeTensor> tensors;
  std::map<std::string, std::string> metadata;
  std::string data;                // the byte area after the header
  /// F32 tensor values (LoadError naming the file and tensor if absent or not F32).
  std::vector<float> f32(const std::string& name) const;
};

/// Bytes per element of a safetensors dtype; 0 if unknown.
std::size_t dtype_size(const std::string& dtype);

SafeTensorsFile read_safetensors(const std::string& path);
SafeTensorsFile parse_safetensors(std::string bytes, const std::string& source);

struct F32Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};
/// Writes F32 tensors (sorted by name as the format requires for determinism) and metadata.
void write_safetensors(const std::string& path, const std::vector<F32Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace logguard::models::detail
