// HttpServer (see http_server.hpp): GET /metrics, /healthz, /readyz over Boost.Asio.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "logguard/service/http_server.hpp"

namespace logguard::daemon {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxRequestBytes = 8192;
// A client that has not sent its request head (or read the answer) within the server's
// connection timeout is disconnected, so idle or slow connections cannot pile up; beyond
// kMaxConnections new ones are refused.
constexpr int kMaxConnections = 64;

std::string response(int status, const char* reason, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// One connection: read the request head, answer, close — all within `timeout`.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const HttpServer::Handlers& h, std::atomic<int>& open,
             std::chrono::milliseconds timeout)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), handlers_(h), buf_(kMaxRequestBytes), open_(open),
        timeout_(timeout) {
    ++open_;
  }
  ~Connection() { --open_; }
  void start() {
    auto self = shared_from_this();
    timer_.expires_after(timeout_);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (ec) return;  // cancelled: the exchange finished in time
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    asio::async_read_until(socket_, buf_, "\r\n\r\n", [self](boost::system::error_code ec, std::size_t) {
      if (ec) return;  // closed, timed out, or a request head over kMaxRequestBytes
      self->answer();
    });
  }

 private:
  void answer() {
    std::istream in(&buf_);
    std::string method, target;
    in >> method >> target;
    if (method != "GET") {
      out_ = response(405, "Method Not Allowed", "text/plain", "GET only\n");
    } else if (target == "/metrics") {
      out_ = response(200, "OK", "text/plain; version=0.0.4", handlers_.metrics ? handlers_.metrics() : "");
    } else if (target == "/healthz") {
      out_ = response(200, "OK", "text/plain", "ok\n");
    } else if (target == "/readyz") {
      const bool ready = handlers_.ready && handlers_.ready();
      out_ = ready ? response(200, "OK", "text/plain", "ready\n")
                   : response(503, "Service Unavailable", "text/plain", "not ready\n");
    } else {
      out_ = response(404, "Not Found", "text/plain", "not found\n");
    }
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [self](boost::system::error_code, std::size_t) {
      boost::system::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->timer_.cancel();
    });
  }
  tcp::socket socket_;
  asio::steady_timer timer_;
  const HttpServer::Handlers& handlers_;
  asio::streambuf buf_;
  std::string out_;
  std::atomic<int>& open_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

struct HttpServer::Impl {
  Handlers handlers;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t port = 0;
  std::atomic<int> open{0};
  std::chrono::milliseconds timeout{5000};

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (!acceptor.is_open()) return;
      if (!ec && open.load() < kMaxConnections) std::make_shared<Connection>(std::move(s), handlers, open, timeout)->start();
      accept();  // (a refused socket is closed by its destructor)
    });
  }
};

HttpServer::HttpServer(const std::string& address, std::uint16_t port, Handlers handlers,
                       std::chrono::milliseconds connection_timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
  impl_->timeout = connection_timeout;
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("metrics address " + address + ": " + ec.message());
  const tcp::endpoint ep(addr, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("metrics address " + address + ":" + std::to_string(port) + ": " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "lg-http");
    impl_->io.run();
  });
}

HttpServer::~HttpServer() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t HttpServer::port() const noexcept { return impl_->port; }

}  // namespace logguard::daemon
