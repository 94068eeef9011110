// `logguard replay` and `logguard tail`: the Kafka tools around the daemon.
//   replay: the lines of a file (or stdin) -> one message each on a topic, optionally keyed
//           and paced, N passes; prints a JSON summary (lines, lines/s, delivered, failed).
//   tail:   the messages of a topic, from the beginning, -> stdout or a file (values, or one
//           JSON object per message with partition, offset, timestamps, key and headers).
// Both use the plain tool clients of logguard::kafka (KafkaProducer, KafkaTopicReader), not the
// daemon's at-least-once source and sink.
#include <re2/re2.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "logguard/pipeline/clock.hpp"
#include "commands.hpp"
#include "logguard/pipeline/line_reader.hpp"
#include "logguard/core/error.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/kafka/producer.hpp"
#include "logguard/kafka/topic_reader.hpp"

namespace logguard::daemon::detail {
namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Set by SIGINT/SIGTERM while a tool runs: replay stops producing and flushes, tail stops.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

// Installs the handlers for the lifetime of a command and restores the previous ones.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = 0;
    prev_int_ = std::signal(SIGINT, on_interrupt);
    prev_term_ = std::signal(SIGTERM, on_interrupt);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, prev_int_);
    std::signal(SIGTERM, prev_term_);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*prev_int_)(int);
  void (*prev_term_)(int);
};

// "name=value" pairs from repeated --property options.
std::map<std::string, std::string> parse_properties(const std::vector<std::string>& list) {
  std::map<std::string, std::string> out;
  for (const auto& p : list) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw core::ConfigError("--property " + p, "expected NAME=VALUE");
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr && f != stdin && f != stdout) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// ---- replay ------------------------------------------------------------------------------

struct ReplayOptions {
  std::string brokers, topic;
  std::string input = "-";
  double rate = 0;              // lines per second, 0 = as fast as possible
  std::uint64_t loop = 1;       // passes over the input, 0 = until interrupted
  std::uint64_t limit = 0;      // stop after this many lines, 0 = no limit
  std::string key_pattern;      // message key = first match (its one capturing group, if any)
  bool fresh_keys = false;      // passes after the first append "0<pass>" to each line's key
  std::vector<std::string> properties;
  std::int64_t flush_timeout_ms = 60000;
  std::int64_t connect_timeout_ms = 10000;
  std::size_t max_line_bytes = 1000000;  // Kafka's default message.max.bytes is about 1 MB
  bool quiet = false;
};

int run_replay(const ReplayOptions& o) {
  if (o.fresh_keys && o.key_pattern.empty()) {
    std::fprintf(stderr, "logguard: replay: --fresh-keys needs --key-pattern\n");
    return kUsageError;
  }
  if (o.input == "-" && o.loop != 1) {
    std::fprintf(stderr, "logguard: replay: --loop needs a file (stdin cannot be rewound)\n");
    return kUsageError;
  }
  std::unique_ptr<RE2> key_re;
  if (!o.key_pattern.empty()) {
    RE2::Options ro;
    ro.set_log_errors(false);
    key_re = std::make_unique<RE2>(o.key_pattern, ro);
    if (!key_re->ok()) throw core::ConfigError("--key-pattern", "invalid regex: " + key_re->error());
    if (key_re->NumberOfCapturingGroups() > 1)
      throw core::ConfigError("--key-pattern", "must have at most one capturing group (the key)");
  }
  KafkaProducer producer(o.brokers, parse_properties(o.properties));
  FilePtr in(o.input == "-" ? stdin : std::fopen(o.input.c_str(), "rb"));
  if (!in) throw core::LoadError("cannot open '" + o.input + "': " + std::strerror(errno));
  // Fail fast (before reading anything) when the brokers or the topic are not there.
  auto parts = producer.partitions(o.topic, std::chrono::milliseconds(o.connect_timeout_ms));
  if (!parts) {
    std::fprintf(stderr, "logguard: replay: %s\n", parts.error().message.c_str());
    return kRuntimeError;
  }

  InterruptGuard guard;
  const bool group = key_re && key_re->NumberOfCapturingGroups() == 1;
  std::uint64_t lines = 0, bytes = 0, cut_lines = 0, produce_errors = 0;
  const auto start = SteadyClock::now();
  bool stop = false;
  for (std::uint64_t pass = 0; !stop && (o.loop == 0 || pass < o.loop); ++pass) {
    if (pass > 0 && std::fseek(in.get(), 0, SEEK_SET) != 0)
      throw core::LoadError("cannot rewind '" + o.input + "': " + std::strerror(errno));
    LineReader reader(in.get(), o.max_line_bytes);
    std::string_view line;
    std::string rewritten, fresh_key;
    bool cut = false;
    while (reader.next(line, cut)) {
      if (g_interrupted || (o.limit != 0 && lines >= o.limit)) {
        stop = true;
        break;
      }
      if (cut) {
        ++cut_lines;
        line = line.substr(0, o.max_line_bytes);
      }
      std::string_view key;
      if (key_re) {
        re2::StringPiece input(line.data(), line.size()), m[2];
        if (key_re->Match(input, 0, input.size(), RE2::UNANCHORED, m, group ? 2 : 1)) {
          const re2::StringPiece& k = group ? m[1] : m[0];
          key = std::string_view(k.data(), k.size());
          if (o.fresh_keys && pass > 0) {
            // Another pass, other sessions: every key in the line (a line may name several
            // sessions, e.g. HDFS deletions) and the message key get the suffix "0<pass>", so
            // looping does not extend the first pass's sessions.
            const std::string suffix = "0" + std::to_string(pass);
            rewritten.clear();
            std::size_t copied = 0, at = 0;
            re2::StringPiece g[2];
            while (at <= line.size() &&
                   key_re->Match(input, at, input.size(), RE2::UNANCHORED, g, group ? 2 : 1)) {
              const re2::StringPiece& kk = group ? g[1] : g[0];
              const std::size_t end = static_cast<std::size_t>(kk.data() - line.data()) + kk.size();
              rewritten.append(line.substr(copied, end - copied)).append(suffix);
              copied = end;
              const std::size_t match_end = static_cast<std::size_t>(g[0].data() - line.data()) + g[0].size();
              at = match_end > at ? match_end : at + 1;  // an empty match must not loop
            }
            rewritten.append(line.substr(copied));
            fresh_key.assign(key).append(suffix);
            line = rewritten;
            key = fresh_key;
          }
        }
      }
      if (o.rate > 0) {
        // Pace against the schedule line n at start + n/rate; sleep only when ahead by a
        // millisecond or more, so high rates do not cost a syscall per line.
        const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(lines) / o.rate));
        if (due - SteadyClock::now() >= 1ms) {
          producer.poll(0ms);
          std::this_thread::sleep_until(due);
        }
      }
      if (!producer.produce(o.topic, key, line)) {
        ++produce_errors;
        stop = true;
        break;
      }
      ++lines;
      bytes += line.size();
      if ((lines & 1023) == 0) producer.poll(0ms);
    }
    if (reader.failed()) throw core::LoadError("read error on '" + o.input + "'");
  }
  const std::size_t pending = producer.flush(std::chrono::milliseconds(o.flush_timeout_ms));
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const std::uint64_t delivered = producer.delivered();
  const std::uint64_t failed = producer.failed();

  if (!o.quiet) {
    const nlohmann::json j = {{"lines", lines},
                              {"bytes", bytes},
                              {"seconds", seconds},
                              {"lines_per_s", seconds > 0 ? static_cast<double>(lines) / seconds : 0.0},
                              {"delivered", delivered},
                              {"failed", failed},
                              {"pending", pending},
                              {"truncated_lines", cut_lines},
                              {"interrupted", g_interrupted != 0}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
  if (failed != 0 || pending != 0 || produce_errors != 0) {
    std::fprintf(stderr, "logguard: replay: %llu of %llu lines not delivered: %s\n",
                 static_cast<unsigned long long>(lines - delivered), static_cast<unsigned long long>(lines),
                 producer.error().c_str());
    return kRuntimeError;
  }
  return kOk;
}

// ---- tail --------------------------------------------------------------------------------

struct TailOptions {
  std::string brokers, topic;
  std::string output = "-";
  std::string format = "value";
  std::uint64_t count = 0;        // stop after this many messages, 0 = no limit
  std::int64_t timeout_ms = 0;    // overall deadline, 0 = none
  std::int64_t idle_ms = 0;       // stop after this long without a message, 0 = never
  std::int64_t connect_timeout_ms = 10000;
  std::vector<std::string> properties;
};

std::string message_json(const KafkaMessage& m, std::int64_t received_ms) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : m.headers) headers[k] = v;
  const nlohmann::json j = {{"topic", m.topic},
                            {"partition", m.partition},
                            {"offset", m.offset},
                            {"timestamp_ms", m.timestamp_ms},
                            {"timestamp_type", m.log_append_time ? "log_append" : "create"},
                            {"received_ms", received_ms},
                            {"key", m.key},
                            {"headers", headers},
                            {"value", m.value}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_tail(const TailOptions& o) {
  FilePtr out(o.output == "-" ? stdout : std::fopen(o.output.c_str(), "wb"));
  if (!out) throw core::LoadError("cannot open '" + o.output + "': " + std::strerror(errno));
  const auto properties = parse_properties(o.properties);
  std::unique_ptr<KafkaTopicReader> reader_ptr;
  try {
    reader_ptr = std::make_unique<KafkaTopicReader>(o.brokers, o.topic, properties,
                                                    std::chrono::milliseconds(o.connect_timeout_ms));
  } catch (const core::LoadError& e) {  // brokers unreachable or topic missing: like replay
    std::fprintf(stderr, "logguard: tail: %s\n", e.what());
    return kRuntimeError;
  }
  KafkaTopicReader& reader = *reader_ptr;
  InterruptGuard guard;
  const bool json = o.format == "json";
  const auto start = SteadyClock::now();
  auto last = start;
  std::uint64_t n = 0;
  KafkaMessage m;
  while (!g_interrupted && (o.count == 0 || n < o.count)) {
    const auto now = SteadyClock::now();
    if (o.timeout_ms > 0 && now - start >= std::chrono::milliseconds(o.timeout_ms)) break;
    if (o.idle_ms > 0 && now - last >= std::chrono::milliseconds(o.idle_ms)) break;
    if (!reader.poll(m, 100ms)) {
      if (!reader.error().empty()) {
        std::fprintf(stderr, "logguard: tail: %s\n", reader.error().c_str());
        return kRuntimeError;
      }
      continue;
    }
    last = SteadyClock::now();
    ++n;
    const std::string text = json ? message_json(m, wall_ms()) : m.value;
    std::fwrite(text.data(), 1, text.size(), out.get());
    std::fputc('\n', out.get());
    if (std::fflush(out.get()) != 0) throw std::runtime_error("write error on '" + o.output + "'");
  }
  if (o.count != 0 && n < o.count && !g_interrupted) {
    std::fprintf(stderr, "logguard: tail: %llu of %llu messages from %s\n", static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(o.count), o.topic.c_str());
    return kRuntimeError;
  }
  return kOk;
}

}  // namespace

void register_replay(CLI::App& root, Action& action) {
  auto opts = std::make_shared<ReplayOptions>();
  CLI::App* cmd = root.add_subcommand("replay", "Produce the lines of a file (or stdin) to a Kafka topic");
  cmd->add_option("-b,--brokers", opts->brokers, "bootstrap servers host:port[,...]")->required();
  cmd->add_option("-t,--topic", opts->topic, "topic to produce to (must exist)")->required();
  cmd->add_option("-i,--input", opts->input, "log file, or - for stdin")->capture_default_str();
  cmd->add_option("--rate", opts->rate, "lines per second, 0 = as fast as possible")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--loop", opts->loop, "passes over the file, 0 = until interrupted")->capture_default_str();
  cmd->add_option("--limit", opts->limit, "stop after this many lines, 0 = no limit")->capture_default_str();
  cmd->add_option("--key-pattern", opts->key_pattern,
                  "message key = the first match in the line (its capturing group, if it has one)");
  cmd->add_flag("--fresh-keys", opts->fresh_keys,
                "with --loop: passes after the first append \"0<pass>\" to the key in each line and in the "
                "message key (new sessions per pass, for soak runs)");
  cmd->add_option("-X,--property", opts->properties, "librdkafka producer property NAME=VALUE (repeatable)");
  cmd->add_option("--connect-timeout-ms", opts->connect_timeout_ms, "wait this long for the topic's metadata")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--flush-timeout-ms", opts->flush_timeout_ms, "wait this long for deliveries at the end")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opts->quiet, "no JSON summary on stdout");
  cmd->callback([opts, &action] { action = [opts] { return run_replay(*opts); }; });
}

void register_tail(CLI::App& root, Action& action) {
  auto opts = std::make_shared<TailOptions>();
  CLI::App* cmd = root.add_subcommand("tail", "Print the messages of a Kafka topic, from the beginning");
  cmd->add_option("-b,--brokers", opts->brokers, "bootstrap servers host:port[,...]")->required();
  cmd->add_option("-t,--topic", opts->topic, "topic to read (must exist)")->required();
  cmd->add_option("-o,--output", opts->output, "output file, or - for stdout")->capture_default_str();
  cmd->add_option("--format", opts->format, "value: one message value per line; json: one object per message")
      ->check(CLI::IsMember({"value", "json"}))
      ->capture_default_str();
  cmd->add_option("-n,--count", opts->count, "stop after this many messages (exit 1 if fewer came), 0 = no limit")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", opts->timeout_ms, "stop after this long in all, 0 = no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--idle-ms", opts->idle_ms, "stop after this long without a message, 0 = no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--connect-timeout-ms", opts->connect_timeout_ms, "wait this long for the topic's metadata")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("-X,--property", opts->properties, "librdkafka consumer property NAME=VALUE (repeatable)");
  cmd->callback([opts, &action] { action = [opts] { return run_tail(*opts); }; });
}

}  // namespace logguard::daemon::detail
