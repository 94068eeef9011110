#include "logguard/kafka/state_store.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <set>

#include "client.hpp"
#include "logguard/kafka/admin.hpp"
#include "logguard/pipeline/checkpoint.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon {
namespace {

using core::ConfigError;
using SteadyClock = std::chrono::steady_clock;

// One chunk key: "<topic>|<partition>|<generation>|<chunk>|<chunks>".
struct ChunkKey {
  TopicPartition tp;
  std::uint64_t generation = 0;
  std::uint32_t chunk = 0, chunks = 0;
};

std::string format_key(const ChunkKey& k) {
  return k.tp.topic + "|" + std::to_string(k.tp.partition) + "|" + std::to_string(k.generation) + "|" +
         std::to_string(k.chunk) + "|" + std::to_string(k.chunks);
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_key(std::string_view key, ChunkKey& out) {
  std::string_view parts[5];
  for (int i = 0; i < 5; ++i) {
    const std::size_t bar = key.find('|');
    if ((bar == std::string_view::npos) != (i == 4)) return false;
    parts[i] = key.substr(0, bar);
    key = bar == std::string_view::npos ? std::string_view() : key.substr(bar + 1);
  }
  out.tp.topic = std::string(parts[0]);
  return !out.tp.topic.empty() && parse_number(parts[1], out.tp.partition) && parse_number(parts[2], out.generation) &&
         parse_number(parts[3], out.chunk) && parse_number(parts[4], out.chunks) && out.chunks > 0 &&
         out.chunk < out.chunks;
}

// Bytes a session adds to a chunk (close to its encoded size).
std::size_t session_bytes(const WindowerState::Session& s) {
  std::size_t n = s.key.size() + 48;
  for (const auto& e : s.events) n += e.line.size() + 40;
  return n;
}

// Delivery reports of one save (served by flush() on the saving thread).
struct Deliveries : RdKafka::DeliveryReportCb {
  std::uint64_t failed = 0;
  std::string first_error;
  void dr_cb(RdKafka::Message& m) override {
    if (m.msg_opaque() == nullptr) return;  // a tombstone: best effort
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      if (failed++ == 0) first_error = m.errstr();
    }
  }
};

}  // namespace

void HandoverConfig::validate() const {
  if (interval_ms <= 0) throw ConfigError("interval_ms", "must be > 0");
  if (timeout_ms <= 0) throw ConfigError("timeout_ms", "must be > 0");
  if (chunk_bytes < 4096 || chunk_bytes > 64 * 1024 * 1024)
    throw ConfigError("chunk_bytes", "must be between 4096 and 67108864");
}

struct KafkaStateStore::Impl {
  HandoverConfig config;
  std::string topic;
  StateModel model;
  std::string window_mode;
  std::string bootstrap;
  std::map<std::string, std::string> client_properties;  // for the admin client (kafka.producer)
  std::unique_ptr<RdKafka::Producer> producer;
  std::unique_ptr<RdKafka::KafkaConsumer> reader;
  Deliveries deliveries;
  int partitions = 1;  // of the state topic
  std::mutex mu;       // serializes save() and load()
  // Per input partition: the generation last saved or loaded and its chunk count; keys of
  // older generations still to be tombstoned.
  std::map<TopicPartition, std::pair<std::uint64_t, std::uint32_t>> generation;
  std::map<TopicPartition, std::vector<std::string>> stale;
  HandoverStoreStats stats;

  int state_partition(const TopicPartition& tp) const { return tp.partition % partitions; }

  bool produce(const std::string& key, const std::string* value, int partition) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const auto e = producer->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY,
                                       value ? const_cast<char*>(value->data()) : nullptr, value ? value->size() : 0,
                                       key.data(), key.size(), 0, value ? static_cast<void*>(&deliveries) : nullptr);
      if (e == RdKafka::ERR_NO_ERROR) return true;
      if (e != RdKafka::ERR__QUEUE_FULL) {
        if (value && deliveries.failed++ == 0) deliveries.first_error = RdKafka::err2str(e);
        return false;
      }
      producer->poll(10);
    }
    return false;
  }
};

KafkaStateStore::KafkaStateStore(const KafkaConfig& kafka, const HandoverConfig& config, std::string topic,
                                 const std::string& bootstrap, StateModel model, std::string window_mode)
    : impl_(std::make_unique<Impl>()) {
  auto& p = *impl_;
  config.validate();
  p.config = config;
  p.topic = std::move(topic);
  p.model = std::move(model);
  p.window_mode = std::move(window_mode);
  p.bootstrap = bootstrap;
  p.client_properties = kafka.producer;
  std::string err;
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set_or_throw(*conf, "bootstrap.servers", bootstrap);
    apply(*conf, "kafka.producer.", kafka.producer);
    set_or_throw(*conf, "enable.idempotence", "true");
    set_or_throw(*conf, "acks", "all");
    set_or_throw(*conf, "linger.ms", "5");
    set_or_throw(*conf, "message.max.bytes", std::to_string(std::max<std::size_t>(1000000, 2 * config.chunk_bytes)));
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&p.deliveries), err) != RdKafka::Conf::CONF_OK)
      throw ConfigError("handover", "cannot set the delivery callback: " + err);
    p.producer.reset(RdKafka::Producer::create(conf.get(), err));
    if (!p.producer) throw ConfigError("kafka.producer", "handover: cannot create producer: " + err);
  }
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set_or_throw(*conf, "bootstrap.servers", bootstrap);
    apply(*conf, "kafka.consumer.", kafka.consumer);
    set_or_throw(*conf, "group.id", kafka.group_id + "-handover-reader");  // never joins: manual assignment
    set_or_throw(*conf, "enable.auto.commit", "false");
    set_or_throw(*conf, "enable.auto.offset.store", "false");
    set_or_throw(*conf, "fetch.max.bytes", std::to_string(std::max<std::size_t>(52428800, 4 * config.chunk_bytes)));
    set_or_throw(*conf, "max.partition.fetch.bytes", std::to_string(std::max<std::size_t>(1048576, 2 * config.chunk_bytes)));
    p.reader.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!p.reader) throw ConfigError("kafka.consumer", "handover: cannot create consumer: " + err);
  }
}

KafkaStateStore::~KafkaStateStore() {
  if (impl_->producer) impl_->producer->flush(5000);
  if (impl_->reader) impl_->reader->close();
}

void KafkaStateStore::ensure_topic(int partitions, std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  auto n = daemon::ensure_topic(
      p.bootstrap, p.client_properties, p.topic, partitions,
      {{"cleanup.policy", "compact"}, {"max.message.bytes", std::to_string(2 * p.config.chunk_bytes + 65536)}}, timeout);
  if (!n) throw core::LoadError("handover.topic: " + n.error().message);
  p.partitions = std::max(1, *n);
}

core::Expected<std::uint64_t> KafkaStateStore::save(const PipelineCheckpoint& cp) {
  auto& p = *impl_;
  std::lock_guard lock(p.mu);
  std::map<TopicPartition, std::vector<const WindowerState::Session*>> by_tp;
  for (const auto& s : cp.windows.sessions) by_tp[s.tp].push_back(&s);
  p.deliveries.failed = 0;
  p.deliveries.first_error.clear();
  std::uint64_t bytes = 0, records = 0;
  std::vector<std::pair<TopicPartition, std::pair<std::uint64_t, std::uint32_t>>> written;
  const StateModel::Describe describe = p.model.current();  // the model running now, for every chunk
  for (const auto& pos : cp.positions) {
    const auto& sessions = by_tp[pos.tp];
    // Greedy chunks of at most chunk_bytes (a session larger than that goes alone).
    std::vector<std::pair<std::size_t, std::size_t>> chunks;  // [begin, end) into sessions
    std::size_t begin = 0, size = 0;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const std::size_t b = session_bytes(*sessions[i]);
      if (i > begin && size + b > p.config.chunk_bytes) {
        chunks.emplace_back(begin, i);
        begin = i;
        size = 0;
      }
      size += b;
    }
    if (begin < sessions.size() || chunks.empty()) chunks.emplace_back(begin, sessions.size());
    const std::uint64_t gen = p.generation[pos.tp].first + 1;
    const auto n = static_cast<std::uint32_t>(chunks.size());
    for (std::uint32_t c = 0; c < n; ++c) {
      PipelineCheckpoint part;
      part.positions = {pos};
      std::set<core::TemplateId> used;
      for (std::size_t i = chunks[c].first; i < chunks[c].second; ++i) {
        part.windows.sessions.push_back(*sessions[i]);
        add_used_templates(sessions[i]->events, used);
      }
      CheckpointMeta meta = describe(used);
      meta.window_mode = p.window_mode;
      meta.created_ms = wall_ms();
      const std::string value = encode_checkpoint(meta, part);
      if (!p.produce(format_key({pos.tp, gen, c, n}), &value, p.state_partition(pos.tp))) break;
      bytes += value.size();
      ++records;
    }
    written.push_back({pos.tp, {gen, n}});
  }
  const auto timeout = static_cast<int>(p.config.timeout_ms);
  if (p.producer->flush(timeout) != RdKafka::ERR_NO_ERROR && p.deliveries.failed == 0)
    return core::Error{"handover topic " + p.topic + ": records not delivered within " + std::to_string(timeout) + " ms"};
  if (p.deliveries.failed > 0)
    return core::Error{"handover topic " + p.topic + ": " + std::to_string(p.deliveries.failed) +
                       " record(s) not delivered: " + p.deliveries.first_error};
  // The new generations are durable: older ones can go.
  for (const auto& [tp, gen] : written) {
    auto& previous = p.generation[tp];
    auto& stale = p.stale[tp];
    for (std::uint32_t c = 0; previous.first > 0 && c < previous.second; ++c)
      stale.push_back(format_key({tp, previous.first, c, previous.second}));
    for (const auto& key : stale) p.produce(key, nullptr, p.state_partition(tp));
    stale.clear();
    previous = gen;
  }
  p.producer->poll(0);
  p.stats.saves += written.size();
  p.stats.records_written += records;
  p.stats.bytes_written += bytes;
  return bytes;
}

core::Expected<PipelineCheckpoint> KafkaStateStore::load(const std::vector<TopicPartition>& tps) {
  auto& p = *impl_;
  std::lock_guard lock(p.mu);
  const std::set<TopicPartition> wanted(tps.begin(), tps.end());
  std::set<int> state_parts;
  for (const auto& tp : tps) state_parts.insert(p.state_partition(tp));
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(p.config.timeout_ms);
  auto left_ms = [&] {
    return static_cast<int>(std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count()));
  };
  // Read every wanted state partition up to its high watermark.
  std::map<int, std::int64_t> end;  // state partition -> high watermark
  PartitionList assign;
  for (int sp : state_parts) {
    std::int64_t lo = 0, hi = 0;
    const auto e = p.reader->query_watermark_offsets(p.topic, sp, &lo, &hi, left_ms());
    if (e != RdKafka::ERR_NO_ERROR)
      return core::Error{"handover topic " + p.topic + " partition " + std::to_string(sp) + ": " + RdKafka::err2str(e)};
    if (hi > lo) {
      end[sp] = hi;
      assign.v.push_back(RdKafka::TopicPartition::create(p.topic, sp, lo));
    }
  }
  std::map<std::string, std::string> latest;  // key -> value (tombstones erase)
  if (!assign.v.empty()) {
    if (const auto e = p.reader->assign(assign.v); e != RdKafka::ERR_NO_ERROR)
      return core::Error{"handover topic " + p.topic + ": cannot assign: " + RdKafka::err2str(e)};
    std::string problem;
    while (!end.empty()) {
      if (SteadyClock::now() >= deadline) {
        problem = "not read to its end within " + std::to_string(p.config.timeout_ms) + " ms";
        break;
      }
      std::unique_ptr<RdKafka::Message> m(p.reader->consume(std::min(100, left_ms())));
      if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) continue;
      if (m->err() != RdKafka::ERR_NO_ERROR) {
        if (m->err() == RdKafka::ERR__FATAL) {
          problem = m->errstr();
          break;
        }
        continue;  // transient; librdkafka retries
      }
      const std::string key(static_cast<const char*>(m->key_pointer() ? m->key_pointer() : ""), m->key_len());
      ChunkKey k;
      if (parse_key(key, k) && wanted.count(k.tp)) {
        if (m->payload() == nullptr)
          latest.erase(key);
        else
          latest[key] = std::string(static_cast<const char*>(m->payload()), m->len());
      }
      if (auto it = end.find(m->partition()); it != end.end() && m->offset() + 1 >= it->second) end.erase(it);
    }
    p.reader->unassign();
    if (!problem.empty()) return core::Error{"handover topic " + p.topic + ": " + problem};
  }
  // Per partition: the newest generation with every chunk present and readable.
  struct Generation {
    std::uint32_t chunks = 0;
    std::map<std::uint32_t, const std::string*> values;
    std::vector<std::string> keys;
  };
  std::map<TopicPartition, std::map<std::uint64_t, Generation>> found;
  for (const auto& [key, value] : latest) {
    ChunkKey k;
    parse_key(key, k);
    auto& g = found[k.tp][k.generation];
    if (g.chunks != 0 && g.chunks != k.chunks) g.chunks = UINT32_MAX;  // inconsistent: never complete
    else g.chunks = k.chunks;
    g.values[k.chunk] = &value;
    g.keys.push_back(key);
  }
  PipelineCheckpoint out;
  for (auto& [tp, gens] : found) {
    // Every key seen goes once the next generation is delivered; that one is numbered after
    // the newest seen, readable or not.
    auto& stale_keys = p.stale[tp];
    for (const auto& [gen, g] : gens) stale_keys.insert(stale_keys.end(), g.keys.begin(), g.keys.end());
    p.generation[tp] = {std::max(p.generation[tp].first, gens.rbegin()->first), 0};
    bool taken = false;
    for (auto g = gens.rbegin(); g != gens.rend(); ++g) {
      if (taken || g->second.values.size() != g->second.chunks) continue;
      PipelineCheckpoint state;
      bool ok = true;
      for (const auto& [c, value] : g->second.values) {
        try {
          auto file = decode_checkpoint(*value, "handover topic " + p.topic + " key " + format_key({tp, g->first, c, g->second.chunks}));
          if (file.meta.window_mode != p.window_mode || file.pipeline.positions.size() != 1) {
            ok = false;
            break;
          }
          p.model.adapt(file.meta, file.pipeline);
          if (state.positions.empty()) state.positions = file.pipeline.positions;
          for (auto& s : file.pipeline.windows.sessions) {
            s.tp = tp;
            state.windows.sessions.push_back(std::move(s));
          }
        } catch (const core::LoadError& e) {
          log_warning("%s", e.what());
          ++p.stats.corrupt_records;
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      taken = true;
      out.positions.push_back({tp, state.positions.front().offset});
      for (auto& s : state.windows.sessions) out.windows.sessions.push_back(std::move(s));
      ++p.stats.loads;
    }
  }
  return out;
}

const HandoverStoreStats& KafkaStateStore::stats() const noexcept { return impl_->stats; }
const std::string& KafkaStateStore::topic() const noexcept { return impl_->topic; }

}  // namespace logguard::daemon
