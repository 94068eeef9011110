#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/pipeline/windower.hpp"

using namespace logguard;
using namespace logguard::daemon;

namespace {

Event ev(std::int64_t offset, core::TemplateId tid = 1, std::int64_t ts = 0) {
  Event e;
  e.template_id = tid;
  e.pos = SourcePosition{TopicPartition{"t", 0}, offset};
  e.timestamp_ms = ts;
  e.line = "line " + std::to_string(offset);
  return e;
}

std::vector<std::int64_t> offsets(const Window& w) {
  std::vector<std::int64_t> o;
  for (const auto& e : w.events) o.push_back(e.pos.offset);
  return o;
}

std::vector<std::int64_t> released(const Window& w) {
  std::vector<std::int64_t> o;
  for (std::size_t i = w.context; i < w.released; ++i) o.push_back(w.events[i].pos.offset);
  return o;
}

std::size_t add(Windower& w, std::int64_t offset, std::string_view key, std::int64_t now,
                std::vector<Window>& out) {
  std::string_view keys[] = {key};
  return w.add(ev(offset), keys, now, out);
}

WindowConfig session_cfg(std::size_t length, std::size_t stride = 0) {
  WindowConfig c;
  c.length = length;
  c.stride = stride;
  c.idle_timeout_ms = 1000;
  c.end_timeout_ms = 0;  // idle ends a session (the suspension tests set it)
  return c;
}

}  // namespace

TEST_CASE("window config validation names the key", "[windower]") {
  auto key_of = [](WindowConfig c) {
    try {
      c.validate();
    } catch (const core::ConfigError& e) {
      return e.key();
    }
    return std::string("<valid>");
  };
  CHECK(key_of(WindowConfig{}) == "<valid>");
  WindowConfig c;
  c.length = 0;
  CHECK(key_of(c) == "length");
  c = {};
  c.stride = c.length + 1;
  CHECK(key_of(c) == "stride");
  c = {};
  c.max_open_sessions = 0;
  CHECK(key_of(c) == "max_open_sessions");
  c = {};
  c.idle_timeout_ms = -1;
  CHECK(key_of(c) == "idle_timeout_ms");
  c = {};
  c.key_pattern = "";
  CHECK(key_of(c) == "key_pattern");
  c = {};
  c.mode = WindowConfig::Mode::time;
  c.window_ms = 0;
  CHECK(key_of(c) == "window_ms");
  c.window_ms = 10;
  c.stride_ms = 11;
  CHECK(key_of(c) == "stride_ms");
  CHECK_THROWS_AS(Windower(c), core::ConfigError);
}

TEST_CASE("tumbling session windows close at max length and release everything", "[windower]") {
  Windower w(session_cfg(3));
  std::vector<Window> out;
  CHECK(add(w, 0, "a", 0, out) == 1);
  add(w, 1, "b", 0, out);
  add(w, 2, "a", 0, out);
  CHECK(out.empty());
  add(w, 3, "a", 0, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].key == "a");
  CHECK(out[0].reason == CloseReason::max_length);
  CHECK(out[0].sequence == 0);
  CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 2, 3});
  CHECK(out[0].released == 3);
  CHECK_FALSE(out[0].release_only);
  CHECK(w.buffered_events() == 1);  // "b"
  CHECK(w.open_sessions() == 2);    // "a" stays open, empty

  out.clear();
  w.flush(out);
  REQUIRE(out.size() == 1);  // the empty session "a" emits nothing
  CHECK(out[0].key == "b");
  CHECK(out[0].reason == CloseReason::shutdown);
  CHECK(offsets(out[0]) == std::vector<std::int64_t>{1});
  CHECK(w.open_sessions() == 0);
  CHECK(w.buffered_events() == 0);
}

TEST_CASE("sliding session windows overlap by W - stride and release the stride", "[windower]") {
  Windower w(session_cfg(4, 2));
  std::vector<Window> out;
  for (int i = 0; i < 8; ++i) add(w, i, "s", 0, out);
  REQUIRE(out.size() == 3);
  CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(released(out[0]) == std::vector<std::int64_t>{0, 1});
  CHECK(offsets(out[1]) == std::vector<std::int64_t>{2, 3, 4, 5});
  CHECK(released(out[1]) == std::vector<std::int64_t>{2, 3});
  CHECK(offsets(out[2]) == std::vector<std::int64_t>{4, 5, 6, 7});
  CHECK(out[2].sequence == 2);

  SECTION("closing right after a full window only releases (nothing new to score)") {
    out.clear();
    w.flush(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].release_only);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{6, 7});
    CHECK(out[0].released == 2);
    CHECK(w.stats().release_only_windows == 1);
  }
  SECTION("a new event after the last window makes the final window a scored one") {
    add(w, 8, "s", 0, out);
    out.clear();
    w.flush(out);
    REQUIRE(out.size() == 1);
    CHECK_FALSE(out[0].release_only);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{6, 7, 8});
    CHECK(out[0].released == 3);
  }
}

TEST_CASE("every event is released exactly once per session it joined", "[windower]") {
  for (std::int64_t end_timeout : {0, 2500})
  for (std::size_t length : {1u, 2u, 3u, 5u, 7u}) {
    for (std::size_t stride = 1; stride <= length; ++stride) {
      WindowConfig c = session_cfg(length, stride);
      c.max_open_sessions = 3;
      c.end_timeout_ms = end_timeout;  // 2500: idle sessions are suspended, then end
      Windower w(c);
      std::vector<Window> out;
      std::map<std::int64_t, int> expected, got;
      std::int64_t now = 0;
      for (std::int64_t i = 0; i < 200; ++i) {
        // Lines name 0, 1 or 2 of 5 sessions; time advances so that some sessions expire.
        std::vector<std::string> names;
        if (i % 7 != 0) names.push_back("k" + std::to_string(i % 5));
        if (i % 11 == 0) names.push_back("k" + std::to_string((i + 2) % 5));
        if (i % 13 == 0 && !names.empty()) names.push_back(names.front());  // duplicate key
        std::vector<std::string_view> keys(names.begin(), names.end());
        now += (i % 17 == 0) ? 1500 : 10;
        w.tick(now, out);
        expected[i] = static_cast<int>(w.add(ev(i), keys, now, out));
      }
      w.flush(out);
      for (const auto& win : out) {
        CHECK(win.context <= win.released);
        CHECK(win.released <= win.events.size());
        CHECK((length == 0 || win.events.size() <= length));
        for (std::size_t k = win.context; k < win.released; ++k) ++got[win.events[k].pos.offset];
      }
      for (auto& [off, n] : expected)
        if (n == 0) got.emplace(off, 0);
      INFO("length " << length << " stride " << stride << " end_timeout " << end_timeout);
      CHECK(got == expected);
      CHECK(w.buffered_events() == 0);
      // A stop suspends the sessions (kept for the final checkpoint) or closes them.
      CHECK(w.open_sessions() == (end_timeout > 0 ? w.suspended_sessions() : 0));
      CHECK(w.stats().sessions_evicted > 0);
      CHECK(w.stats().sessions_idle_closed + w.stats().sessions_suspended > 0);
      CHECK(w.stats().unkeyed_events > 0);
    }
  }
}

TEST_CASE("an idle session is suspended, continues with its last events as context, then ends", "[windower]") {
  WindowConfig c = session_cfg(6, 3);  // overlap 3 events
  c.end_timeout_ms = 5000;
  c.score_closing = true;
  Windower w(c);
  std::vector<Window> out;
  for (std::int64_t i = 0; i < 4; ++i) add(w, i, "a", 0, out);
  CHECK(out.empty());
  CHECK(w.next_idle_ms() == 1000);
  w.tick(1000, out);  // idle: the pending events are scored, the end is not judged
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason == CloseReason::suspended);
  CHECK_FALSE(out[0].release_only);
  CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(released(out[0]) == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK((out[0].start == 0 && out[0].judged == 0 && out[0].context == 0));
  CHECK(w.open_sessions() == 1);
  CHECK(w.suspended_sessions() == 1);
  CHECK(w.buffered_events() == 0);  // every line is released: offsets can be committed
  CHECK(w.next_idle_ms() == 5000);
  CHECK(w.stats().sessions_suspended == 1);

  SECTION("a later line continues the session after its last events, which are not released again") {
    out.clear();
    add(w, 10, "a", 3000, out);
    add(w, 11, "a", 3000, out);
    CHECK(w.stats().sessions_resumed == 1);
    CHECK(w.suspended_sessions() == 0);
    CHECK(w.stats().sessions_opened == 1);
    CHECK(w.buffered_events() == 2);
    add(w, 12, "a", 3000, out);  // 3 context + 3 new = a full window
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == CloseReason::max_length);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{1, 2, 3, 10, 11, 12});
    CHECK(out[0].context == 3);
    CHECK(released(out[0]) == std::vector<std::int64_t>{});  // the window slides by 3: its context only
    CHECK((out[0].start == 1 && out[0].judged == 4));         // events 1..6 of the session; 0..3 judged
    for (std::size_t i = 0; i < 3; ++i) CHECK(out[0].events[i].line.empty());  // context keeps no line
    CHECK(out[0].events[3].line == "line 10");
    out.clear();
    w.tick(4000, out);  // idle again: 10, 11, 12 were in that window and are released now
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == CloseReason::suspended);
    CHECK_FALSE(out[0].release_only);  // score_closing: the model windows up to the pause are judged
    CHECK(released(out[0]) == std::vector<std::int64_t>{10, 11, 12});
    CHECK(w.buffered_events() == 0);
    out.clear();
    w.tick(8000, out);  // no line for end_timeout_ms: the session ends, its end is judged
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == CloseReason::idle);
    CHECK_FALSE(out[0].release_only);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{10, 11, 12});
    CHECK((out[0].context == 3 && out[0].released == 3));  // nothing left to release
    CHECK((out[0].start == 4 && out[0].judged == 7));
    CHECK(w.open_sessions() == 0);
  }
  SECTION("without a later line it ends after end_timeout_ms, judged on its last events") {
    out.clear();
    w.tick(4999, out);
    CHECK(out.empty());
    w.tick(5000, out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == CloseReason::idle);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{1, 2, 3});
    CHECK((out[0].start == 1 && out[0].judged == 4 && out[0].context == 3));
    CHECK(w.stats().sessions_idle_closed == 1);
  }
  SECTION("a stop suspends every session: pending events scored, the sessions kept for the final checkpoint") {
    out.clear();
    add(w, 20, "b", 100, out);
    w.flush(out, CloseReason::shutdown);
    REQUIRE(out.size() == 1);  // "b"'s pending event; "a" has nothing pending
    CHECK(out[0].key == "b");
    CHECK(out[0].reason == CloseReason::suspended);
    CHECK(w.open_sessions() == 2);
    CHECK(w.suspended_sessions() == 2);
    CHECK(w.buffered_events() == 0);
    const auto st = w.state(200);
    CHECK(st.sessions.size() == 2);
    CHECK(std::all_of(st.sessions.begin(), st.sessions.end(), [](const auto& s) { return s.suspended; }));
  }
  SECTION("without suspension a stop closes every session, a suspended one with nothing to emit") {
    WindowConfig c2 = c;
    c2.end_timeout_ms = 0;  // e.g. a restart with end_timeout_ms switched off
    Windower r(c2);
    r.restore(w.state(100), 100);
    CHECK(r.suspended_sessions() == 0);  // restored as open sessions holding context only
    out.clear();
    r.flush(out, CloseReason::shutdown);
    CHECK(out.empty());
    CHECK(r.open_sessions() == 0);
  }
  SECTION("the end of a finite input judges the end") {
    out.clear();
    w.flush(out, CloseReason::end_of_input);
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == CloseReason::end_of_input);
  }
  SECTION("a checkpoint keeps the suspended session and where it stands") {
    const auto st = w.state(2000);
    REQUIRE(st.sessions.size() == 1);
    CHECK(st.sessions[0].suspended);
    Windower r(c);
    r.restore(st, 100);
    CHECK(r.suspended_sessions() == 1);
    CHECK(r.buffered_events() == 0);
    out.clear();
    add(r, 10, "a", 200, out);
    add(r, 11, "a", 200, out);
    add(r, 12, "a", 200, out);
    REQUIRE(out.size() == 1);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{1, 2, 3, 10, 11, 12});
    CHECK((out[0].start == 1 && out[0].judged == 4 && out[0].context == 3));
  }
  SECTION("the open-session limit drops a suspended session first") {
    WindowConfig c2 = c;
    c2.max_open_sessions = 2;
    Windower w2(c2);
    out.clear();
    add(w2, 0, "a", 0, out);
    w2.tick(1000, out);  // "a" suspended
    add(w2, 1, "b", 1100, out);
    add(w2, 2, "c", 1200, out);  // the limit: "a" goes, not "b"
    CHECK(w2.stats().sessions_evicted == 1);
    CHECK(w2.suspended_sessions() == 0);
    CHECK(w2.open_sessions() == 2);
  }
}

TEST_CASE("end_timeout_ms below idle_timeout_ms is refused", "[windower][config]") {
  WindowConfig c = session_cfg(4);
  c.end_timeout_ms = 500;
  try {
    c.validate();
    FAIL("accepted end_timeout_ms < idle_timeout_ms");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "end_timeout_ms");
  }
  c.end_timeout_ms = 0;
  CHECK_NOTHROW(c.validate());
  CHECK_FALSE(c.suspends());
  c.end_timeout_ms = 5000;
  CHECK(c.suspends());
  c.key_from = WindowConfig::KeyFrom::entity;  // entity sessions end with their time window
  CHECK_FALSE(c.suspends());
}

TEST_CASE("idle sessions close on tick, oldest activity first", "[windower]") {
  Windower w(session_cfg(100));
  std::vector<Window> out;
  add(w, 0, "a", 0, out);
  add(w, 1, "b", 500, out);
  add(w, 2, "a", 600, out);  // "a" is now the most recently active
  CHECK(w.next_idle_ms() == 1500);
  w.tick(1499, out);
  CHECK(out.empty());
  w.tick(1500, out);  // "b" idle for 1000 ms
  REQUIRE(out.size() == 1);
  CHECK(out[0].key == "b");
  CHECK(out[0].reason == CloseReason::idle);
  w.tick(1600, out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].key == "a");
  CHECK(offsets(out[1]) == std::vector<std::int64_t>{0, 2});
  CHECK(w.stats().sessions_idle_closed == 2);
  CHECK(w.open_sessions() == 0);
  CHECK(w.next_idle_ms() == -1);
}

TEST_CASE("idle timeout 0 never expires", "[windower]") {
  WindowConfig c = session_cfg(10);
  c.idle_timeout_ms = 0;
  Windower w(c);
  std::vector<Window> out;
  add(w, 0, "a", 0, out);
  w.tick(1'000'000'000, out);
  CHECK(out.empty());
  CHECK(w.open_sessions() == 1);
  CHECK(w.next_idle_ms() == -1);
}

TEST_CASE("the open-session limit evicts the least recently active session", "[windower]") {
  WindowConfig c = session_cfg(100);
  c.max_open_sessions = 2;
  Windower w(c);
  std::vector<Window> out;
  add(w, 0, "a", 0, out);
  add(w, 1, "b", 1, out);
  add(w, 2, "a", 2, out);  // touch "a": "b" is now the oldest
  add(w, 3, "c", 3, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].key == "b");
  CHECK(out[0].reason == CloseReason::evicted);
  CHECK(w.open_sessions() == 2);
  CHECK(w.stats().sessions_evicted == 1);
  CHECK(w.stats().sessions_opened == 3);
  add(w, 4, "b", 4, out);  // "b" comes back: evicts "a"
  REQUIRE(out.size() == 2);
  CHECK(out[1].key == "a");
  CHECK(offsets(out[1]) == std::vector<std::int64_t>{0, 2});
  CHECK(w.stats().sessions_returned == 1);  // "b" continues after its event 0 (tumbling: no context)
  w.flush(out, CloseReason::end_of_input);
  for (const auto& x : out)
    if (x.key == "b" && x.reason == CloseReason::end_of_input) {
      CHECK(x.context == 0);
      CHECK(x.start == 1);
      CHECK(released(x) == std::vector<std::int64_t>{4});
    }
}

TEST_CASE("without max_evicted_sessions an evicted session that comes back starts anew", "[windower]") {
  WindowConfig c = session_cfg(100);
  c.max_open_sessions = 1;
  c.max_evicted_sessions = 0;
  Windower w(c);
  std::vector<Window> out;
  add(w, 0, "a", 0, out);
  add(w, 1, "b", 1, out);
  add(w, 2, "a", 2, out);
  CHECK(w.stats().sessions_returned == 0);
  CHECK(w.evicted_sessions() == 0);
  w.flush(out, CloseReason::end_of_input);
  REQUIRE(out.size() == 3);
  CHECK((out[2].key == "a" && out[2].context == 0 && out[2].start == 0 && offsets(out[2]) == std::vector<std::int64_t>{2}));
}

TEST_CASE("an evicted session that comes back continues exactly as a suspended one", "[windower]") {
  WindowConfig c = session_cfg(6, 3);
  c.end_timeout_ms = 5000;
  c.score_closing = true;
  auto line = [](Windower& w, std::int64_t offset, std::string_view key, std::int64_t now, std::vector<Window>& out) {
    std::string_view keys[] = {key};
    w.add(ev(offset, static_cast<core::TemplateId>(offset % 7 + 1)), keys, now, out);
  };
  const std::vector<std::int64_t> first = {0, 1, 2, 3, 4, 5, 6, 7}, later = {10, 11, 12, 13, 14};
  // Reference: "a" pauses (suspended at idle) and continues.
  std::vector<Window> ref;
  {
    Windower w(c);
    for (auto o : first) line(w, o, "a", 0, ref);
    w.tick(1000, ref);
    for (auto o : later) line(w, o, "a", 2000, ref);
    w.flush(ref, CloseReason::end_of_input);
  }
  // The same session evicted by another one, then coming back.
  c.max_open_sessions = 1;
  std::vector<Window> got_all;
  Windower w(c);
  for (auto o : first) line(w, o, "a", 0, got_all);
  line(w, 100, "b", 10, got_all);  // evicts "a"
  CHECK(w.evicted_sessions() == 1);
  for (auto o : later) line(w, o, "a", 20, got_all);  // evicts "b"; "a" continues
  CHECK(w.stats().sessions_returned == 1);
  CHECK(w.evicted_sessions() == 1);  // "b" now
  w.flush(got_all, CloseReason::end_of_input);
  std::vector<const Window*> got;
  for (const auto& x : got_all)
    if (x.key == "a") got.push_back(&x);
  REQUIRE(got.size() == ref.size());
  auto ids = [](const Window& x) {
    std::vector<core::TemplateId> v;
    for (const auto& e : x.events) v.push_back(e.template_id);
    return v;
  };
  for (std::size_t i = 0; i < ref.size(); ++i) {
    CHECK(ids(*got[i]) == ids(ref[i]));
    CHECK(released(*got[i]) == released(ref[i]));
    CHECK(got[i]->start == ref[i].start);
    CHECK(got[i]->judged == ref[i].judged);
    CHECK(got[i]->context == ref[i].context);
    CHECK(got[i]->sequence == ref[i].sequence);
    CHECK(got[i]->release_only == ref[i].release_only);
    CHECK((got[i]->reason == ref[i].reason ||
           (ref[i].reason == CloseReason::suspended && got[i]->reason == CloseReason::evicted)));
  }
  CHECK(w.buffered_events() == 0);
}

TEST_CASE("remembered evicted sessions are bounded, oldest first", "[windower]") {
  WindowConfig c = session_cfg(100);
  c.max_open_sessions = 1;
  c.max_evicted_sessions = 2;
  Windower w(c);
  std::vector<Window> out;
  for (int k = 0; k < 5; ++k) add(w, k, std::string(1, static_cast<char>('a' + k)), k, out);  // a..d evicted
  CHECK(w.evicted_sessions() == 2);  // c and d
  add(w, 10, "a", 10, out);  // forgotten: starts anew; evicts e (c is pushed out)
  CHECK(w.stats().sessions_returned == 0);
  CHECK(w.evicted_sessions() == 2);  // d and e
  add(w, 11, "d", 11, out);  // remembered: continues; evicts a
  CHECK(w.stats().sessions_returned == 1);
  add(w, 12, "d", 12, out);
  add(w, 13, "c", 13, out);  // forgotten: starts anew; evicts d (e is pushed out)
  CHECK(w.stats().sessions_returned == 1);
  add(w, 14, "d", 14, out);  // d, evicted again after it came back, is remembered once more
  CHECK(w.stats().sessions_returned == 2);
  w.flush(out, CloseReason::end_of_input);
  for (const auto& x : out)
    if (x.key == "d" && x.reason == CloseReason::end_of_input) CHECK(x.start == 3);  // events 3, 11, 12 before
}

TEST_CASE("a line naming several sessions joins each once; unkeyed lines join none", "[windower]") {
  Windower w(session_cfg(10));
  std::vector<Window> out;
  std::string_view two[] = {"x", "y", "x"};
  CHECK(w.add(ev(0), two, 0, out) == 2);
  CHECK(w.add(ev(1), {}, 0, out) == 0);
  CHECK(w.stats().unkeyed_events == 1);
  CHECK(w.open_sessions() == 2);
  CHECK(w.buffered_events() == 2);
}

TEST_CASE("count windows ignore keys", "[windower]") {
  WindowConfig c = session_cfg(3, 1);
  c.mode = WindowConfig::Mode::count;
  Windower w(c);
  std::vector<Window> out;
  for (int i = 0; i < 5; ++i) CHECK(add(w, i, i % 2 ? "a" : "b", 0, out) == 1);
  REQUIRE(out.size() == 3);
  CHECK(out[0].key.empty());
  CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2});
  CHECK(offsets(out[2]) == std::vector<std::int64_t>{2, 3, 4});
  CHECK(out[2].released == 1);
}

TEST_CASE("count windows with end_timeout_ms 0: a quiet stream cuts the window", "[windower]") {
  WindowConfig c = session_cfg(4);
  c.mode = WindowConfig::Mode::count;
  CHECK_FALSE(c.holds_count_windows());
  Windower w(c);
  std::vector<Window> out;
  add(w, 0, "", 0, out);
  w.tick(1000, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason == CloseReason::idle);
  CHECK(released(out[0]) == std::vector<std::int64_t>{0});
}

TEST_CASE("a quiet stream previews its count window, which stays open and is judged whole", "[windower]") {
  WindowConfig c = session_cfg(4);
  c.mode = WindowConfig::Mode::count;
  c.end_timeout_ms = 5000;
  CHECK_FALSE(c.suspends());
  CHECK(c.holds_count_windows());
  // The same lines, with and without pauses, give the same windows apart from the previews.
  auto run = [&](bool pauses) {
    Windower w(c);
    std::vector<Window> out;
    std::int64_t now = 0;
    for (int i = 0; i < 10; ++i) {
      add(w, i, "", now, out);
      if (pauses && (i == 1 || i == 2 || i == 6)) {
        now += 1000;
        w.tick(now, out);
        w.tick(now + 500, out);  // parked: no second preview without a new line
      }
      now += 1;
    }
    w.flush(out, CloseReason::end_of_input);
    return out;
  };
  const auto plain = run(false);
  const auto paused = run(true);
  std::vector<const Window*> judged, previews;
  for (const auto& x : paused) (x.reason == CloseReason::pending ? previews : judged).push_back(&x);
  REQUIRE(judged.size() == plain.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    CHECK(offsets(*judged[i]) == offsets(plain[i]));
    CHECK(released(*judged[i]) == released(plain[i]));
    CHECK(judged[i]->reason == plain[i].reason);
    CHECK(judged[i]->sequence == plain[i].sequence);
  }
  REQUIRE(previews.size() == 3);
  // Each preview shows the open window, its new events after the context, and releases nothing.
  CHECK(offsets(*previews[0]) == std::vector<std::int64_t>{0, 1});
  CHECK(previews[0]->context == 0);
  CHECK(offsets(*previews[1]) == std::vector<std::int64_t>{0, 1, 2});
  CHECK(previews[1]->context == 2);
  CHECK(offsets(*previews[2]) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(previews[2]->context == 0);
  for (const auto* p : previews) {
    CHECK(p->released == 0);
    CHECK(released(*p).empty());
    CHECK_FALSE(p->release_only);
  }
  CHECK(previews[1]->sequence == 0);
  CHECK(previews[2]->sequence == 1);
}

TEST_CASE("a held count window is cut after end_timeout_ms; its lines stay buffered until then", "[windower]") {
  WindowConfig c = session_cfg(4);
  c.mode = WindowConfig::Mode::count;
  c.end_timeout_ms = 5000;
  Windower w(c);
  std::vector<Window> out;
  add(w, 0, "", 0, out);
  add(w, 1, "", 10, out);
  CHECK(w.next_idle_ms() == 1010);
  w.tick(1010, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason == CloseReason::pending);
  CHECK(w.buffered_events() == 2);
  CHECK(w.suspended_sessions() == 0);  // a held window is no suspended session
  CHECK(w.stats().pending_previews == 1);
  CHECK(w.next_idle_ms() == 5010);
  // The checkpoint keeps the window; a restored one previews again when it is still quiet.
  Windower r(c);
  r.restore(w.state(2000), 2000);
  std::vector<Window> rout;
  r.tick(2000, rout);
  REQUIRE(rout.size() == 1);
  CHECK(rout[0].reason == CloseReason::pending);
  w.tick(5009, out);
  CHECK(out.size() == 1);
  w.tick(5010, out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].reason == CloseReason::idle);
  CHECK(released(out[1]) == std::vector<std::int64_t>{0, 1});
  CHECK(w.buffered_events() == 0);
  CHECK(w.open_sessions() == 0);
  CHECK(w.stats().sessions_resumed == 0);
}

TEST_CASE("time windows by event time, tumbling and sliding", "[windower]") {
  WindowConfig c;
  c.mode = WindowConfig::Mode::time;
  c.window_ms = 100;
  c.idle_timeout_ms = 0;
  std::vector<Window> out;
  auto add_ts = [&](Windower& w, std::int64_t off, std::int64_t ts) {
    return w.add(ev(off, 1, ts), {}, 0, out);
  };

  SECTION("tumbling") {
    Windower w(c);
    add_ts(w, 0, 1005);
    add_ts(w, 1, 1050);
    add_ts(w, 2, 1099);
    CHECK(out.empty());
    add_ts(w, 3, 1100);  // closes [1000,1100)
    REQUIRE(out.size() == 1);
    CHECK(out[0].reason == CloseReason::time);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2});
    CHECK(out[0].released == 3);
    add_ts(w, 4, 1550);  // closes [1100,1200); skips the empty windows up to 1500
    REQUIRE(out.size() == 2);
    CHECK(offsets(out[1]) == std::vector<std::int64_t>{3});
    add_ts(w, 5, 1540);  // late: joins the open window [1500,1600)
    CHECK(w.stats().late_events == 0);
    add_ts(w, 6, 1490);  // older than the open window: late, still kept
    CHECK(w.stats().late_events == 1);
    w.flush(out);
    REQUIRE(out.size() == 3);
    CHECK(out[2].reason == CloseReason::shutdown);
    CHECK(offsets(out[2]) == std::vector<std::int64_t>{6, 5, 4});  // sorted by event time
    CHECK(w.stats().windows == 3);
  }
  SECTION("sliding") {
    c.stride_ms = 50;
    Windower w(c);
    add_ts(w, 0, 1000);
    add_ts(w, 1, 1060);
    add_ts(w, 2, 1120);  // closes [1000,1100)
    REQUIRE(out.size() == 1);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1});
    CHECK(released(out[0]) == std::vector<std::int64_t>{0});
    add_ts(w, 3, 1160);  // closes [1050,1150)
    REQUIRE(out.size() == 2);
    CHECK(offsets(out[1]) == std::vector<std::int64_t>{1, 2});
    CHECK(released(out[1]) == std::vector<std::int64_t>{1});
    w.flush(out);
    REQUIRE(out.size() == 3);
    CHECK_FALSE(out[2].release_only);  // 3 was in no window yet
    CHECK(offsets(out[2]) == std::vector<std::int64_t>{2, 3});
  }
}

TEST_CASE("time stream closes on idle", "[windower]") {
  WindowConfig c;
  c.mode = WindowConfig::Mode::time;
  c.window_ms = 100;
  c.idle_timeout_ms = 50;
  Windower w(c);
  std::vector<Window> out;
  w.add(ev(0, 1, 5), {}, 1000, out);
  w.tick(1049, out);
  CHECK(out.empty());
  w.tick(1050, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason == CloseReason::idle);
  CHECK(w.buffered_events() == 0);
}

TEST_CASE("a session's events not yet in a window are kept in timestamp order", "[windower]") {
  Windower w(session_cfg(4, 2));
  std::vector<Window> out;
  std::string_view keys[] = {"s"};
  // Produced at t = 10, 20, 30, ... but arriving interleaved (two partitions read in batches).
  for (auto [off, ts] : std::vector<std::pair<int, int>>{{0, 10}, {2, 30}, {1, 20}, {3, 40}})
    w.add(ev(off, 1, ts), keys, 0, out);
  REQUIRE(out.size() == 1);
  CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2, 3});
  // Events already scored stay where they are: a late one goes among the unscored only.
  for (auto [off, ts] : std::vector<std::pair<int, int>>{{5, 60}, {4, 25}, {6, 70}})
    w.add(ev(off, 1, ts), keys, 0, out);
  REQUIRE(out.size() == 2);
  CHECK(offsets(out[1]) == std::vector<std::int64_t>{2, 3, 4, 5});
  // Equal timestamps and events without one (0) keep their arrival order.
  Windower v(session_cfg(3));
  std::vector<Window> o2;
  for (auto [off, ts] : std::vector<std::pair<int, int>>{{0, 5}, {1, 5}, {2, 0}}) v.add(ev(off, 1, ts), keys, 0, o2);
  REQUIRE(o2.size() == 1);
  CHECK(offsets(o2[0]) == std::vector<std::int64_t>{0, 1, 2});
}

TEST_CASE("a shared line compares, converts and copies by reference", "[windower]") {
  const std::string text(200, 'x');
  SharedLine a = text;
  CHECK(a.size() == 200);
  CHECK(a == text);
  CHECK(a.view() == std::string_view(text));
  CHECK(a.data() != text.data());  // built by copying the bytes once
  CHECK(a.data()[a.size()] == '\0');
  SharedLine b = a;
  CHECK(b.data() == a.data());
  CHECK(a.use_count() == 2);
  SharedLine c = std::move(b);
  CHECK(c.data() == a.data());
  CHECK(b.empty());  // a moved-from line is empty
  CHECK(a.use_count() == 2);
  c = SharedLine("other");
  CHECK(a.use_count() == 1);
  CHECK(c == "other");
  CHECK(SharedLine("other") == c);
  CHECK(c != a);
  const SharedLine none;
  CHECK(none.empty());
  CHECK(none == "");
  CHECK(std::string_view(none.data()).empty());
  CHECK(none == SharedLine(std::string()));
}

TEST_CASE("copies of windows and of the windower's state share the raw lines", "[windower]") {
  // Sliding windows copy the session's events; state() copies every open event. None copies a line.
  Windower w(session_cfg(4, 2));
  std::vector<Window> out;
  std::string_view keys[] = {"s", "t"};  // each event joins two sessions: two copies
  std::vector<const char*> lines;
  for (int i = 0; i < 5; ++i) {
    Event e = ev(i);
    e.line = std::string(100, static_cast<char>('a' + i));
    lines.push_back(e.line.data());
    w.add(std::move(e), keys, 0, out);
  }
  REQUIRE(out.size() == 2);  // one sliding window per session, events 0..3
  for (const Window& win : out) {
    REQUIRE(win.events.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(win.events[i].line.data() == lines[i]);
  }
  const Window copy = out[0];
  CHECK(copy.events[3].line.data() == lines[3]);

  const WindowerState s = w.state(0);
  REQUIRE(s.sessions.size() == 2);
  for (const auto& session : s.sessions) {
    REQUIRE(session.events.size() == 3);  // events 2, 3, 4 are still open in each session
    for (std::size_t i = 0; i < 3; ++i) CHECK(session.events[i].line.data() == lines[i + 2]);
  }
  // Event 4: its two sessions and their two copies in the state; event 3 also the two windows and `copy`.
  CHECK(s.sessions[0].events[2].line.use_count() == 4);
  CHECK(s.sessions[0].events[1].line.use_count() == 7);
  CHECK(s.sessions[0].events[1].line == std::string(100, 'd'));
}

TEST_CASE("sessions restored under a shorter window length are cut into windows of that length", "[windower]") {
  // A checkpoint taken with W = 10 holds a session of 7 events; the daemon restarts with W = 4,
  // stride 2: the windows are those W = 4 would have cut, never one of 7 events.
  Windower before(session_cfg(10));
  std::vector<Window> out;
  for (int i = 0; i < 7; ++i) add(before, i, "s", 0, out);
  REQUIRE(out.empty());
  Windower after(session_cfg(4, 2));

  SECTION("on the next event") {
    after.restore(before.state(0), 0);
    add(after, 7, "s", 0, out);
    REQUIRE(out.size() == 3);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2, 3});
    CHECK(offsets(out[1]) == std::vector<std::int64_t>{2, 3, 4, 5});
    CHECK(offsets(out[2]) == std::vector<std::int64_t>{4, 5, 6, 7});
    CHECK(out[2].sequence == 2);
  }
  SECTION("on close, every event released once") {
    after.restore(before.state(0), 0);
    after.flush(out);
    REQUIRE(out.size() == 3);
    CHECK(offsets(out[0]) == std::vector<std::int64_t>{0, 1, 2, 3});
    CHECK(offsets(out[1]) == std::vector<std::int64_t>{2, 3, 4, 5});
    CHECK(offsets(out[2]) == std::vector<std::int64_t>{4, 5, 6});
    CHECK_FALSE(out[2].release_only);  // event 6 was in no window yet
    std::vector<std::int64_t> all;
    for (const auto& w : out) {
      CHECK(w.events.size() <= 4);
      for (auto o : released(w)) all.push_back(o);
    }
    CHECK(all == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6});
  }
}
