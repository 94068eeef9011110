// The decode stage alone (issue #20): how long core::RecordDecoder takes per record for the
// same log lines as raw lines, as shippers' JSON records (the whole line as the message, plus
// timestamp, host and service fields) and as OTLP requests of 10 log records each. No parser,
// no pipeline: the per-record cost the decode stage adds to the daemon's consumer thread.
//
//   build/bin/bench_record_decode [LOG] [--rounds N]
// Prints one JSON object per format: records, ns per log record, log records per second.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "logguard/core/record_format.hpp"

using namespace logguard::core;

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out + "\"";
}

void run(const char* name, const RecordFormat& f, const std::vector<std::string>& inputs, std::size_t per_input,
         int rounds) {
  RecordDecoder d(f);
  std::vector<DecodedRecord> out;
  std::size_t records = 0, bytes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& in : inputs) {
      records += d.decode(in, out);
      bytes += out.empty() ? 0 : out.back().message.size();
    }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"format\":\"%s\",\"log_records\":%zu,\"per_input\":%zu,\"ns_per_log_record\":%.1f,"
              "\"log_records_per_s\":%.0f,\"rejected\":%llu,\"check\":%zu}\n",
              name, records, per_input, s * 1e9 / static_cast<double>(records), static_cast<double>(records) / s,
              static_cast<unsigned long long>(d.stats().rejected_total()), bytes % 7);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = LOGGUARD_DEFAULT_INPUT;
  int rounds = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else
      path = a;
  }
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return 1;
  }
  std::vector<std::string> raw, json, otlp;
  std::string otlp_batch;
  int in_batch = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    raw.push_back(line);
    const std::size_t i = raw.size();
    char ts[40];
    std::snprintf(ts, sizeof ts, "2008-11-09T20:%02zu:%02zu.000Z", i / 60 % 60, i % 60);
    json.push_back(std::string("{\"@timestamp\":\"") + ts + "\",\"host\":\"dn-" + std::to_string(i % 7) +
                   "\",\"service\":\"hdfs\",\"message\":" + json_string(line) + "}");
    otlp_batch += std::string(in_batch ? "," : "") + "{\"timeUnixNano\":\"" + std::to_string(1226262918000000000ULL + i) +
                  "\",\"body\":{\"stringValue\":" + json_string(line) + "}}";
    if (++in_batch == 10) {
      otlp.push_back(R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hdfs"}}]},"scopeLogs":[{"logRecords":[)" +
                     otlp_batch + "]}]}]}");
      otlp_batch.clear();
      in_batch = 0;
    }
  }
  RecordFormat raw_f, json_f, otlp_f;
  json_f.kind = RecordKind::json;
  json_f.parse_header = true;
  json_f.timestamp = "@timestamp";
  json_f.stream = "service";
  otlp_f.kind = RecordKind::otlp;
  otlp_f.stream = "resource.service.name";
  run("raw", raw_f, raw, 1, rounds);
  run("json", json_f, json, 1, rounds);
  run("otlp", otlp_f, otlp, 10, rounds);
  return 0;
}
