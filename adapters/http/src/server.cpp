// The Beast server: one acceptor, a strand per connection, a session per connection that reads
// one request at a time (header, then body, each under its own timeout), hands it to the handler,
// and writes the answer when the responder is called (from whatever thread: at once when that is
// the connection's strand, which the handler can reach through responder::run_on_connection).
//
// Timeouts: each connection keeps one deadline (what it waits for: a header, a body, a write), set
// by storing a time, and a single timer of the server sweeps every connection's deadline a few
// times per timeout (sweep_interval) and closes the sockets past theirs. Beast's tcp_stream armed
// and cancelled a timer (the reactor's lock, its heap, a cancelled handler to run) for every read
// and every write of every request.
#include "wallet/http/server.hpp"

#include <openssl/ssl.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wallet/http/problem.hpp"
#include "wallet/http/trace.hpp"

namespace wallet::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using tls_stream = beast::ssl_stream<tcp::socket>;
using plain_stream = tcp::socket;
using steady = std::chrono::steady_clock;
using strand = net::strand<net::io_context::executor_type>;

// Something the server must close when it stops: a session or a refusal being written.
class closable {
 public:
  closable() = default;
  closable(const closable&) = delete;
  closable& operator=(const closable&) = delete;
  closable(closable&&) = delete;
  closable& operator=(closable&&) = delete;
  virtual ~closable() = default;
  virtual void close() = 0;  // thread-safe: posts to the connection's strand
  // Thread-safe: closes the connection (on its strand) when its deadline is before `now`.
  virtual void expire_if_due(steady::time_point now) = 0;
};

// The most bytes of answer buffer a connection keeps between answers.
constexpr std::size_t answer_buffer_kept_max = 16'384;

// How often the server looks for connections past their deadline: a quarter of the shortest
// timeout, so that a connection is closed at most a quarter late, within [10 ms, 1 s].
std::chrono::milliseconds sweep_interval(const server_settings& s) {
  const auto shortest = std::min({s.idle_timeout, s.read_timeout, s.write_timeout});
  return std::clamp(shortest / 4, std::chrono::milliseconds{10}, std::chrono::milliseconds{1'000});
}

// Errors that end a connection without anything to say: the peer left, or took too long (its
// socket closed by the sweep: the operation aborted, or one started afterwards).
bool quiet_end(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::operation_aborted || ec == beast::error::timeout ||
         ec == net::error::bad_descriptor || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::ssl::error::stream_truncated;
}

}  // namespace

struct server::core : std::enable_shared_from_this<server::core> {
  // `threads`: how many run the io_context. With one, Asio queues the handlers that thread posts
  // itself privately, without taking the scheduler's lock (others still post safely).
  explicit core(std::size_t thread_count)
      : ioc(thread_count == 1 ? 1 : BOOST_ASIO_CONCURRENCY_HINT_DEFAULT) {}

  server_settings settings;
  handler serve;
  std::shared_ptr<probe> events;
  net::io_context ioc;  // declared before everything that holds its executor
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  // The acceptor's strand, also kept by its concrete type: stop_accepting posts to it without
  // Asio's type-erased any_io_executor, inside which clang-analyzer reports a null dereference.
  strand accept_strand = net::make_strand(ioc);
  tcp::acceptor acceptor{accept_strand};
  std::optional<net::ssl::context> tls;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> accepting{true};

  std::mutex mutex;
  std::condition_variable settled;
  std::size_t in_flight = 0;  // requests handed to `serve` whose answer is not yet written
  bool closed = false;        // stopped: responders do nothing
  std::unordered_map<closable*, std::weak_ptr<closable>> open;
  // Sweeps the connections' deadlines (on accept_strand) until stop().
  net::steady_timer sweeper{accept_strand};

  void track(closable* c, std::weak_ptr<closable> w) {
    const std::lock_guard lock{mutex};
    open.emplace(c, std::move(w));
  }
  void forget(closable* c) {
    const std::lock_guard lock{mutex};
    open.erase(c);
  }
  void answered() {
    {
      const std::lock_guard lock{mutex};
      --in_flight;
    }
    settled.notify_all();
  }
  void accept();
  void sweep();
  void refuse(tcp::socket socket);
  void run() noexcept;
};

namespace {

// A server-made answer (the request never reached the handler): a problem, then close.
response refusal_response(std::string_view code, std::string detail, unsigned version,
                          std::string_view trace_id = {}) {
  const problem p = make_problem(code, std::move(detail));
  response r;
  r.version(version);
  r.result(p.code_status);
  r.set(bhttp::field::content_type, problem_content_type);
  if (p.retry_after) r.set(bhttp::field::retry_after, std::to_string(p.retry_after->count()));
  r.body() = problem_body(p, {}, trace_id);
  r.keep_alive(false);
  r.prepare_payload();
  return r;
}

template <class Stream>
class session final : public closable, public std::enable_shared_from_this<session<Stream>> {
 public:
  // `own` is the strand that `stream` runs its handlers on.
  session(std::shared_ptr<server::core> c, strand own, Stream stream, std::string remote)
      : core_(std::move(c)),
        strand_(std::move(own)),
        stream_(std::move(stream)),
        remote_(std::move(remote)) {}
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  session(session&&) = delete;
  session& operator=(session&&) = delete;
  ~session() override {
    core_->forget(this);
    core_->connections.fetch_sub(1);
  }

  void start() {
    core_->track(this, this->weak_from_this());
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      wait_at_most(core_->settings.idle_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](const error_code& ec) {
                                if (ec) {
                                  if (!quiet_end(ec)) {
                                    self->core_->events->failed("tls_handshake", ec.message());
                                  }
                                  self->end();
                                  return;
                                }
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

  void close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->end(); });
  }

  void expire_if_due(steady::time_point now) override {
    if (deadline_.load(std::memory_order_relaxed) > now.time_since_epoch().count()) return;
    net::post(strand_, [self = this->shared_from_this()] {
      // Checked again on the strand: the connection may have moved on since.
      if (self->deadline_.load(std::memory_order_relaxed) >
          steady::now().time_since_epoch().count()) {
        return;
      }
      // Whatever waits (a read, a write, TLS's goodbye) completes aborted and ends the session.
      error_code ignored;
      self->lowest().close(ignored);
    });
  }

  // From any thread: the handler's answer. On the connection's strand it is written at once;
  // from elsewhere it is posted there (under the lock, so that stop() cannot join the threads
  // between the check and the post and leave it queued forever).
  void deliver(response r) {
    {
      const std::lock_guard lock{core_->mutex};
      if (core_->closed) {
        --core_->in_flight;  // dropped: the server is gone
        return;
      }
      if (!strand_.running_in_this_thread()) {
        net::post(strand_, [self = this->shared_from_this(), r = std::move(r)]() mutable {
          self->write(std::move(r));
        });
        return;
      }
    }
    write(std::move(r));
  }

  // From any thread: `work` to run on the connection's strand (responder::run_on_connection).
  void run_here(std::function<void()> work) {
    {
      const std::lock_guard lock{core_->mutex};
      if (!core_->closed) {
        net::post(strand_, std::move(work));
        return;
      }
    }
    // Stopped: `work` is dropped here, outside the lock, since its responder may answer 500
    // (deliver) as it goes.
  }

 private:
  tcp::socket& lowest() { return beast::get_lowest_layer(stream_); }

  // The connection's one deadline: what it waits for next must be done within `limit`.
  void wait_at_most(std::chrono::milliseconds limit) {
    deadline_.store((steady::now() + limit).time_since_epoch().count(), std::memory_order_relaxed);
  }
  void wait_forever() { deadline_.store(never, std::memory_order_relaxed); }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(core_->settings.header_bytes_max);
    parser_->body_limit(core_->settings.body_bytes_max);
    wait_at_most(core_->settings.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(const error_code& ec) {
    if (ec) {
      refuse_or_end(ec);
      return;
    }
    received_ = std::chrono::steady_clock::now();
    const auto expect = parser_->get().find(bhttp::field::expect);
    if (expect != parser_->get().end() && beast::iequals(expect->value(), "100-continue")) {
      // The client waits for this before sending the body: say so only once the header passed.
      auto go_on = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                        parser_->get().version());
      wait_at_most(core_->settings.write_timeout);
      bhttp::async_write(
          stream_, *go_on,
          [self = this->shared_from_this(), go_on](const error_code& e, std::size_t) {
            if (e) {
              self->end();
              return;
            }
            self->read_body();
          });
      return;
    }
    read_body();
  }

  void read_body() {
    // A small request's body usually arrives with its header, so it is parsed here from the buffer:
    // another asynchronous read would only find it there too, after one more hand-off through the
    // strand. Only a body not yet (wholly) received is read asynchronously, under read_timeout.
    if (!parser_->is_done() && buffer_.size() > 0) {
      error_code ec;
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec && ec != bhttp::error::need_more) {
        refuse_or_end(ec);
        return;
      }
    }
    if (parser_->is_done()) {
      dispatch();
      return;
    }
    wait_at_most(core_->settings.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                        if (ec) {
                          self->refuse_or_end(ec);
                          return;
                        }
                        self->dispatch();
                      });
  }

  // A failed read: limits and malformed requests are answered before closing; the rest closes.
  void refuse_or_end(const error_code& ec) {
    if (quiet_end(ec)) {
      end();
      return;
    }
    const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    if (ec == bhttp::error::header_limit) {
      refuse("header_too_large", "the header exceeds http.header_bytes_max", version);
    } else if (ec == bhttp::error::body_limit) {
      refuse("body_too_large", "the body exceeds http.body_bytes_max", version);
    } else {
      refuse("bad_request", "unreadable HTTP request: " + ec.message(), version);
    }
  }

  void refuse(std::string_view code, std::string detail, unsigned version) {
    // The request never reaches the API: its log line and problem still get a trace id (the
    // caller's, when the header was read) and, when known, the method.
    std::string_view traceparent;
    std::string method;
    if (parser_ && parser_->is_header_done()) {
      const auto& header = parser_->get();
      if (const auto it = header.find("traceparent"); it != header.end()) traceparent = it->value();
      method = std::string(header.method_string());
    }
    const trace_context trace = trace_for(traceparent);
    auto r = std::make_shared<response>(
        refusal_response(code, std::move(detail), version, trace.trace_id));
    core_->events->answered(
        request_record{method, "unmatched", r->result_int(), code, {}, trace.trace_id});
    wait_at_most(core_->settings.write_timeout);
    bhttp::async_write(
        stream_, *r,
        [self = this->shared_from_this(), r](const error_code&, std::size_t) { self->end(); });
  }

  void dispatch() {
    request req{parser_->release(), remote_, received_};
    keep_alive_ = req.message.keep_alive();
    {
      const std::lock_guard lock{core_->mutex};
      ++core_->in_flight;
    }
    // No timer runs while the handler works: the engine answers every command (or `unavailable`).
    wait_forever();
    core_->serve(
        std::move(req),
        responder{[self = this->shared_from_this()](response r) { self->deliver(std::move(r)); },
                  [self = this->shared_from_this()](std::function<void()> work) {
                    self->run_here(std::move(work));
                  }});
  }

  void write(response r) {
    if (closed_) {
      core_->answered();
      return;
    }
    r.keep_alive(keep_alive_ && core_->accepting.load());
    r.prepare_payload();
    // Rendered into the connection's own buffer (it keeps its capacity from one answer to the
    // next) and sent as one piece.
    render_response(r, out_);
    const bool again_if_sent = r.keep_alive();
    wait_at_most(core_->settings.write_timeout);
    net::async_write(
        stream_, net::buffer(out_),
        [self = this->shared_from_this(), again_if_sent](const error_code& ec, std::size_t) {
          self->core_->answered();
          // A large answer (a page of history) does not stay with the connection.
          if (self->out_.capacity() > answer_buffer_kept_max) std::string{}.swap(self->out_);
          if (!ec && again_if_sent) {
            self->read_header();
          } else {
            self->end();
          }
        });
  }

  // Closes the connection; TLS says goodbye first (bounded by the write timeout).
  void end() {
    if (closed_) return;
    closed_ = true;
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      if (core_->accepting.load() && lowest().is_open()) {
        wait_at_most(core_->settings.write_timeout);
        stream_.async_shutdown([self = this->shared_from_this()](const error_code&) {
          error_code ignored;
          self->lowest().close(ignored);
        });
        return;
      }
    }
    error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
  }

  std::shared_ptr<server::core> core_;  // first: outlives the stream, whose executor it owns
  strand strand_;                       // the stream's executor
  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string out_;  // the answer being written, rendered (render_response)
  std::chrono::steady_clock::time_point received_;
  static constexpr steady::rep never = steady::time_point::max().time_since_epoch().count();
  std::atomic<steady::rep> deadline_{never};  // set on the strand, read by the sweep
  bool keep_alive_ = false;
  bool closed_ = false;
};

// The answer to a connection past connections_max: a canned 503, written, then closed.
class refusal final : public closable, public std::enable_shared_from_this<refusal> {
 public:
  refusal(std::shared_ptr<server::core> c, tcp::socket socket)
      : core_(std::move(c)),
        stream_(std::move(socket)),
        out_(refusal_response("overloaded", "too many connections; retry later", 11)) {
    out_.set(bhttp::field::retry_after, std::to_string(core_->settings.retry_after.count()));
  }
  refusal(const refusal&) = delete;
  refusal& operator=(const refusal&) = delete;
  refusal(refusal&&) = delete;
  refusal& operator=(refusal&&) = delete;
  ~refusal() override { core_->forget(this); }

  void start() {
    core_->track(this, weak_from_this());
    stream_.expires_after(core_->settings.write_timeout);
    bhttp::async_write(stream_, out_, [self = shared_from_this()](const error_code&, std::size_t) {
      error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }
  void close() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_.close(); });
  }
  // Its own timer bounds the write (a refusal is rare; no sweep needed).
  void expire_if_due(steady::time_point /*now*/) override {}

 private:
  std::shared_ptr<server::core> core_;
  beast::tcp_stream stream_;
  response out_;
};

}  // namespace

void server::core::run() noexcept {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      // A handler threw: that request's connection is lost, the server goes on.
      events->failed("handler", e.what());
    } catch (...) {
      events->failed("handler", "unknown exception");
    }
  }
}

void server::core::accept() {
  auto own = net::make_strand(ioc);  // the new connection's: its session keeps it
  acceptor.async_accept(own, [this, own](const error_code& ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !accepting.load()) return;
      events->failed("accept", ec.message());  // e.g. out of file descriptors: keep going
    } else if (connections.load() >= settings.connections_max) {
      refuse(std::move(socket));
    } else {
      connections.fetch_add(1);
      error_code e;
      const auto peer = socket.remote_endpoint(e);
      std::string remote = e ? std::string{} : peer.address().to_string();
      // The server's own shared_ptr is what every session keeps: stop() joins before dropping it.
      auto self = shared_from_this();
      if (tls) {
        std::make_shared<session<tls_stream>>(self, own, tls_stream(std::move(socket), *tls),
                                              std::move(remote))
            ->start();
      } else {
        std::make_shared<session<plain_stream>>(self, own, std::move(socket), std::move(remote))
            ->start();
      }
    }
    if (accepting.load()) accept();
  });
}

void server::core::sweep() {
  sweeper.expires_after(sweep_interval(settings));
  sweeper.async_wait([this](const error_code& ec) {
    if (ec) return;
    // Copied under the lock, looked at outside it: the last owner of a session may drop it here,
    // and its destructor takes the lock (forget).
    std::vector<std::weak_ptr<closable>> all;
    {
      const std::lock_guard lock{mutex};
      if (closed) return;  // stop() closes what is left
      all.reserve(open.size());
      for (const auto& [raw, weak] : open) all.push_back(weak);
    }
    const auto now = steady::now();
    for (const auto& weak : all) {
      if (auto live = weak.lock()) live->expire_if_due(now);
    }
    sweep();
  });
}

void server::core::refuse(tcp::socket socket) {
  events->connection_refused();
  if (tls) {
    // A TLS client cannot read a plain answer, and a handshake is what overload cannot afford.
    error_code ignored;
    socket.close(ignored);
    return;
  }
  std::make_shared<refusal>(shared_from_this(), std::move(socket))->start();
}

namespace {

std::optional<server_error> configure_tls(server::core& c) {
  const auto& s = c.settings;
  if (s.tls_cert_file.empty() && s.tls_key_file.empty()) return std::nullopt;
  if (s.tls_cert_file.empty() || s.tls_key_file.empty()) {
    return server_error{"TLS needs both http.tls_cert_file and http.tls_key_file"};
  }
  net::ssl::context ctx{net::ssl::context::tls_server};
  ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                  net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                  net::ssl::context::no_tlsv1_1 | net::ssl::context::no_tlsv1_2);
  // TLS 1.3 only: the options above, and the minimum version for OpenSSL builds that add more.
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1) {
    return server_error{"OpenSSL refuses TLS 1.3 as the minimum version"};
  }
  error_code ec;
  ctx.use_certificate_chain_file(s.tls_cert_file, ec);
  if (ec) {
    return server_error{"cannot load http.tls_cert_file " + s.tls_cert_file + ": " + ec.message()};
  }
  ctx.use_private_key_file(s.tls_key_file, net::ssl::context::pem, ec);
  if (ec) {
    return server_error{"cannot load http.tls_key_file " + s.tls_key_file + ": " + ec.message()};
  }
  c.tls.emplace(std::move(ctx));
  return std::nullopt;
}

std::optional<server_error> listen(server::core& c) {
  error_code ec;
  const auto address = net::ip::make_address(c.settings.address, ec);
  if (ec) return server_error{"http.listen_address " + c.settings.address + ": " + ec.message()};
  const tcp::endpoint endpoint{address, c.settings.port};
  const std::string where = c.settings.address + ":" + std::to_string(c.settings.port);
  c.acceptor.open(endpoint.protocol(), ec);
  if (!ec) c.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) c.acceptor.bind(endpoint, ec);
  if (!ec) c.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return server_error{"cannot listen on " + where + ": " + ec.message()};
  c.port = c.acceptor.local_endpoint().port();
  return std::nullopt;
}

}  // namespace

engine::result<std::unique_ptr<server>, server_error> server::start(server_settings settings,
                                                                    handler serve,
                                                                    std::shared_ptr<probe> events) {
  const std::size_t threads = std::max<std::size_t>(settings.threads, 1);
  auto c = std::make_shared<core>(threads);
  c->settings = std::move(settings);
  c->serve = std::move(serve);
  c->events = events ? std::move(events) : std::make_shared<probe>();
  if (auto e = configure_tls(*c)) return *e;
  if (auto e = listen(*c)) return *e;
  c->work.emplace(c->ioc.get_executor());
  c->accept();
  c->sweep();
  for (std::size_t i = 0; i < threads; ++i) {
    // A plain pointer: the thread must not own the core (it would destroy its own std::thread).
    c->threads.emplace_back([raw = c.get()] { raw->run(); });
    // Named, so that a profile or `top -H` tells the server's threads from the engine's.
    pthread_setname_np(c->threads.back().native_handle(), "http.io");
  }
  return std::unique_ptr<server>(new server(std::move(c)));
}

server::server(std::shared_ptr<core> c) : core_(std::move(c)) {}

server::~server() {
  try {
    stop(std::chrono::milliseconds{0});
  } catch (const std::exception& e) {
    // Only std::thread::join or a lock can throw here: nothing is left to stop but the process.
    core_->events->failed("handler", e.what());
  }
}

std::uint16_t server::port() const noexcept { return core_->port; }
bool server::tls() const noexcept { return core_->tls.has_value(); }
std::size_t server::connections() const noexcept { return core_->connections.load(); }

void server::stop_accepting() {
  if (!core_->accepting.exchange(false)) return;
  net::post(core_->accept_strand, [c = core_] {
    error_code ignored;
    c->acceptor.close(ignored);
  });
}

void server::stop(std::chrono::milliseconds grace) {
  stop_accepting();
  std::vector<std::shared_ptr<closable>> open;
  {
    std::unique_lock lock{core_->mutex};
    if (core_->closed) return;
    core_->settled.wait_for(lock, grace, [this] { return core_->in_flight == 0; });
    core_->closed = true;
    for (auto& [raw, weak] : core_->open) {
      if (auto live = weak.lock()) open.push_back(std::move(live));
    }
  }
  for (const auto& c : open) c->close();
  open.clear();
  net::post(core_->accept_strand, [c = core_] { c->sweeper.cancel(); });
  core_->work.reset();
  for (std::thread& t : core_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace wallet::http
