// The HTTP edge with real sockets: how connections are framed, timed out and capped. Each
// case is a finding of a review that drove noxd with raw sockets.
#include <future>
#include <vector>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/sse_client.hpp"

using namespace nox::test;
using namespace std::chrono_literals;

namespace {

// A connection that sends nothing; true when the server closed it within `within`.
bool closed_by_server_within(std::uint16_t port, std::chrono::milliseconds within, const std::string& from = "") {
  return raw_exchange(port, "", within, from).closed_by_server;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_edge)

// Regression: `Transfer-Encoding: identity` (or `xchunked`) was taken as "no body" and the
// connection kept, so the body was answered as a second request (request smuggling). Now:
// 400 (chunked is not last) or 501 (a coding we do not decode), and the connection closes.
BOOST_AUTO_TEST_CASE(a_transfer_encoding_other_than_chunked_is_refused_and_the_connection_closed) {
  NoxdProcess noxd{{"--slots", "1"}};
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const std::string coding : {"identity", "xchunked", "chunked, identity"}) {
    const auto reply = raw_exchange(noxd.port(),
                                    "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                    "Transfer-Encoding: " + coding + "\r\n\r\n" + smuggled);
    BOOST_TEST(reply.received.rfind("HTTP/1.1 400 ", 0) == 0, coding << ": " << reply.received.substr(0, 80));
    BOOST_TEST(reply.received.find("bad_transfer_encoding") != std::string::npos, coding);
    BOOST_TEST(reply.received.find("HTTP/1.1 200") == std::string::npos, coding << ": the body was served as a request");
    BOOST_TEST(reply.closed_by_server, coding);
  }
  const auto gzip = raw_exchange(noxd.port(),
                                 "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                 "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  BOOST_TEST(gzip.received.rfind("HTTP/1.1 501 ", 0) == 0, gzip.received.substr(0, 80));
  BOOST_TEST(gzip.received.find("unsupported_transfer_encoding") != std::string::npos);
  BOOST_TEST(gzip.closed_by_server);
  // Chunked alone still works.
  const auto chunked = raw_exchange(noxd.port(),
                                    "GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                                    "Connection: close\r\n\r\n0\r\n\r\n");
  BOOST_TEST(chunked.received.rfind("HTTP/1.1 200 ", 0) == 0, chunked.received.substr(0, 80));
}

// Regression: a connection that never sent a byte was held for the 60 s idle timeout (the
// 10 s header timeout started at the first byte), so with --max-connections 3, three silent
// sockets locked every other client out. Now the header deadline runs from accept.
BOOST_AUTO_TEST_CASE(silent_connections_are_dropped_after_the_header_timeout_and_lock_nobody_out) {
  NoxdProcess noxd{{"--slots", "1", "--max-connections", "3", "--header-timeout-s", "0.5", "--idle-timeout-s", "60"}};
  std::vector<std::future<bool>> silent;
  for (int i = 0; i < 3; ++i)
    silent.push_back(std::async(std::launch::async, closed_by_server_within, noxd.port(), 10000ms, std::string()));
  for (auto& s : silent) BOOST_TEST(s.get(), "a silent connection was still open after 10 s");
  HttpClient client{noxd.port()};
  BOOST_TEST(client.get("/ready").status == 200);
}

// A kept-alive connection between requests still gets the idle timeout, not the header one.
BOOST_AUTO_TEST_CASE(a_kept_alive_connection_waits_the_idle_timeout_between_requests) {
  NoxdProcess noxd{{"--slots", "1", "--header-timeout-s", "0.5", "--idle-timeout-s", "60"}};
  const auto reply = raw_exchange(noxd.port(), "GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2000ms);
  BOOST_TEST(reply.received.rfind("HTTP/1.1 200 ", 0) == 0, reply.received.substr(0, 80));
  BOOST_TEST(!reply.closed_by_server, "closed after 0.5 s although the idle timeout is 60 s");
}

// The idle timeout is kept by one lazily re-armed timer per connection, not a timer per
// request: a kept-alive connection that sends nothing more is still closed once it passes.
BOOST_AUTO_TEST_CASE(a_kept_alive_connection_is_closed_after_the_idle_timeout) {
  NoxdProcess noxd{{"--slots", "1", "--header-timeout-s", "30", "--idle-timeout-s", "0.5"}};
  const auto began = std::chrono::steady_clock::now();
  const auto reply = raw_exchange(noxd.port(), "GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 10000ms);
  const auto took = std::chrono::steady_clock::now() - began;
  BOOST_TEST(reply.received.rfind("HTTP/1.1 200 ", 0) == 0, reply.received.substr(0, 80));
  BOOST_TEST(reply.closed_by_server, "still open 10 s after its last request with a 0.5 s idle timeout");
  BOOST_TEST(std::chrono::duration<double>(took).count() >= 0.45, "closed before the idle timeout");
}

// Requests sent together (pipelined) are each parsed from what was already read and answered
// in order, without a read in between; a response larger than the socket's buffer is written
// in part at once and the rest as the client reads, and the next answer follows it whole.
BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order_after_a_large_response) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client{noxd.port()};
  const auto whole = client.get("/vendor/redoc.standalone.js");
  BOOST_REQUIRE(whole.status == 200);
  BOOST_REQUIRE(whole.body.size() > 512 * 1024);  // far more than a socket takes in one send
  const std::string get = "GET /vendor/redoc.standalone.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string ready = "GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string last = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  const auto reply = raw_exchange(noxd.port(), ready + get + ready + last, 20000ms);
  BOOST_TEST(reply.closed_by_server);
  // Walks the answers: each a head, then Content-Length bytes of body.
  std::vector<std::pair<std::string, std::string>> answers;  // status line, body
  std::string_view rest = reply.received;
  while (!rest.empty()) {
    const auto head_end = rest.find("\r\n\r\n");
    BOOST_REQUIRE(head_end != std::string_view::npos);
    const std::string_view head = rest.substr(0, head_end);
    const auto length_at = head.find("Content-Length: ");
    BOOST_REQUIRE(length_at != std::string_view::npos);
    const std::size_t length = std::stoul(std::string(head.substr(length_at + 16, head.find("\r\n", length_at) - length_at - 16)));
    BOOST_REQUIRE(rest.size() >= head_end + 4 + length);
    answers.emplace_back(std::string(head.substr(0, head.find("\r\n"))), std::string(rest.substr(head_end + 4, length)));
    rest.remove_prefix(head_end + 4 + length);
  }
  BOOST_REQUIRE(answers.size() == 4u);
  for (const auto& [status, body] : answers) BOOST_TEST(status == "HTTP/1.1 200 OK");
  BOOST_TEST(answers[1].second == whole.body, "the large body arrived cut or changed");
  BOOST_TEST(answers[2].second.find("ready") != std::string::npos, answers[2].second);
  BOOST_TEST(answers[3].second.find("status") != std::string::npos, answers[3].second);
}

// Regression (found while making writes go out at once): an event stream's writes no longer
// renewed Beast's deadline, so the read that watches for the client leaving ran out at the
// header timeout set at accept and closed a healthy stream.
BOOST_AUTO_TEST_CASE(an_event_stream_outlives_the_header_timeout) {
  NoxdProcess noxd{{"--slots", "1", "--header-timeout-s", "0.5", "--sse-heartbeat-s", "0.2"}};
  SseClient stream(noxd.port(), "/events");
  BOOST_REQUIRE_EQUAL(stream.status(), 200);
  BOOST_TEST(!stream.next(1500ms).has_value());  // nothing happens for three header timeouts
  BOOST_TEST(!stream.ended());
  BOOST_TEST(stream.comments_seen() >= 3, "heartbeats stopped: " << stream.comments_seen());
  HttpClient client{noxd.port()};
  const auto id = submit(client, job_spec_json("echo", "energy", molecule_xyz("water")));
  const auto event = stream.next(5000ms);
  BOOST_REQUIRE_MESSAGE(event.has_value(), "the stream was closed after the header timeout");
  BOOST_TEST(event->data.find(id) != std::string::npos, event->data);
}

// One client address cannot take every connection: beyond max_connections_per_address its
// new connections are closed at once, while another address is still served.
BOOST_AUTO_TEST_CASE(one_address_cannot_take_every_connection) {
  NoxdProcess noxd{{"--slots", "1", "--max-connections-per-address", "2", "--header-timeout-s", "30"}};
  std::vector<std::future<bool>> held;
  for (int i = 0; i < 2; ++i)
    held.push_back(std::async(std::launch::async, closed_by_server_within, noxd.port(), 3000ms, std::string()));
  // Wait until the server holds both (its /health counts open connections, its own included).
  bool both_held = false;
  for (int i = 0; i < 200 && !both_held; ++i) {
    const auto health = raw_exchange(
        noxd.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 2000ms, "127.0.0.2");
    both_held = health.received.find("\"connections\":3") != std::string::npos;
  }
  BOOST_REQUIRE(both_held);
  BOOST_TEST(closed_by_server_within(noxd.port(), 1000ms), "a third connection from 127.0.0.1 was kept");
  const auto from_other_address =
      raw_exchange(noxd.port(), "GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 2000ms,
                   "127.0.0.2");
  BOOST_TEST(from_other_address.received.rfind("HTTP/1.1 200 ", 0) == 0, from_other_address.received.substr(0, 80));
  for (auto& h : held) BOOST_TEST(!h.get(), "a connection within the cap was closed");
}

// Regression: the Host header was never checked (DELETE with `Host: evil.example` answered
// 204) and a cross-origin POST /jobs/{id}/cancel with Content-Type text/plain was accepted,
// so a web page could drive a localhost noxd (DNS rebinding, or a form post).
BOOST_AUTO_TEST_CASE(a_foreign_host_or_origin_cannot_change_jobs) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client{noxd.port()};
  const auto id = submit(client, job_spec_json("echo", "energy", molecule_xyz("water")));
  wait_until_finished(client, id);

  const auto rebound = raw_exchange(
      noxd.port(), "DELETE /jobs/" + id + " HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
  BOOST_TEST(rebound.received.rfind("HTTP/1.1 421 ", 0) == 0, rebound.received.substr(0, 80));
  BOOST_TEST(rebound.received.find("host_not_allowed") != std::string::npos);

  const auto form_post = raw_exchange(noxd.port(), "POST /jobs/" + id +
                                                       "/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                       "Origin: http://evil.example\r\nContent-Type: text/plain\r\n"
                                                       "Content-Length: 0\r\nConnection: close\r\n\r\n");
  BOOST_TEST(form_post.received.rfind("HTTP/1.1 403 ", 0) == 0, form_post.received.substr(0, 80));
  BOOST_TEST(form_post.received.find("origin_not_allowed") != std::string::npos);

  // The job is untouched, and the same requests from the right host and no foreign origin work.
  BOOST_TEST(client.get("/jobs/" + id).status == 200);
  BOOST_TEST(client.request("DELETE", "/jobs/" + id).status == 204);
}

BOOST_AUTO_TEST_SUITE_END()
