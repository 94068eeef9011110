#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "logguard/pipeline/bounded_queue.hpp"

using namespace logguard::daemon;
using namespace std::chrono_literals;
using Q = BoundedQueue<int>;

TEST_CASE("queue is FIFO and reports timeouts", "[queue]") {
  Q q(3, Overflow::block);
  CHECK(q.push(1, 0ms) == Q::PushResult::ok);
  CHECK(q.push(2, 0ms) == Q::PushResult::ok);
  CHECK(q.pop(0ms) == 1);
  CHECK(q.pop(0ms) == 2);
  CHECK_FALSE(q.pop(1ms).has_value());
}

TEST_CASE("block policy: a full queue refuses after the timeout and keeps the value", "[queue]") {
  Q q(2, Overflow::block);
  q.push(1, 0ms);
  q.push(2, 0ms);
  CHECK(q.full());
  std::string s = "payload";
  BoundedQueue<std::string> qs(1, Overflow::block);
  qs.push(std::string("first"), 0ms);
  CHECK(qs.push(s, 1ms) == BoundedQueue<std::string>::PushResult::timeout);
  CHECK(s == "payload");  // untouched, the caller can retry
  CHECK(q.push(3, 1ms) == Q::PushResult::timeout);
  CHECK(q.full_waits() == 1);
  CHECK(q.dropped() == 0);
  CHECK(q.size() == 2);
}

TEST_CASE("block policy: a waiting producer proceeds when the consumer makes room", "[queue]") {
  Q q(1, Overflow::block);
  q.push(1, 0ms);
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    // Generous timeout: the test waits for the pop below, it does not time anything.
    pushed = q.push(2, 60s) == Q::PushResult::ok;
  });
  while (q.full_waits() == 0) std::this_thread::yield();  // producer is blocked
  CHECK(q.pop(0ms) == 1);
  producer.join();
  CHECK(pushed);
  CHECK(q.pop(0ms) == 2);
}

TEST_CASE("drop_oldest policy evicts, counts and hands back the oldest", "[queue]") {
  Q q(2, Overflow::drop_oldest);
  std::optional<int> evicted;
  CHECK(q.push(1, 0ms, &evicted) == Q::PushResult::ok);
  CHECK(q.push(2, 0ms, &evicted) == Q::PushResult::ok);
  CHECK_FALSE(evicted);
  CHECK(q.push(3, 0ms, &evicted) == Q::PushResult::dropped_oldest);
  CHECK(evicted == 1);
  CHECK(q.dropped() == 1);
  CHECK(q.pop(0ms) == 2);
  CHECK(q.pop(0ms) == 3);
}

TEST_CASE("close wakes waiters, fails pushes and drains the rest", "[queue]") {
  Q q(4, Overflow::block);
  q.push(1, 0ms);
  q.push(2, 0ms);
  q.close();
  CHECK(q.push(3, 0ms) == Q::PushResult::closed);
  std::vector<int> out;
  CHECK(q.pop_many(out, 10, 0ms) == 2);
  CHECK(out == std::vector<int>{1, 2});
  CHECK(q.closed_and_empty());
  CHECK_FALSE(q.pop(60s).has_value());  // returns at once: closed

  Q q2(1, Overflow::block);
  std::atomic<bool> got_value{true};
  std::thread consumer([&] { got_value = q2.pop(60s).has_value(); });
  q2.close();
  consumer.join();
  CHECK_FALSE(got_value);
}

TEST_CASE("many producers and consumers lose nothing", "[queue]") {
  Q q(8, Overflow::block);
  const int per = 5000;
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::atomic<int> failed_pushes{0};
  std::vector<std::thread> ts;
  for (int p = 0; p < 3; ++p)
    ts.emplace_back([&, p] {
      for (int i = 1; i <= per; ++i)
        if (q.push(i + p * per, 60s) != Q::PushResult::ok) ++failed_pushes;
    });
  std::vector<std::thread> cs;
  for (int c = 0; c < 2; ++c)
    cs.emplace_back([&] {
      std::vector<int> got;
      while (true) {
        got.clear();
        if (q.pop_many(got, 4, 10ms) == 0 && q.closed_and_empty()) break;
        for (int v : got) {
          sum += v;
          ++count;
        }
      }
    });
  for (auto& t : ts) t.join();
  q.close();
  for (auto& t : cs) t.join();
  const long n = 3L * per;
  CHECK(failed_pushes == 0);
  CHECK(count == n);
  CHECK(sum == n * (n + 1) / 2);
}
