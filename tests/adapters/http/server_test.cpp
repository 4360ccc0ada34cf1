// Unit tests of the Beast server over loopback sockets (no other server): keep-alive, header and
// body limits, 100-continue, malformed requests, the connection bound, idle timeouts, answers from
// other threads and from work run on the connection, shutdown with requests in flight, and TLS 1.3
// only.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/beast/http/write.hpp>

#include "client.hpp"
#include "wallet/http/server.hpp"

namespace wallet::http::testing {
namespace {

using namespace std::chrono_literals;
using status = bhttp::status;

class counting_probe final : public probe {
 public:
  void connection_refused() override { refused.fetch_add(1); }
  std::atomic<int> refused{0};
};

// Answers every request with its method, target and body length, at once.
void echo(request req, const responder& respond) {
  response r;
  r.result(status::ok);
  r.set(bhttp::field::content_type, "text/plain");
  r.body() = std::string(req.message.method_string()) + " " + std::string(req.message.target()) +
             " " + std::to_string(req.message.body().size());
  respond(std::move(r));
}

std::unique_ptr<server> start(server_settings s, handler h,
                              std::shared_ptr<probe> p = std::make_shared<probe>()) {
  s.port = 0;
  auto started = server::start(std::move(s), std::move(h), std::move(p));
  EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().message);
  return started.ok() ? std::move(started).value() : nullptr;
}

// Beast's serializer, for comparison with render_response.
std::string serialized(const response& r) {
  std::ostringstream os;
  os << r;
  return os.str();
}

TEST(render_response, writes_what_beasts_serializer_writes) {
  std::vector<response> answers;
  response created{status::created, 11};
  created.set(bhttp::field::content_type, "application/json");
  created.set(bhttp::field::location, "/v1/wallets/w-1");
  created.set("RateLimit-Limit", "200");
  created.set("Idempotent-Replayed", "true");
  created.body() = R"({"wallet_id":"w-1","status":"accepted"})";
  answers.push_back(created);
  response refused{status::service_unavailable, 11};
  refused.set(bhttp::field::content_type, "application/problem+json");
  refused.set(bhttp::field::retry_after, "1");
  refused.body() = R"({"type":"about:blank"})";
  answers.push_back(refused);
  response old_client{status::not_found, 10};  // HTTP/1.0
  old_client.body() = "none";
  answers.push_back(old_client);
  response empty{status::no_content, 11};
  answers.push_back(empty);
  response own_reason{status::ok, 11};
  own_reason.reason("Fine");
  own_reason.body() = std::string(70'000, 'x');  // larger than any buffer of the serializer
  answers.push_back(own_reason);
  response unknown{static_cast<status>(299), 11};  // no reason phrase Beast knows
  answers.push_back(unknown);
  for (response& r : answers) {
    for (const bool keep_alive : {true, false}) {
      r.keep_alive(keep_alive);
      r.prepare_payload();
      std::string rendered = "left over from the last answer";
      render_response(r, rendered);
      EXPECT_EQ(rendered, serialized(r));
    }
  }
}

TEST(server, keeps_a_connection_alive_across_requests) {
  auto srv = start({}, echo);
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  for (int i = 0; i < 3; ++i) {
    auto r = c.send(test_client::request(bhttp::verb::post, "/x/" + std::to_string(i), "{}"));
    ASSERT_TRUE(r) << c.error().message();
    EXPECT_EQ(r->body(), "POST /x/" + std::to_string(i) + " 2");
    EXPECT_TRUE(r->keep_alive());
  }
  EXPECT_EQ(srv->connections(), 1U);
  auto req = test_client::request(bhttp::verb::get, "/last");
  req.keep_alive(false);
  auto last = c.send(req);
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->keep_alive());
  EXPECT_FALSE(c.read()) << "the server closes after Connection: close";
}

TEST(server, refuses_oversize_bodies_and_headers_then_closes) {
  server_settings s;
  s.body_bytes_max = 1'024;
  s.header_bytes_max = 1'024;
  auto srv = start(s, echo);
  ASSERT_TRUE(srv);
  {
    test_client c{srv->port()};
    auto r = c.send(test_client::request(bhttp::verb::post, "/big", std::string(2'000, 'x')));
    ASSERT_TRUE(r) << c.error().message();
    EXPECT_EQ(r->result(), status::payload_too_large);
    EXPECT_EQ((*r)[bhttp::field::content_type], "application/problem+json");
    EXPECT_NE(r->body().find("body_too_large"), std::string::npos);
    EXPECT_FALSE(c.read());
  }
  {
    test_client c{srv->port()};
    auto req = test_client::request(bhttp::verb::get, "/h");
    req.set("X-Padding", std::string(2'000, 'y'));
    auto r = c.send(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result(), status::request_header_fields_too_large);
  }
  {
    // A client that waits for 100 Continue learns the verdict before sending its body.
    test_client c{srv->port()};
    ASSERT_TRUE(
        c.write_raw("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                    "Expect: 100-continue\r\n\r\n"));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result(), status::payload_too_large);
  }
  {
    test_client c{srv->port()};
    ASSERT_TRUE(
        c.write_raw("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    "Expect: 100-continue\r\n\r\n"));
    auto go_on = c.read();
    ASSERT_TRUE(go_on);
    EXPECT_EQ(go_on->result(), status::continue_);
    ASSERT_TRUE(c.write_raw("abcd"));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body(), "POST /small 4");
  }
}

// The body is parsed from what arrived with the header when it is all there, and read otherwise:
// a body split across writes, a chunked body, and two requests in one write (the second waits in
// the buffer) are all answered whole.
TEST(server, reads_split_chunked_and_pipelined_bodies) {
  auto srv = start({}, echo);
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  ASSERT_TRUE(c.write_raw("POST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcd"));
  std::this_thread::sleep_for(50ms);  // the server has parsed the first part by now
  ASSERT_TRUE(c.write_raw("efghij"));
  auto split = c.read();
  ASSERT_TRUE(split) << c.error().message();
  EXPECT_EQ(split->body(), "POST /split 10");

  ASSERT_TRUE(
      c.write_raw("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto chunked = c.read();
  ASSERT_TRUE(chunked) << c.error().message();
  EXPECT_EQ(chunked->body(), "POST /chunked 5");

  ASSERT_TRUE(
      c.write_raw("POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                  "GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto one = c.read();
  ASSERT_TRUE(one) << c.error().message();
  EXPECT_EQ(one->body(), "POST /one 2");
  auto two = c.read();
  ASSERT_TRUE(two) << c.error().message();
  EXPECT_EQ(two->body(), "GET /two 0");
  EXPECT_TRUE(two->keep_alive());
}

TEST(server, answers_malformed_requests_400) {
  auto srv = start({}, echo);
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  ASSERT_TRUE(c.write_raw("NOT HTTP AT ALL\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result(), status::bad_request);
  EXPECT_NE(r->body().find("bad_request"), std::string::npos);
}

TEST(server, past_the_connection_bound_answers_503_at_once) {
  server_settings s;
  s.connections_max = 2;
  s.retry_after = 3s;
  auto events = std::make_shared<counting_probe>();
  auto srv = start(s, echo, events);
  ASSERT_TRUE(srv);
  test_client a{srv->port()};
  test_client b{srv->port()};
  ASSERT_TRUE(a.send(test_client::request(bhttp::verb::get, "/a")));
  ASSERT_TRUE(b.send(test_client::request(bhttp::verb::get, "/b")));
  test_client c{srv->port()};
  auto r = c.read();  // answered without being asked: nothing of it is read
  ASSERT_TRUE(r) << c.error().message();
  EXPECT_EQ(r->result(), status::service_unavailable);
  EXPECT_EQ((*r)[bhttp::field::retry_after], "3");
  EXPECT_EQ(events->refused.load(), 1);
  EXPECT_TRUE(a.send(test_client::request(bhttp::verb::get, "/a-again"))) << "a keeps its place";
}

TEST(server, closes_idle_connections) {
  server_settings s;
  s.idle_timeout = 200ms;
  auto srv = start(s, echo);
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  ASSERT_TRUE(c.send(test_client::request(bhttp::verb::get, "/first")));
  std::this_thread::sleep_for(600ms);
  EXPECT_FALSE(c.send(test_client::request(bhttp::verb::get, "/late")))
      << "the idle connection was closed";
  for (int i = 0; i < 50 && srv->connections() != 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(srv->connections(), 0U);
}

// A body that stops coming: the connection is closed once http.read_timeout has passed (the
// server's sweep of deadlines), and nothing is answered.
TEST(server, closes_a_connection_whose_body_stops_coming) {
  server_settings s;
  s.read_timeout = 200ms;
  auto srv = start(s, echo);
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  ASSERT_TRUE(
      c.write_raw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  EXPECT_FALSE(c.read()) << "the connection was closed without an answer";
  for (int i = 0; i < 100 && srv->connections() != 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(srv->connections(), 0U);
}

// No deadline runs while the handler works: an answer that comes after every timeout has passed
// is still written, and the connection is kept.
TEST(server, a_slow_handler_is_not_timed_out) {
  server_settings s;
  s.idle_timeout = 100ms;
  s.read_timeout = 100ms;
  s.write_timeout = 100ms;
  std::vector<std::thread> workers;
  std::mutex m;
  auto srv = start(s, [&](request req, responder respond) {
    const std::lock_guard lock{m};
    workers.emplace_back([req = std::move(req), respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(500ms);
      echo(std::move(req), respond);
    });
  });
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  auto r = c.send(test_client::request(bhttp::verb::post, "/slow", "{}"));
  ASSERT_TRUE(r) << c.error().message();
  EXPECT_EQ(r->body(), "POST /slow 2");
  EXPECT_TRUE(r->keep_alive());
  srv->stop(1s);
  for (auto& t : workers) t.join();
}

TEST(server, answers_from_other_threads_and_drains_on_stop) {
  std::vector<std::thread> workers;
  std::mutex m;
  auto srv = start({}, [&](request req, responder respond) {
    const std::lock_guard lock{m};
    workers.emplace_back([req = std::move(req), respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(150ms);
      echo(std::move(req), respond);
    });
  });
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  ASSERT_TRUE(c.write_raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(50ms);  // the request is in the handler
  srv->stop(2s);                      // waits for its answer to be written
  auto r = c.read();
  ASSERT_TRUE(r) << c.error().message();
  EXPECT_EQ(r->body(), "GET /slow 0");
  EXPECT_FALSE(r->keep_alive()) << "no keep-alive once stopping";
  for (auto& t : workers) t.join();
}

// Work handed to the connection's runner from another thread runs on a server thread, and the
// answer it gives there is written (at once, on the connection's strand).
TEST(server, runs_work_on_the_connection_and_answers_from_there) {
  std::vector<std::thread> workers;
  std::mutex m;
  std::atomic<bool> on_worker{true};
  auto srv = start({}, [&](request req, responder respond) {
    const std::lock_guard lock{m};
    workers.emplace_back(
        [&on_worker, req = std::move(req), respond = std::move(respond)]() mutable {
          const auto worker = std::this_thread::get_id();
          respond.run_on_connection([&on_worker, worker, req = std::move(req), respond]() mutable {
            on_worker = std::this_thread::get_id() == worker;
            echo(std::move(req), respond);
          });
        });
  });
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  for (int i = 0; i < 3; ++i) {
    auto r = c.send(test_client::request(bhttp::verb::post, "/run/" + std::to_string(i), "{}"));
    ASSERT_TRUE(r) << c.error().message();
    EXPECT_EQ(r->body(), "POST /run/" + std::to_string(i) + " 2");
    EXPECT_TRUE(r->keep_alive());
    EXPECT_FALSE(on_worker.load()) << "the work ran on the handler's thread, not the server's";
  }
  srv->stop(1s);
  for (auto& t : workers) t.join();
}

// One server thread (the io_context's single-thread mode): work handed over from other threads on
// several connections at once still runs on the server's thread, named for profiles, and is
// answered on each connection.
TEST(server, one_thread_runs_work_from_other_threads_on_many_connections) {
  std::vector<std::thread> workers;
  std::mutex m;
  std::vector<std::string> ran_on;
  server_settings s;
  s.threads = 1;
  auto srv = start(s, [&](request req, responder respond) {
    const std::lock_guard lock{m};
    workers.emplace_back(
        [&m, &ran_on, req = std::move(req), respond = std::move(respond)]() mutable {
          std::this_thread::sleep_for(20ms);  // every request is in before the first answer
          respond.run_on_connection([&m, &ran_on, req = std::move(req), respond]() mutable {
            std::array<char, 16> name{};
            pthread_getname_np(pthread_self(), name.data(), name.size());
            {
              const std::lock_guard held{m};
              ran_on.emplace_back(name.data());
            }
            echo(std::move(req), respond);
          });
        });
  });
  ASSERT_TRUE(srv);
  constexpr int clients = 4;
  std::vector<std::unique_ptr<test_client>> cs;
  for (int i = 0; i < clients; ++i) {
    cs.push_back(std::make_unique<test_client>(srv->port()));
    ASSERT_TRUE(
        cs.back()->write_raw("GET /one/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (int i = 0; i < clients; ++i) {
    auto r = cs[static_cast<std::size_t>(i)]->read();
    ASSERT_TRUE(r) << cs[static_cast<std::size_t>(i)]->error().message();
    EXPECT_EQ(r->body(), "GET /one/" + std::to_string(i) + " 0");
  }
  srv->stop(1s);
  for (auto& t : workers) t.join();
  ASSERT_EQ(ran_on.size(), static_cast<std::size_t>(clients));
  for (const std::string& name : ran_on) EXPECT_EQ(name, "http.io");
}

TEST(server, a_dropped_responder_answers_500) {
  auto srv = start({}, [](const request&, const responder&) {});
  ASSERT_TRUE(srv);
  test_client c{srv->port()};
  auto r = c.send(test_client::request(bhttp::verb::get, "/dropped"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result(), status::internal_server_error);
}

TEST(server, a_taken_port_is_an_error) {
  auto first = start({}, echo);
  ASSERT_TRUE(first);
  server_settings s;
  s.port = first->port();
  auto second = server::start(s, echo, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen"), std::string::npos);
}

// A self-signed P-256 certificate for localhost, written as PEM files in a temporary folder.
struct certificate {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("wallet-http-test-" + std::to_string(::getpid()));
  std::filesystem::path cert = dir / "cert.pem";
  std::filesystem::path key = dir / "key.pem";

  certificate() {
    std::filesystem::create_directories(dir);
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    // OpenSSL takes the name's bytes as unsigned char.
    static constexpr unsigned char localhost[] = "localhost";  // NOLINT(*-avoid-c-arrays)
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, localhost, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
  certificate(const certificate&) = delete;
  certificate& operator=(const certificate&) = delete;
  certificate(certificate&&) = delete;
  certificate& operator=(certificate&&) = delete;
  ~certificate() { std::filesystem::remove_all(dir); }
};

TEST(server, serves_tls_1_3_only) {
  const certificate cert;
  server_settings s;
  s.tls_cert_file = cert.cert;
  s.tls_key_file = cert.key;
  auto srv = start(s, echo);
  ASSERT_TRUE(srv);
  EXPECT_TRUE(srv->tls());
  net::ssl::context modern{net::ssl::context::tls_client};
  test_client c{srv->port(), &modern};
  ASSERT_FALSE(c.error()) << c.error().message();
  auto r = c.send(test_client::request(bhttp::verb::get, "/secure"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "GET /secure 0");
  net::ssl::context old{net::ssl::context::tlsv12_client};
  test_client legacy{srv->port(), &old};
  EXPECT_TRUE(legacy.error()) << "a TLS 1.2 client is refused";
  test_client plain{srv->port()};
  EXPECT_FALSE(plain.send(test_client::request(bhttp::verb::get, "/plain")));
}

TEST(server, tls_needs_both_files) {
  server_settings s;
  s.tls_cert_file = "/nonexistent/cert.pem";
  auto started = server::start(s, echo, nullptr);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("both"), std::string::npos);
  s.tls_key_file = "/nonexistent/key.pem";
  started = server::start(s, echo, nullptr);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("/nonexistent/cert.pem"), std::string::npos);
}

}  // namespace
}  // namespace wallet::http::testing
