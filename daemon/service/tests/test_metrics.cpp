#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <string>

#include <prometheus/counter.h>

#include "logguard/pipeline/pipeline.hpp"
#include "logguard/service/http_server.hpp"
#include "logguard/service/metrics.hpp"
#include "logguard/service/probes.hpp"

using namespace logguard::daemon;

namespace {

// A blocking HTTP GET against 127.0.0.1:port; returns the whole response.
std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("metric names follow logguard_<noun>_<unit> and labels stay low-cardinality", "[metrics]") {
  CHECK(Metrics::valid_name("logguard_records_total"));
  CHECK(Metrics::valid_name("logguard_model_memory_bytes"));
  CHECK_FALSE(Metrics::valid_name("records_total"));
  CHECK_FALSE(Metrics::valid_name("logguard_records"));
  CHECK_FALSE(Metrics::valid_name("logguard_total"));
  CHECK_FALSE(Metrics::valid_name("logguard_Records_total"));
  Metrics m;
  CHECK_THROWS_AS(m.counter("logguard_records", "x"), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("logguard_lines_total", "x", {{"session", "blk_1"}}), std::invalid_argument);
  CHECK_NOTHROW(m.counter("logguard_lines_total", "x", {{"source", "kafka"}}));
}

TEST_CASE("pipeline counters are read at each scrape", "[metrics]") {
  Metrics m;
  PipelineStats stats;
  export_pipeline_metrics(m, stats);
  stats.records = 42;
  stats.pauses = 3;
  std::string text = m.serialize();
  CHECK_THAT(text, Catch::Contains("logguard_records_total 42"));
  CHECK_THAT(text, Catch::Contains("logguard_source_pauses_total 3"));
  stats.records = 50;
  CHECK_THAT(m.serialize(), Catch::Contains("logguard_records_total 50"));
}

TEST_CASE("HTTP server exposes /metrics, /healthz and /readyz", "[metrics]") {
  Metrics m;
  m.counter("logguard_requests_total", "test").Increment(5);
  std::atomic<bool> ready{false};
  HttpServer server("127.0.0.1", 0, {[&] { return m.serialize(); }, [&] { return ready.load(); }});
  REQUIRE(server.port() != 0);

  const std::string metrics = http_get(server.port(), "/metrics");
  CHECK_THAT(metrics, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(metrics, Catch::Contains("logguard_requests_total 5"));
  CHECK_THAT(http_get(server.port(), "/healthz"), Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(http_get(server.port(), "/readyz"), Catch::StartsWith("HTTP/1.1 503"));
  ready = true;
  CHECK_THAT(http_get(server.port(), "/readyz"), Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(http_get(server.port(), "/nope"), Catch::StartsWith("HTTP/1.1 404"));
}

TEST_CASE("HTTP server disconnects a client that never finishes its request", "[metrics]") {
  HttpServer server("127.0.0.1", 0, {[] { return std::string("x"); }, [] { return true; }},
                    std::chrono::milliseconds(200));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval guard{30, 0};  // the test fails instead of hanging if the server never closes
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string partial = "GET /metrics HTTP/1.1\r\nHost: x\r\n";  // no blank line: head unfinished
  REQUIRE(::send(fd, partial.data(), partial.size(), 0) == static_cast<ssize_t>(partial.size()));
  char buf[64];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  const int err = errno;
  ::close(fd);
  // Closed by the server without an answer (FIN, or RST if bytes were still unread); not the
  // guard's EAGAIN.
  CHECK((n == 0 || (n < 0 && err != EAGAIN && err != EWOULDBLOCK)));
  CHECK_THAT(http_get(server.port(), "/healthz"), Catch::StartsWith("HTTP/1.1 200"));  // still serving
}

TEST_CASE("HTTP server reports a bad address", "[metrics]") {
  CHECK_THROWS_WITH(HttpServer("not-an-address", 0, {}), Catch::Contains("not-an-address"));
}

TEST_CASE("a labelled view adds its label to every metric of one shared registry", "[metrics][streams]") {
  Metrics m;
  Metrics hdfs = m.labelled({{"stream", "hdfs"}});
  Metrics bgl = m.labelled({{"stream", "bgl"}});
  PipelineStats a, b;
  a.records = 5;
  b.records = 7;
  export_pipeline_metrics(hdfs, a);  // the same families registered twice, other label values
  export_pipeline_metrics(bgl, b);
  hdfs.counter("logguard_records_rejected_total", "r", {{"reason", "malformed"}}).Increment(2);
  const std::string text = m.serialize();
  CHECK_THAT(text, Catch::Contains("logguard_records_total{stream=\"hdfs\"} 5"));
  CHECK_THAT(text, Catch::Contains("logguard_records_total{stream=\"bgl\"} 7"));
  CHECK_THAT(text, Catch::Contains("logguard_records_rejected_total{reason=\"malformed\",stream=\"hdfs\"} 2"));
  CHECK_THROWS_AS(m.labelled({{"session", "x"}}), std::invalid_argument);
}
