// bench_checkpoint_copy: cost of the consumer-thread copy that checkpoints and partition
// handover take of the open windows (Windower::state()), and of destroying that copy.
//
//   bench_checkpoint_copy [--sessions N] [--events M] [--line-bytes L] [--reps R] [--topic T]
//                         [--evicted K]
//
// Builds a session-mode Windower (W=100, no idle timeout, open-session limit N) holding N
// open sessions x M events (defaults 100000 x 30, so no window is emitted), added the way
// the pipeline adds them: interleaved across sessions, moved in, one HDFS-like raw line of
// about L bytes (default 140) per event naming its session's block id; partition topic T
// (default "hdfs-logs"). Then times R times (default 5) `state()` and the destruction of
// the returned copy, and prints one JSON object with the medians and every sample.
// With --evicted K, instead: a Windower of the HDFS bundle's default layout (length 40, stride
// 30) with room for one open session is given K sessions of 10 events one after another, so
// that K - 1 are evicted and remembered (pipeline.window.max_evicted_sessions), and the copy
// of those (10 template ids each) is timed.
// Single-threaded; RSS figures are getrusage peaks (at start, after filling, at the end).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/pipeline/stages.hpp"
#include "logguard/pipeline/windower.hpp"

using namespace logguard::daemon;
using SteadyClock = std::chrono::steady_clock;

namespace {

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string json_array(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.2f", i ? "," : "", v[i]);
    s += buf;
  }
  return s + "]";
}

// Times `reps` copies of the windower's state and their destruction (ms each); `count` says
// how much a copy holds, summed into `copied` (checked against what was put in).
template <class Count>
void time_copies(const Windower& w, std::size_t reps, Count count, std::vector<double>& copy_ms,
                 std::vector<double>& destroy_ms, std::size_t& copied) {
  for (std::size_t r = 0; r < reps; ++r) {
    auto t0 = SteadyClock::now();
    auto* state = new WindowerState(w.state(0));
    copy_ms.push_back(ms_since(t0));
    copied += count(*state);
    t0 = SteadyClock::now();
    delete state;
    destroy_ms.push_back(ms_since(t0));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t sessions = 100'000, events = 30, line_bytes = 140, reps = 5, evicted = 0;
  std::string topic = "hdfs-logs";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--sessions" && has) sessions = std::stoul(argv[++i]);
    else if (a == "--events" && has) events = std::stoul(argv[++i]);
    else if (a == "--line-bytes" && has) line_bytes = std::stoul(argv[++i]);
    else if (a == "--reps" && has) reps = std::stoul(argv[++i]);
    else if (a == "--topic" && has) topic = argv[++i];
    else if (a == "--evicted" && has) evicted = std::stoul(argv[++i]);
    else {
      std::cerr << "usage: bench_checkpoint_copy [--sessions N] [--events M] [--line-bytes L] [--reps R] [--topic T] "
                   "[--evicted K]\n";
      return 2;
    }
  }
  if (sessions == 0 || events == 0 || reps == 0 || events >= 100) {
    std::cerr << "bench_checkpoint_copy: need N, M, R > 0 and M < 100 (W)\n";
    return 2;
  }

  const long rss_start = peak_rss_mib();
  if (evicted > 0) {
    WindowConfig ec;
    ec.length = 40;
    ec.stride = 30;
    ec.idle_timeout_ms = 0;
    ec.max_open_sessions = 1;
    ec.max_evicted_sessions = evicted;
    Windower w(ec);
    std::vector<Window> sink;
    const auto fill0 = SteadyClock::now();
    std::int64_t offset = 0;
    for (std::size_t s = 0; s < evicted; ++s) {
      const std::string key = "blk_-" + std::to_string(1608999687919862906ULL + s * 7919);
      for (int m = 0; m < 10; ++m) {
        Event e;
        e.template_id = static_cast<logguard::core::TemplateId>(1 + (m % 29));
        e.pos.tp = TopicPartition{topic, 0};
        e.pos.offset = offset++;
        const std::string_view k = key;
        w.add(std::move(e), std::span<const std::string_view>(&k, 1), 0, sink);
      }
      sink.clear();
    }
    const double fill_ms = ms_since(fill0);
    const long rss_filled = peak_rss_mib();
    std::vector<double> copy_ms, destroy_ms;
    std::size_t check = 0;
    time_copies(w, reps, [](const WindowerState& s) { return s.evicted.size(); }, copy_ms, destroy_ms, check);
    if (check != reps * (evicted - 1)) {
      std::cerr << "bench_checkpoint_copy: copied " << check << " evicted sessions\n";
      return 1;
    }
    std::printf(
        "{\"bench\":\"checkpoint_copy_evicted\",\"evicted\":%zu,\"reps\":%zu,\"fill_ms\":%.1f,\"rss_start_mib\":%ld,"
        "\"rss_filled_mib\":%ld,\"state_ms_median\":%.2f,\"destroy_ms_median\":%.2f,\"state_ms\":%s,\"destroy_ms\":%s}\n",
        evicted - 1, reps, fill_ms, rss_start, rss_filled, median(copy_ms), median(destroy_ms),
        json_array(copy_ms).c_str(), json_array(destroy_ms).c_str());
    return 0;
  }
  WindowConfig wc;
  wc.mode = WindowConfig::Mode::session;
  wc.length = 100;
  wc.idle_timeout_ms = 0;
  wc.max_open_sessions = sessions;
  Windower windower(wc);

  std::vector<std::string> keys(sessions);
  for (std::size_t s = 0; s < sessions; ++s) keys[s] = "blk_-" + std::to_string(1608999687919862906ULL + s * 7919);
  const std::string head = "081109 203615 148 INFO dfs.DataNode$PacketResponder: Received block ";
  std::vector<Window> out;
  const auto fill0 = SteadyClock::now();
  std::int64_t offset = 0;
  for (std::size_t m = 0; m < events; ++m) {
    for (std::size_t s = 0; s < sessions; ++s) {
      std::string line = head + keys[s] + " of size " + std::to_string(67108864 - offset % 1000) + " from /10.250.";
      while (line.size() < line_bytes) line += static_cast<char>('0' + (line.size() + s) % 10);
      Event e;
      e.template_id = static_cast<logguard::core::TemplateId>(1 + (m % 29));
      e.pos.tp = TopicPartition{topic, static_cast<std::int32_t>(s % 8)};
      e.pos.offset = offset++;
      e.timestamp_ms = 1'700'000'000'000 + offset;
      e.line = std::move(line);
      const std::string_view key = keys[s];
      windower.add(std::move(e), std::span<const std::string_view>(&key, 1), 0, out);
    }
  }
  const double fill_ms = ms_since(fill0);
  if (!out.empty() || windower.open_sessions() != sessions) {
    std::cerr << "bench_checkpoint_copy: unexpected windows/sessions\n";
    return 1;
  }
  const long rss_filled = peak_rss_mib();

  std::vector<double> copy_ms, destroy_ms;
  std::size_t check = 0;
  time_copies(
      windower, reps,
      [](const WindowerState& st) {
        std::size_t n = 0;
        for (const auto& s : st.sessions) n += s.events.size();
        return n;
      },
      copy_ms, destroy_ms, check);
  if (check != reps * sessions * events) {
    std::cerr << "bench_checkpoint_copy: copied " << check << " events\n";
    return 1;
  }
  std::printf(
      "{\"bench\":\"checkpoint_copy\",\"sessions\":%zu,\"events_per_session\":%zu,\"line_bytes\":%zu,"
      "\"topic\":\"%s\",\"sizeof_event\":%zu,\"reps\":%zu,\"fill_ms\":%.1f,\"rss_start_mib\":%ld,\"rss_filled_mib\":%ld,"
      "\"state_ms_median\":%.2f,\"destroy_ms_median\":%.2f,\"state_ms\":%s,\"destroy_ms\":%s,"
      "\"peak_rss_mib\":%ld}\n",
      sessions, events, line_bytes, topic.c_str(), sizeof(Event), reps, fill_ms, rss_start, rss_filled, median(copy_ms),
      median(destroy_ms), json_array(copy_ms).c_str(), json_array(destroy_ms).c_str(), peak_rss_mib());
  return 0;
}
