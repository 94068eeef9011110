// bench_pipeline: throughput and memory of the daemon's pipeline stages (no model).
//
//   bench_pipeline [--input FILE] [--lines N] [--only stages|pipeline|pipeline-anomalous]
//
// FILE (default: shared HDFS_5k.log) is replayed cyclically up to N lines (default
// 2,000,000); on every replay the block ids get a per-cycle suffix, so each cycle opens new
// sessions (like a live cluster) instead of growing old ones.
//   stages              one thread: session-key regex -> Windower::add (length 50, tumbling,
//                       max 100k open sessions, idle 0) -> OffsetTracker begin/release per
//                       window. Template ids are precomputed (no parsing).
//   pipeline            Pipeline::run with its three threads: FileSource (a temp file with
//                       the N lines) -> Drain LineParser (HDFS log_format, masks hdfs_block +
//                       number, as configs/loghub/HDFS.yaml) as the mapper -> windows ->
//                       a scorer that judges nothing anomalous -> offsets.
//   pipeline-anomalous  the same, but every window is anomalous: one JSON record per
//                       window is built and written to /dev/null (StreamSink).
// Reports lines/s and peak RSS (getrusage; process-wide maximum so far).
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <unistd.h>
#include <vector>

#include "logguard/core/line_parser.hpp"
#include "logguard/pipeline/file_source.hpp"
#include "logguard/pipeline/offset_tracker.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "logguard/pipeline/session_key.hpp"
#include "logguard/pipeline/stream_sink.hpp"
#include "logguard/pipeline/windower.hpp"

using namespace logguard;
using namespace logguard::daemon;
using SteadyClock = std::chrono::steady_clock;

namespace {

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// The N replayed lines, block ids suffixed with the cycle number from the second cycle on.
std::vector<std::string> replay(const std::string& path, std::size_t n) {
  std::ifstream in(path);
  std::vector<std::string> base;
  for (std::string line; std::getline(in, line);) base.push_back(line);
  if (base.empty()) {
    std::cerr << "bench_pipeline: cannot read " << path << "\n";
    std::exit(2);
  }
  std::vector<std::string> out;
  out.reserve(n);
  const std::regex blk(R"((blk_-?\d+))");
  for (std::size_t cycle = 0; out.size() < n; ++cycle) {
    for (const auto& line : base) {
      if (out.size() == n) break;
      out.push_back(cycle == 0 ? line : std::regex_replace(line, blk, "$01" + std::to_string(cycle) + "0"));
    }
  }
  return out;
}

class Judge : public Scorer {
 public:
  explicit Judge(bool anomalous) : anomalous_(anomalous) {}
  core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) override {
    std::vector<Verdict> v(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      v[i].anomalous = anomalous_;
      if (anomalous_) v[i].failing.push_back(FailingPosition{0, batch[i]->events[0].template_id, {1, 2, 3}});
    }
    return v;
  }
  std::string model_version() const override { return "bench"; }

 private:
  bool anomalous_;
};

core::ParserConfig hdfs_parser() {
  core::ParserConfig c;
  c.log_format = "<Date> <Time> <Pid> <Level> <Component>: <Content>";
  core::MaskRule block;
  block.name = "block";
  block.builtin = "hdfs_block";
  core::MaskRule num;
  num.name = "num";
  num.builtin = "number";
  c.masks = {block, num};
  return c;
}

void bench_stages(const std::vector<std::string>& lines) {
  WindowConfig wc;
  wc.length = 50;
  wc.idle_timeout_ms = 0;
  Windower windower(wc);
  SessionKeyExtractor keyer(wc);
  OffsetTracker tracker;
  std::vector<Window> out;
  std::vector<std::string_view> keys;
  Record r;
  r.pos.tp = TopicPartition{"bench", 0};
  const auto t0 = SteadyClock::now();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    r.line = lines[i];
    r.pos.offset = static_cast<std::int64_t>(i);
    keyer.extract(r, keys);
    Event e;
    e.template_id = static_cast<core::TemplateId>(1 + (i % 29));
    e.pos = r.pos;
    e.line = r.line;
    tracker.begin(r.pos, static_cast<std::uint32_t>(windower.add(e, keys, 0, out)));
    for (const auto& w : out)
      for (std::size_t k = 0; k < w.released; ++k) tracker.release(w.events[k].pos);
    out.clear();
  }
  windower.flush(out);
  for (const auto& w : out)
    for (std::size_t k = 0; k < w.released; ++k) tracker.release(w.events[k].pos);
  const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::printf("stages              lines=%zu  %.0f lines/s  windows=%llu  sessions=%llu  held_after=%zu  peak_rss=%ld MiB\n",
              lines.size(), static_cast<double>(lines.size()) / s,
              static_cast<unsigned long long>(windower.stats().windows),
              static_cast<unsigned long long>(windower.stats().sessions_opened), tracker.held(), peak_rss_mib());
}

void bench_pipeline(const std::vector<std::string>& lines, bool anomalous) {
  const auto tmp = std::filesystem::temp_directory_path() / ("bench_pipeline_" + std::to_string(::getpid()) + ".log");
  {
    std::ofstream f(tmp, std::ios::binary);
    for (const auto& l : lines) f << l << '\n';
  }
  FileSource source(tmp.string(), 1 << 16);
  core::LineParser parser(hdfs_parser());
  Judge judge(anomalous);
  StreamSink sink("/dev/null");
  PipelineConfig pc;
  pc.window.length = 50;
  pc.window.idle_timeout_ms = 0;
  Pipeline p(pc, source, [&](const Record& r) { return parser.parse(r.line).template_id; }, judge, sink,
             [&](core::TemplateId id) { return std::string(parser.template_text(id)); });
  std::atomic<bool> stop{false};
  const auto t0 = SteadyClock::now();
  auto result = p.run(stop);
  const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::filesystem::remove(tmp);
  if (!result) {
    std::cerr << "bench_pipeline: " << result.error().message << "\n";
    std::exit(1);
  }
  std::printf("%-19s lines=%zu  %.0f lines/s  windows=%llu  anomalies=%llu  pauses=%llu  templates=%zu  peak_rss=%ld MiB\n",
              anomalous ? "pipeline-anomalous" : "pipeline", lines.size(), static_cast<double>(lines.size()) / s,
              static_cast<unsigned long long>(p.stats().windows.load()),
              static_cast<unsigned long long>(p.stats().anomalies.load()),
              static_cast<unsigned long long>(p.stats().pauses.load()), parser.cluster_count(), peak_rss_mib());
}

}  // namespace

int main(int argc, char** argv) {
  std::string input = LOGGUARD_DEFAULT_INPUT, only;
  std::size_t n = 2'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--input" && i + 1 < argc) input = argv[++i];
    else if (a == "--lines" && i + 1 < argc) n = std::stoul(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      std::cerr << "usage: bench_pipeline [--input FILE] [--lines N] [--only stages|pipeline|pipeline-anomalous]\n";
      return 2;
    }
  }
  const auto lines = replay(input, n);
  if (only.empty() || only == "stages") bench_stages(lines);
  if (only.empty() || only == "pipeline") bench_pipeline(lines, false);
  if (only.empty() || only == "pipeline-anomalous") bench_pipeline(lines, true);
  return 0;
}
