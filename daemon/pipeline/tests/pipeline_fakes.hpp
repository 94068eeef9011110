#pragma once
// Fakes behind the pipeline's stage interfaces, shared by the pipeline tests (and the kafka
// and service tests that run a pipeline): a mapper and a scorer keyed on HDFS WARN lines and a
// sink that captures records and completes them on the next poll(), like a Kafka producer.
// Single-threaded use per object, as the interfaces require.
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logguard/pipeline/checkpoint.hpp"
#include "logguard/pipeline/stages.hpp"
#include "logguard/pipeline/state_store.hpp"

namespace logguard::daemon::testing {

/// An event of `topic` partition `part` at offset `off` ("line <off>", timestamp = offset).
inline Event event(std::int32_t part, std::int64_t off, std::uint32_t id = 1, const std::string& topic = "logs") {
  Event e;
  e.template_id = id;
  e.pos = {{topic, part}, off};
  e.timestamp_ms = off;
  e.line = "line " + std::to_string(off);
  return e;
}

/// WARN lines map to template 7, everything else to 1.
inline core::TemplateId fake_map(const Record& r) { return r.line.view().find(" WARN ") != std::string::npos ? 7 : 1; }

inline std::string fake_template_text(core::TemplateId id) { return id == 7 ? "WARN <*>" : "INFO <*>"; }

/// Flags every event of template 7 as a failing position (expected {1, 3}). `gate` runs
/// before each batch (tests block the scorer with it); from batch `fail_after` on it fails.
class FakeScorer : public Scorer {
 public:
  core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) override {
    if (gate) gate();
    if (fail_after >= 0 && calls >= fail_after) return core::Error{"device lost"};
    ++calls;
    std::vector<Verdict> out;
    for (const Window* w : batch) {
      Verdict v;
      for (std::size_t i = 0; i < w->events.size(); ++i)
        if (w->events[i].template_id == 7) v.failing.push_back(FailingPosition{i, 7, {1, 3}});
      v.anomalous = !v.failing.empty();
      v.score = v.anomalous ? 0.9 : 0.1;
      out.push_back(std::move(v));
    }
    return out;
  }
  std::string model_version() const override { return "fake-v1"; }
  std::function<void()> gate;
  int calls = 0;
  int fail_after = -1;
};

/// A model that never changes: states name `version`, carry no template texts and need no
/// re-mapping.
inline StateModel fixed_state_model(std::string version) {
  StateModel m;
  m.current = [version] {
    return StateModel::Describe([version](const std::set<core::TemplateId>&) {
      CheckpointMeta meta;
      meta.model_version = version;
      return meta;
    });
  };
  m.adapt = [](const CheckpointMeta&, PipelineCheckpoint&) { return std::pair<std::size_t, std::size_t>{0, 0}; };
  return m;
}

/// A StateStore whose steps are functions (tests that watch the moment of a checkpoint); an
/// unset prepare runs save(), an unset save / load succeeds with nothing.
class HookStore : public StateStore {
 public:
  std::function<CheckpointJob(PipelineCheckpoint)> on_prepare;
  std::function<core::Expected<std::uint64_t>(const PipelineCheckpoint&)> on_save;
  CheckpointJob prepare(PipelineCheckpoint state) override {
    return on_prepare ? on_prepare(std::move(state)) : StateStore::prepare(std::move(state));
  }
  core::Expected<std::uint64_t> save(const PipelineCheckpoint& state) override {
    return on_save ? on_save(state) : core::Expected<std::uint64_t>(std::uint64_t{0});
  }
  core::Expected<PipelineCheckpoint> load(const std::vector<TopicPartition>&) override { return PipelineCheckpoint{}; }
};

/// Captures every record; completes writes on the next poll().
class CapturingSink : public Sink {
 public:
  void write(std::string_view, std::string_view id, std::string_view json, Done done) override {
    records.emplace_back(json);
    ids.insert(std::string(id));
    bodies[std::string(id)].insert(std::string(json));
    pending.push_back(std::move(done));
  }
  void poll(std::chrono::milliseconds) override {
    for (auto& d : pending) d(true, {});
    pending.clear();
  }
  std::size_t flush(std::chrono::milliseconds t) override {
    poll(t);
    return 0;
  }
  std::vector<std::string> records;                     // in write order
  std::set<std::string> ids;
  std::map<std::string, std::set<std::string>> bodies;  // id -> distinct bodies
  std::vector<Done> pending;
};

}  // namespace logguard::daemon::testing
