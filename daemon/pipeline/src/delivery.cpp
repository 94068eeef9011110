// The sink thread (see pipeline_impl.hpp): scored windows -> anomaly records -> Sink::write;
// releases applied in window order (InOrderReleaser) once records are delivered.
#include <chrono>
#include <memory>
#include <optional>

#include "pipeline_impl.hpp"

namespace logguard::daemon {

using namespace std::chrono_literals;

void Pipeline::Impl::publish_done(const InOrderReleaser& releaser) {
  const std::uint64_t d = releaser.drained();
  if (d == done_windows.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(mu);
    done_windows = d;
  }
  done_cv.notify_all();
}

void Pipeline::Impl::sink_loop() {
  InOrderReleaser releaser(tracker);
  const bool tracks = tracks_records();
  std::vector<detail::Scored> got;
  const std::string version = scorer.model_version();
  // Delivery callbacks still pending when this loop ends (flush timed out) may run later,
  // from the sink's destructor: they must not touch `releaser` or the pipeline then.
  auto alive = std::make_shared<bool>(true);
  while (!failed) {
    got.clear();
    const std::size_t n = to_sink.pop_many(got, 64, 50ms);
    {
      std::lock_guard lock(mu);
      for (auto& d : dropped) releaser.add(std::move(d), false);
      dropped.clear();
    }
    for (const auto& s : got) {
      bool anomalous = !s.window.release_only && s.verdict.anomalous;
      std::optional<AnomalyPattern> pattern;
      if (anomalous) {
        ++stats.anomalies;
        // Operator feedback: a pattern marked false alarm for this stream is not published.
        pattern = anomaly_pattern(s.window, s.verdict, config.record.stream, template_text);
        if (feedback != nullptr) {
          const auto mark = feedback->verdict(config.record.stream, pattern->id);
          if (mark == FeedbackVerdict::false_alarm) {
            ++stats.suppressed;
            anomalous = false;
          } else if (mark == FeedbackVerdict::confirmed) {
            ++stats.confirmed;
          }
        }
      }
      auto ticket = releaser.add(tracks ? detail::released_positions(s.window) : std::vector<SourcePosition>{}, anomalous);
      publish_done(releaser);
      if (!anomalous) continue;
      const std::int64_t last_ms = s.window.events.empty() ? 0 : s.window.events.back().timestamp_ms;
      sink.write(s.window.key, anomaly_record_id(s.window, version),
                 anomaly_record_json(s.window, s.verdict, version, template_text, config.record, &*pattern),
                 [this, &releaser, ticket, alive, last_ms](bool ok, std::string_view error) {
                   if (!*alive) return;
                   if (ok) {
                     ++stats.delivered;
                     if (delivered_hook) delivered_hook(last_ms);
                     releaser.complete(ticket);
                   } else {
                     ++stats.delivery_failures;
                     fail("sink: " + std::string(error));
                   }
                 });
    }
    sink.poll(0ms);
    publish_done(releaser);
    if (n == 0 && to_sink.closed_and_empty()) break;
  }
  if (sink.flush(30s) != 0) fail("sink: records still undelivered at shutdown");
  *alive = false;
}

}  // namespace logguard::daemon
