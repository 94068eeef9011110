#pragma once
// HttpServer: the daemon's metrics and health endpoint (Boost.Asio, one I/O thread).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace logguard::daemon {

/// Minimal HTTP/1.1 server (Boost.Asio) for GET /metrics, /healthz and /readyz; every
/// response closes the connection. /healthz answers 200 while the process serves requests;
/// /readyz 200 once ready() returns true (model loaded, source assigned), else 503.
/// Lifecycle: the constructor binds and starts one I/O thread (throws std::runtime_error
/// naming the address if binding fails); the destructor stops it. Thread-safety: the
/// callbacks run on the I/O thread.
class HttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;
    std::function<bool()> ready;
  };
  /// `port` 0 picks a free port (see port()). A client gets `connection_timeout` to send its
  /// request head and read the answer, then it is disconnected; at most 64 at a time.
  HttpServer(const std::string& address, std::uint16_t port, Handlers handlers,
             std::chrono::milliseconds connection_timeout = std::chrono::milliseconds(5000));
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  std::uint16_t port() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon
