#include "logguard/pipeline/checkpoint.hpp"

#include "logguard/core/file_io.hpp"
#include "logguard/core/sequences.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#define XXH_STATIC_LINKING_ONLY  // XXH64_state_t by value
#include <xxhash.h>

namespace logguard::daemon {
namespace {

constexpr char kMagic[8] = {'L', 'G', 'C', 'K', 'P', 'T', '\r', '\n'};
// Version 2 checks the file with XXH64; version 1 (FNV-1a, ~0.4 s per 100k open sessions on
// this machine) is still read. Version 3 adds the sessions' positions, version 4 the evicted
// sessions remembered; a file (or handover record) without any is written as version 3, so
// that builds reading up to 3 still read it.
constexpr std::uint32_t kVersion = 4;
constexpr std::uint32_t kOldestVersion = 1;
constexpr const char* kFileName = "checkpoint.lgc";

std::uint64_t fnv1a(const char* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The encoder's output: bytes collect in a 1 MiB buffer that is handed to `drain` when full
// (a file descriptor or a string), with a running XXH64 of everything written. Streaming keeps a
// checkpoint of ~350 MB from needing a second ~350 MB buffer (and its page faults).
class Writer {
 public:
  using Drain = std::function<bool(std::string_view)>;
  explicit Writer(Drain drain) : drain_(std::move(drain)) {
    buf_.reserve(kChunk);
    XXH64_reset(&hash_, 0);
  }
  void u8(std::uint8_t v) { fixed(v); }
  void u32(std::uint32_t v) { fixed(v); }
  void u64(std::uint64_t v) { fixed(v); }
  void i64(std::int64_t v) { fixed(static_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    raw(s);
  }
  void raw(std::string_view s) {
    if (buf_.size() + s.size() > kChunk) flush();
    if (s.size() >= kChunk) {
      put(s);
      return;
    }
    buf_.append(s);
  }
  // Writes the checksum of everything before it (not hashed itself) and flushes. Returns the
  // total size, or false from a failed drain.
  bool finish() {
    flush();
    const std::uint64_t sum = XXH64_digest(&hash_);
    char b[8];
    for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<char>((sum >> (8 * i)) & 0xff);
    ok_ = ok_ && drain_(std::string_view(b, 8));
    size_ += 8;
    return ok_;
  }
  std::uint64_t size() const { return size_; }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  template <class T>
  void fixed(T v) {
    char b[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    if (buf_.size() + sizeof(T) > kChunk) flush();
    buf_.append(b, sizeof(T));
  }
  void flush() {
    if (buf_.empty()) return;
    put(buf_);
    buf_.clear();
  }
  void put(std::string_view s) {
    XXH64_update(&hash_, s.data(), s.size());
    size_ += s.size();
    ok_ = ok_ && drain_(s);  // after a failure nothing more is written
  }
  Drain drain_;
  std::string buf_;
  XXH64_state_t hash_;
  std::uint64_t size_ = 0;
  bool ok_ = true;
};

class Reader {
 public:
  Reader(std::string_view in, const std::string& source) : in_(in), source_(source) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint32_t u32() { return fixed<std::uint32_t>(); }
  std::uint64_t u64() { return fixed<std::uint64_t>(); }
  std::int64_t i64() { return static_cast<std::int64_t>(fixed<std::uint64_t>()); }
  std::string str() { return std::string(str_view()); }
  /// A string's bytes in the input (valid while the input is).
  std::string_view str_view() {
    const std::uint64_t n = u64();
    if (n > in_.size() - pos_) fail("string length " + std::to_string(n) + " runs past the end");
    return take(n);
  }
  /// A count of items of at least `min_item_bytes` each, checked against what is left.
  std::size_t count(std::size_t min_item_bytes) {
    const std::uint64_t n = u64();
    if (min_item_bytes > 0 && n > (in_.size() - pos_) / min_item_bytes) fail("count " + std::to_string(n) + " runs past the end");
    return static_cast<std::size_t>(n);
  }
  bool done() const { return pos_ == in_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw core::LoadError(source_ + ": corrupt checkpoint at byte " + std::to_string(pos_) + ": " + why);
  }

 private:
  std::string_view take(std::size_t n) {
    if (n > in_.size() - pos_) fail("truncated");
    auto v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  template <class T>
  T fixed() {
    auto b = take(sizeof(T));
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<unsigned char>(b[i])) << (8 * i);
    return v;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  const std::string& source_;
};

// Events reference topics by index into one table.
struct TopicTable {
  std::map<std::string, std::uint32_t> index;
  std::vector<std::string> names;
  std::uint32_t last = 0;  // index of the previous lookup: consecutive events share a topic
  std::uint32_t of(const std::string& t) {
    if (!names.empty() && names[last] == t) return last;
    auto [it, fresh] = index.try_emplace(t, static_cast<std::uint32_t>(names.size()));
    if (fresh) names.push_back(t);
    return last = it->second;
  }
};

void collect_topics(const PipelineCheckpoint& p, TopicTable& t) {
  for (const auto& pos : p.positions) t.of(pos.tp.topic);
  for (const auto& s : p.windows.sessions)
    for (const auto& e : s.events) t.of(e.pos.tp.topic);
  for (const auto& e : p.windows.stream) t.of(e.pos.tp.topic);
}

void put_events(Writer& w, TopicTable& t, const std::vector<Event>& events) {
  w.u64(events.size());
  for (const auto& e : events) {
    w.u32(e.template_id);
    w.u32(t.of(e.pos.tp.topic));
    w.u32(static_cast<std::uint32_t>(e.pos.tp.partition));
    w.i64(e.pos.offset);
    w.i64(e.timestamp_ms);
    w.str(e.line);
  }
}

std::vector<Event> get_events(Reader& r, const std::vector<std::string>& topics) {
  std::vector<Event> out(r.count(36));
  for (auto& e : out) {
    e.template_id = r.u32();
    const std::uint32_t topic = r.u32();
    if (topic >= topics.size()) r.fail("topic index " + std::to_string(topic) + " out of range");
    e.pos.tp.topic = topics[topic];
    e.pos.tp.partition = static_cast<std::int32_t>(r.u32());
    e.pos.offset = r.i64();
    e.timestamp_ms = r.i64();
    e.line = SharedLine(r.str_view());  // one allocation, no temporary std::string
  }
  return out;
}

std::string io_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string checkpoint_path(const std::string& dir) { return dir + "/" + kFileName; }

namespace {

void encode(Writer& w, const CheckpointMeta& m, const PipelineCheckpoint& p) {
  w.raw(std::string_view(kMagic, sizeof kMagic));
  const bool evicted = !p.windows.evicted.empty();
  w.u32(evicted ? 4 : 3);
  w.str(m.model_version);
  w.str(m.window_mode);
  w.i64(m.created_ms);
  w.str(m.parser_snapshot);
  w.u64(m.templates.size());
  for (const auto& [id, text] : m.templates) {
    w.u32(id);
    w.str(text);
  }
  TopicTable topics;
  collect_topics(p, topics);
  w.u64(topics.names.size());
  for (const auto& t : topics.names) w.str(t);
  w.u64(p.positions.size());
  for (const auto& pos : p.positions) {
    w.u32(topics.of(pos.tp.topic));
    w.u32(static_cast<std::uint32_t>(pos.tp.partition));
    w.i64(pos.offset);
  }
  const auto& win = p.windows;
  w.u64(win.sessions.size());
  for (const auto& s : win.sessions) {
    w.str(s.key);
    w.u64(s.unscored);
    w.u64(s.next_sequence);
    w.i64(s.idle_ms);
    // version 3: the session's position (a suspended session resumes where it paused)
    w.u8(s.suspended ? 1 : 0);
    w.u64(s.start);
    w.u64(s.judged);
    w.u64(s.context);
    put_events(w, topics, s.events);
  }
  w.u8(win.window_open ? 1 : 0);
  w.i64(win.window_start);
  w.u64(win.stream_unscored);
  w.u64(win.stream_sequence);
  w.i64(win.stream_idle_ms);
  put_events(w, topics, win.stream);
  if (evicted) {  // version 4
    w.u64(win.evicted.size());
    std::size_t at = 0;
    for (const auto& e : win.evicted) {
      w.u64(e.key_hash);
      w.u64(e.start);
      w.u64(e.judged);
      w.u64(e.next_sequence);
      const std::size_t n = std::min(e.context, win.evicted_context.size() - std::min(at, win.evicted_context.size()));
      w.u64(n);
      for (std::size_t i = 0; i < n; ++i) w.u32(win.evicted_context[at + i]);
      at += n;
    }
  }
}

}  // namespace

std::string encode_checkpoint(const CheckpointMeta& m, const PipelineCheckpoint& p) {
  std::string out;
  Writer w([&out](std::string_view s) {
    out.append(s);
    return true;
  });
  encode(w, m, p);
  w.finish();
  return out;
}

CheckpointFile decode_checkpoint(const std::string& bytes, const std::string& source) {
  if (bytes.size() < sizeof kMagic + 4 + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw core::LoadError(source + ": not a logguard checkpoint (bad magic)");
  const std::size_t body = bytes.size() - 8;
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < 8; ++i) stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[body + i])) << (8 * i);
  Reader r(std::string_view(bytes).substr(0, body), source);
  std::string magic(sizeof kMagic, '\0');
  for (auto& ch : magic) ch = static_cast<char>(r.u8());
  const std::uint32_t version = r.u32();
  if (version < kOldestVersion || version > kVersion)
    throw core::LoadError(source + ": checkpoint format version " + std::to_string(version) + " (this build reads " +
                          std::to_string(kOldestVersion) + " to " + std::to_string(kVersion) + ")");
  const std::uint64_t sum = version == 1 ? fnv1a(bytes.data(), body) : XXH64(bytes.data(), body, 0);
  if (sum != stored) throw core::LoadError(source + ": corrupt checkpoint (checksum mismatch)");
  CheckpointFile c;
  c.meta.model_version = r.str();
  c.meta.window_mode = r.str();
  c.meta.created_ms = r.i64();
  c.meta.parser_snapshot = r.str();
  c.meta.templates.resize(r.count(12));
  for (auto& [id, text] : c.meta.templates) {
    id = r.u32();
    text = r.str();
  }
  std::vector<std::string> topics(r.count(8));
  for (auto& t : topics) t = r.str();
  c.pipeline.positions.resize(r.count(16));
  for (auto& p : c.pipeline.positions) {
    const std::uint32_t t = r.u32();
    if (t >= topics.size()) r.fail("topic index out of range");
    p.tp.topic = topics[t];
    p.tp.partition = static_cast<std::int32_t>(r.u32());
    p.offset = r.i64();
  }
  auto& win = c.pipeline.windows;
  win.sessions.resize(r.count(40));
  for (auto& s : win.sessions) {
    s.key = r.str();
    s.unscored = r.u64();
    s.next_sequence = r.u64();
    s.idle_ms = r.i64();
    if (version >= 3) {
      s.positioned = true;
      s.suspended = r.u8() != 0;
      s.start = r.u64();
      s.judged = r.u64();
      s.context = r.u64();
    }
    s.events = get_events(r, topics);
    if (s.context > s.events.size()) r.fail("session context beyond its events");
  }
  win.window_open = r.u8() != 0;
  win.window_start = r.i64();
  win.stream_unscored = r.u64();
  win.stream_sequence = r.u64();
  win.stream_idle_ms = r.i64();
  win.stream = get_events(r, topics);
  if (version >= 4) {
    win.evicted.resize(r.count(40));
    for (auto& e : win.evicted) {
      e.key_hash = r.u64();
      e.start = r.u64();
      e.judged = r.u64();
      e.next_sequence = r.u64();
      e.context = r.count(4);
      for (std::size_t i = 0; i < e.context; ++i) win.evicted_context.push_back(r.u32());
    }
  }
  if (!r.done()) r.fail("trailing bytes");
  return c;
}

core::Expected<std::uint64_t> write_checkpoint(const std::string& dir, const CheckpointMeta& m,
                                               const PipelineCheckpoint& p) {
  const std::string path = checkpoint_path(dir);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return core::Error{io_error("cannot create", tmp)};
  std::string write_error;
  Writer w([&](std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::write(fd, s.data(), s.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        write_error = io_error("cannot write", tmp);
        return false;
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  });
  encode(w, m, p);
  if (!w.finish()) {
    ::close(fd);
    return core::Error{write_error};
  }
  if (::fsync(fd) != 0) {
    auto e = io_error("cannot fsync", tmp);
    ::close(fd);
    return core::Error{e};
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return core::Error{io_error("cannot rename to", path)};
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return w.size();
}

std::optional<CheckpointFile> read_checkpoint(const std::string& dir) {
  const std::string path = checkpoint_path(dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  const auto bytes = core::read_file_bytes(path);
  if (!bytes) throw core::LoadError(io_error("cannot read", path));
  return decode_checkpoint(*bytes, path);
}

void add_used_templates(const std::vector<Event>& events, std::set<core::TemplateId>& used) {
  // A few dozen ids over millions of events: skip repeats cheaply.
  bool any = false;
  core::TemplateId last = 0;
  for (const auto& e : events) {
    if (any && e.template_id == last) continue;
    used.insert(last = e.template_id);
    any = true;
  }
}

std::pair<std::size_t, std::size_t> remap_templates(const CheckpointMeta& meta, PipelineCheckpoint& p,
                                                    const std::string& model_version,
                                                    const std::unordered_map<std::string, core::TemplateId>& by_text) {
  if (meta.model_version == model_version) return {0, 0};
  std::unordered_map<std::uint32_t, core::TemplateId> remap;
  for (const auto& [id, text] : meta.templates) {
    auto it = by_text.find(core::normalize_template_text(text));
    remap[id] = it == by_text.end() ? 0 : it->second;
  }
  std::size_t remapped = 0, lost = 0;
  auto apply = [&](std::vector<Event>& v) {
    for (auto& e : v) {
      auto it = remap.find(e.template_id);
      const core::TemplateId to = it == remap.end() ? 0 : it->second;
      if (to == 0 && e.template_id != 0) ++lost;
      e.template_id = to;
      ++remapped;
    }
  };
  for (auto& s : p.windows.sessions) apply(s.events);
  apply(p.windows.stream);
  return {remapped, lost};
}

}  // namespace logguard::daemon
