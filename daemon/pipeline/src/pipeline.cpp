// Pipeline: construction and run() -- the threads (see pipeline.hpp; each thread's work is in
// consumer.cpp, scoring.cpp, delivery.cpp, checkpoints.cpp and handover.cpp).
#include "logguard/pipeline/pipeline.hpp"

#include <pthread.h>

#include <thread>

#include "pipeline_impl.hpp"

namespace logguard::daemon {
namespace {

// Re-raises a nested config's error with its section in front.
template <class F>
void nested(const char* section, F&& f) {
  try {
    f();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(std::string(section) + "." + e.key(), e.message());
  }
}

}  // namespace

void PipelineConfig::validate() const {
  nested("window", [&] { window.validate(); });
  nested("batcher", [&] { batcher.validate(); });
  if (queue_capacity == 0) throw core::ConfigError("queue_capacity", "must be >= 1");
  if (poll_batch == 0) throw core::ConfigError("poll_batch", "must be >= 1");
  if (tick_ms <= 0) throw core::ConfigError("tick_ms", "must be > 0");
}

std::vector<SourcePosition> detail::released_positions(const Window& w) {
  std::vector<SourcePosition> out;
  out.reserve(w.released);
  for (std::size_t i = w.context; i < w.released && i < w.events.size(); ++i) out.push_back(w.events[i].pos);
  return out;
}

Pipeline::Impl::Impl(PipelineConfig c, Source& src, Mapper m, Scorer& sc, Sink& sk, TemplateText t, PipelineOptions o)
    : config((c.validate(), std::move(c))),
      source(src),
      mapper(std::move(m)),
      scorer(sc),
      sink(sk),
      template_text(std::move(t)),
      time(o.clock != nullptr ? *o.clock : Clock::system()),
      delivered_hook(std::move(o.on_delivered)),
      tick_hook(std::move(o.on_tick)),
      windower(config.window),
      clock(time),
      keyer(config.window),
      key_from_field(config.window.key_from == WindowConfig::KeyFrom::field),
      decoder(o.decoder),
      feedback(o.feedback),
      to_scorer(config.queue_capacity, config.overflow),
      to_sink(config.queue_capacity, Overflow::block) {
  const CheckpointOptions& ck = o.checkpoints;
  store = ck.store;
  checkpoint_interval_ms = store != nullptr && ck.interval_ms > 0 ? ck.interval_ms : 0;
  flush_at_stop = ck.flush_at_stop;
  handover = store != nullptr && ck.handover;
  handover_timeout = ck.handover_timeout;
  // After the checkpoint settings: a restored state is held in the tracker only without them.
  if (o.restore) restore(std::move(*o.restore));
}

void Pipeline::Impl::fail(std::string why) {
  {
    std::lock_guard lock(mu);
    if (failure.empty()) failure = std::move(why);
    failed = true;
  }
  done_cv.notify_all();
  to_scorer.close();
  to_sink.close();
}

Pipeline::Pipeline(PipelineConfig config, Source& source, Mapper mapper, Scorer& scorer, Sink& sink,
                   TemplateText template_text, PipelineOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), source, std::move(mapper), scorer, sink,
                                   std::move(template_text), std::move(options))) {}

Pipeline::~Pipeline() = default;

core::Expected<bool> Pipeline::run(const std::atomic<bool>& stop) {
  Impl& p = *impl_;
  p.install_rebalance_handlers();
  // Named for top -H / per-thread CPU in the benchmarks (the consumer is the calling thread,
  // left with the process name so that pgrep/pidof still find the daemon).
  std::thread scorer([&] {
    pthread_setname_np(pthread_self(), "lg-scorer");
    p.score_loop();
  });
  std::thread sinker([&] {
    pthread_setname_np(pthread_self(), "lg-sink");
    p.sink_loop();
  });
  p.consume(stop);
  p.to_scorer.close();
  scorer.join();
  sinker.join();
  p.source.set_revoke_handler({});
  p.source.set_assign_handler({});
  if (p.failed) {
    std::lock_guard lock(p.mu);
    return core::Error{p.failure};
  }
  if (p.checkpoint_interval_ms > 0) {
    if (!p.final_checkpoint_taken) {
      // Everything was flushed and delivered: the checkpoint holds the parser and positions.
      const auto [positions, job] = p.prepare_checkpoint();
      auto written = job();
      if (!written) return core::Error{"checkpoint at shutdown: " + written.error().message};
      p.checkpoint_done(positions, *written, {}, {});
    }
    return true;
  }
  p.store_offsets();  // everything is done now
  return true;
}

const PipelineStats& Pipeline::stats() const noexcept { return impl_->stats; }
WindowerStats Pipeline::windower_stats() const { return impl_->windower.stats(); }
std::size_t Pipeline::held_records() const { return impl_->tracker.held(); }

}  // namespace logguard::daemon
