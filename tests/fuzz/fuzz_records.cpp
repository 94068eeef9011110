// libFuzzer target: arbitrary bytes as shippers' records through core::RecordDecoder (JSON and
// OTLP, several field layouts, small size and depth limits). Built with -DLOGGUARD_FUZZ=ON:
//   build-fuzz/bin/fuzz_records -max_total_time=30 -max_len=65536 build-fuzz/records-corpus
// The first input byte picks the configuration; the rest is split into records at '\n' (a
// file source's lines) and each is also decoded whole (a Kafka message may hold newlines).
// Checked: no crash, sanitizer-clean, and every input record is accounted for: a JSON record
// yields exactly one log record, one rejection or one record of another stream; an OTLP request
// yields log records and/or rejections, every count moving only forward.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/record_format.hpp"

using namespace logguard::core;

namespace {

RecordFormat format_for(std::uint8_t sel) {
  RecordFormat f;
  f.kind = (sel & 1) ? RecordKind::otlp : RecordKind::json;
  if (sel & 2) f.message = f.kind == RecordKind::otlp ? "attributes.msg" : "log.message";
  if (sel & 4) f.session = f.kind == RecordKind::otlp ? "resource.service.name" : "a.b";
  if (sel & 8) f.stream = f.kind == RecordKind::otlp ? "scope.name" : "service.name";
  if (sel & 16) {
    f.timestamp = "ts";
    f.timestamp_format = (sel & 32) ? "epoch_ms" : "rfc3339";
  }
  if (sel & 32) f.label = "level";
  f.max_depth = (sel & 64) ? 4 : 64;
  f.max_record_bytes = (sel & 128) ? 256 : 65536;
  return f;
}

std::uint64_t accounted(const DecodeStats& s) { return s.records + s.rejected_total() + s.other_stream; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const RecordFormat f = format_for(data[0]);
  RecordDecoder d(f);
  if (data[0] & 8) d.select_streams({"web", ""});
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<DecodedRecord> out;
  std::uint64_t calls = 0;
  auto one = [&](std::string_view rec, bool cut) {
    const std::uint64_t before = accounted(d.stats());
    const std::size_t n = d.decode(rec, out, cut);
    ++calls;
    if (n != out.size()) __builtin_trap();
    for (const auto& r : out) {
      // Views must be readable (ASan checks the bytes).
      volatile std::size_t sum = 0;
      for (char c : r.message) sum = sum + static_cast<unsigned char>(c);
      for (char c : r.session) sum = sum + static_cast<unsigned char>(c);
      (void)sum;
    }
    const std::uint64_t after = accounted(d.stats());
    if (f.kind == RecordKind::json && after != before + 1) __builtin_trap();
    if (after < before + (cut ? 1 : 0)) __builtin_trap();
  };
  std::size_t pos = 0;
  while (pos <= in.size()) {
    std::size_t end = in.find('\n', pos);
    if (end == std::string_view::npos) end = in.size();
    one(in.substr(pos, end - pos), false);
    pos = end + 1;
  }
  one(in, false);
  one(in.substr(0, in.size() / 2), true);
  if (d.stats().inputs != calls) __builtin_trap();
  return 0;
}
