// The Redis client: protocol pieces on bytes, then one connection against a real
// redis-server (pipelining, errors, AUTH, SELECT, unix socket, timeouts, outages).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>
#include <future>

#include "storage/redis/redis_connection.hpp"
#include "tests/support/fake_redis.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nox::redis::Command;
using nox::redis::Connection;
using nox::redis::ConnectionConfig;
using nox::redis::Reply;
using nox::redis::ReplyDecoder;
using nox::redis::Response;
using nox::redis::Status;
using nox::redis::Url;
using nox::test::FakeRedis;
using nox::test::RedisServer;
using nox::test::run_task;

namespace {

Url must_parse(std::string_view text) {
  auto parsed = nox::redis::parse_url(text);
  if (auto* error = std::get_if<nox::redis::UrlError>(&parsed))
    BOOST_FAIL("cannot parse " << text << ": " << error->message);
  return std::get<Url>(parsed);
}

bool url_fails(std::string_view text) {
  return std::holds_alternative<nox::redis::UrlError>(nox::redis::parse_url(text));
}

std::vector<Reply> decode_all(ReplyDecoder& decoder) {
  std::vector<Reply> out;
  while (auto reply = decoder.next()) out.push_back(std::move(*reply));
  return out;
}

asio::awaitable<bool> connected(std::shared_ptr<Connection> c, std::chrono::milliseconds max_wait) {
  bool ok = co_await c->wait_connected(max_wait);
  co_return ok;
}

// Connections made by a test, closed (so their run loops end) when it is over.
struct Client {
  asio::io_context ioc;
  std::vector<std::shared_ptr<Connection>> connections;

  std::shared_ptr<Connection> connect(const std::string& url,
                                      std::chrono::milliseconds command_timeout = 5000ms) {
    ConnectionConfig config;
    config.url = must_parse(url);
    config.command_timeout = command_timeout;
    config.connect_timeout = 1000ms;
    auto connection = Connection::create(ioc.get_executor(), config);
    connection->start();
    connections.push_back(connection);
    return connection;
  }

  // A connection that is up: the test stops here if it does not come up within 5 s.
  std::shared_ptr<Connection> connect_ready(const std::string& url,
                                            std::chrono::milliseconds command_timeout = 5000ms) {
    auto connection = connect(url, command_timeout);
    BOOST_TEST_REQUIRE(run_task(ioc, connected(connection, 5s)), connection->last_error());
    return connection;
  }

  ~Client() {
    for (auto& c : connections) c->close();
    ioc.restart();
    ioc.run_for(2s);
  }
};

asio::awaitable<Response> exec(std::shared_ptr<Connection> c, Command command,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds{}) {
  Response r = co_await c->exec(std::move(command), timeout);
  co_return r;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::string text_of(const Response& r, std::size_t i = 0) {
  if (!r.ok()) return "<" + std::string(nox::redis::to_string(r.status)) + ": " + r.message + ">";
  const std::string* t = r.replies.at(i).text();
  return t ? *t : r.replies.at(i).describe();
}

asio::awaitable<void> incr_into(std::shared_ptr<Connection> c, std::vector<std::int64_t>* results,
                                std::size_t i, std::size_t* remaining) {
  Command incr{"INCR", "counter"};
  Response r = co_await c->exec(std::move(incr));
  (*results)[i] = r.ok() ? r.reply().integer().value_or(-1) : -2;
  --*remaining;
}

asio::awaitable<void> push_later(std::shared_ptr<Connection> c, std::chrono::milliseconds delay) {
  co_await sleep_for(delay);
  Command push{"RPUSH", "jobs", "hello"};
  co_await c->exec(std::move(push));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_protocol)

BOOST_AUTO_TEST_CASE(url_forms) {
  Url plain = must_parse("redis://localhost");
  BOOST_TEST(!plain.unix_socket);
  BOOST_TEST(plain.host == "localhost");
  BOOST_TEST(plain.port == 6379);
  BOOST_TEST(plain.db == 0);
  BOOST_TEST(plain.password.empty());

  Url full = must_parse("redis://:p%40ss@10.0.0.5:6380/3");
  BOOST_TEST(full.host == "10.0.0.5");
  BOOST_TEST(full.port == 6380);
  BOOST_TEST(full.db == 3);
  BOOST_TEST(full.user.empty());
  BOOST_TEST(full.password == "p@ss");

  Url acl = must_parse("redis://alice:secret@redis.internal:7000/0");
  BOOST_TEST(acl.user == "alice");
  BOOST_TEST(acl.password == "secret");
  BOOST_TEST(acl.host == "redis.internal");

  Url bare_password = must_parse("redis://secret@h:1");
  BOOST_TEST(bare_password.user.empty());
  BOOST_TEST(bare_password.password == "secret");

  Url v6 = must_parse("redis://[::1]:6390/2");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.port == 6390);
  BOOST_TEST(v6.db == 2);

  Url sock = must_parse("unix:///run/redis/redis.sock?db=4&password=x%26y");
  BOOST_TEST(sock.unix_socket);
  BOOST_TEST(sock.path == "/run/redis/redis.sock");
  BOOST_TEST(sock.db == 4);
  BOOST_TEST(sock.password == "x&y");
  BOOST_TEST(must_parse("unix:///tmp/r.sock").db == 0);

  BOOST_TEST(nox::redis::redacted(full) == "redis://:***@10.0.0.5:6380/3");
}

BOOST_AUTO_TEST_CASE(url_errors) {
  BOOST_TEST(url_fails("http://localhost"));
  BOOST_TEST(url_fails("rediss://localhost"));
  BOOST_TEST(url_fails("redis://"));
  BOOST_TEST(url_fails("redis://host:0"));
  BOOST_TEST(url_fails("redis://host:70000"));
  BOOST_TEST(url_fails("redis://host:port"));
  BOOST_TEST(url_fails("redis://host/x"));
  BOOST_TEST(url_fails("redis://host/-1"));
  BOOST_TEST(url_fails("redis://:bad%zz@host"));
  BOOST_TEST(url_fails("unix://relative.sock"));
  BOOST_TEST(url_fails("unix:///tmp/r.sock?db=x"));
  BOOST_TEST(url_fails("unix:///tmp/r.sock?colour=blue"));
}

BOOST_AUTO_TEST_CASE(command_encoding_is_resp_arrays) {
  Command c{"SET", "k", std::string_view("a\r\nb\0c", 6)};
  BOOST_TEST(c.count() == 1u);
  BOOST_TEST(c.payload() == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\0c\r\n", 32));
  Command copy = c;
  copy.push({"PING"});
  BOOST_TEST(copy.count() == 2u);
  // A copy handed to a connection keeps its bytes when the original grows.
  BOOST_TEST(c.count() == 1u);
  BOOST_TEST(c.payload().size() == 32u);
  BOOST_TEST(copy.payload().substr(32) == "*1\r\n$4\r\nPING\r\n");
}

BOOST_AUTO_TEST_CASE(decoder_handles_split_and_nested_replies) {
  ReplyDecoder decoder;
  const std::string bytes = "+OK\r\n-ERR bad\r\n:42\r\n$-1\r\n*3\r\n$3\r\nfoo\r\n*1\r\n:7\r\n$0\r\n\r\n";
  // One byte at a time: replies must come out whole and in order however TCP splits them.
  std::vector<Reply> replies;
  for (char c : bytes) {
    decoder.feed(&c, 1);
    for (auto& r : decode_all(decoder)) replies.push_back(std::move(r));
  }
  BOOST_TEST(!decoder.failed());
  BOOST_TEST_REQUIRE(replies.size() == 5u);
  BOOST_TEST(*replies[0].text() == "OK");
  BOOST_TEST(replies[1].is_error());
  BOOST_TEST(*replies[1].error() == "ERR bad");
  BOOST_TEST(*replies[2].integer() == 42);
  BOOST_TEST(replies[3].is_nil());
  const auto* array = replies[4].array();
  BOOST_TEST_REQUIRE(array != nullptr);
  BOOST_TEST_REQUIRE(array->size() == 3u);
  BOOST_TEST(*(*array)[0].text() == "foo");
  BOOST_TEST(*(*(*array)[1].array())[0].integer() == 7);
  BOOST_TEST((*array)[2].text()->empty());
  BOOST_TEST(replies[4].describe() == "[\"foo\", [(integer) 7], \"\"]");
}

BOOST_AUTO_TEST_CASE(decoder_stays_failed_after_garbage) {
  ReplyDecoder decoder;
  decoder.feed("?what\r\n", 7);
  BOOST_TEST(!decoder.next().has_value());
  BOOST_TEST(decoder.failed());
  decoder.feed("+OK\r\n", 5);
  BOOST_TEST(!decoder.next().has_value());
}

BOOST_AUTO_TEST_CASE(numeric_strings_read_as_integers) {
  Reply r{std::string("1700000000123")};
  BOOST_TEST(*r.integer() == 1700000000123);
  Reply not_number{std::string("12a")};
  BOOST_TEST(!not_number.integer().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(redis_connection)

BOOST_AUTO_TEST_CASE(ten_thousand_pipelined_incrs_answer_in_order) {
  RedisServer server;
  Client client;
  auto c = client.connect_ready(server.url());

  const std::size_t n = 10000;
  std::vector<std::int64_t> results(n, 0);
  std::size_t remaining = n;
  for (std::size_t i = 0; i < n; ++i)
    asio::co_spawn(client.ioc, incr_into(c, &results, i, &remaining), asio::detached);
  while (remaining > 0) client.ioc.run_one();

  std::size_t out_of_order = 0;
  for (std::size_t i = 0; i < n; ++i) out_of_order += results[i] != static_cast<std::int64_t>(i + 1);
  BOOST_TEST(out_of_order == 0u);
  const auto stats = c->stats();
  BOOST_TEST_MESSAGE("10000 INCRs in " << stats.writes << " writes");
  // Many requests share a write, so they were in flight together.
  BOOST_TEST(stats.writes * 10 < stats.commands);

  // The same through one Command: one write, 10000 replies in order.
  Command batch;
  for (std::size_t i = 0; i < n; ++i) batch.push({"INCR", "counter"});
  Response r = run_task(client.ioc, exec(c, batch));
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST_REQUIRE(r.replies.size() == n);
  for (std::size_t i = 0; i < n; ++i)
    if (*r.replies[i].integer() != static_cast<std::int64_t>(n + i + 1))
      BOOST_FAIL("reply " << i << " out of order");
}

BOOST_AUTO_TEST_CASE(error_replies_are_replies_and_the_connection_stays_usable) {
  RedisServer server;
  Client client;
  auto c = client.connect_ready(server.url());

  Response unknown = run_task(client.ioc, exec(c, {"NOSUCHCOMMAND", "x"}));
  BOOST_TEST_REQUIRE(unknown.ok());
  BOOST_TEST(unknown.reply().is_error());
  BOOST_TEST(unknown.reply().error()->find("unknown command") != std::string::npos);

  Command mixed;
  mixed.push({"SET", "s", "text"}).push({"INCR", "s"}).push({"GET", "s"}).push({"GET", "missing"});
  Response r = run_task(client.ioc, exec(c, mixed));
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST_REQUIRE(r.replies.size() == 4u);
  BOOST_TEST(*r.replies[0].text() == "OK");
  BOOST_TEST(r.replies[1].is_error());
  BOOST_TEST(*r.replies[2].text() == "text");
  BOOST_TEST(r.replies[3].is_nil());

  Response wrongtype = run_task(client.ioc, exec(c, {"LPUSH", "s", "x"}));
  BOOST_TEST(wrongtype.reply().error()->rfind("WRONGTYPE", 0) == 0);
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"PING"}))) == "PONG");
  BOOST_TEST(c->stats().connects == 1u);
}

BOOST_AUTO_TEST_CASE(binary_values_round_trip) {
  RedisServer server;
  Client client;
  auto c = client.connect_ready(server.url());
  std::string bytes(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 256);
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"SET", "blob", bytes}))) == "OK");
  Response r = run_task(client.ioc, exec(c, {"GET", "blob"}));
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST((*r.reply().text() == bytes));
}

// A command bigger than the socket's buffer goes out partly from the caller's turn; the
// writer sends the rest before anything made after it, and every answer matches its command.
BOOST_AUTO_TEST_CASE(a_command_larger_than_the_socket_buffer_goes_out_whole_and_in_order) {
  RedisServer server;
  Client client;
  auto c = client.connect_ready(server.url());
  std::string big(24 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i / 4096 % 26);
  std::future<Response> set, get, incr;
  asio::post(client.ioc, [&] {
    set = asio::co_spawn(client.ioc, exec(c, {"SET", "big", big}), asio::use_future);
    asio::post(client.ioc, [&] {  // the next turn: the SET's last bytes are still to go
      get = asio::co_spawn(client.ioc, exec(c, {"STRLEN", "big"}), asio::use_future);
      incr = asio::co_spawn(client.ioc, exec(c, {"INCR", "after"}), asio::use_future);
    });
  });
  auto ready = [](std::future<Response>& f) { return f.valid() && f.wait_for(0s) == std::future_status::ready; };
  while (!ready(set) || !ready(get) || !ready(incr)) client.ioc.run_one();
  BOOST_TEST(text_of(set.get()) == "OK");
  Response length = get.get();
  BOOST_TEST_REQUIRE(length.ok());
  BOOST_TEST(length.reply().integer().value_or(-1) == static_cast<std::int64_t>(big.size()));
  Response counted = incr.get();
  BOOST_TEST_REQUIRE(counted.ok());
  BOOST_TEST(counted.reply().integer().value_or(-1) == 1);
  Response back = run_task(client.ioc, exec(c, {"GET", "big"}));
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST((*back.reply().text() == big));
  BOOST_TEST(c->stats().connects == 1u);
}

BOOST_AUTO_TEST_CASE(auth_with_requirepass) {
  RedisServer server({.appendonly = false, .requirepass = "s3cret"});
  Client client;
  auto without = client.connect("redis://127.0.0.1:" + std::to_string(server.port()));
  auto wrong = client.connect("redis://:nope@127.0.0.1:" + std::to_string(server.port()));
  auto right = client.connect(server.url());
  auto acl_user = client.connect("redis://default:s3cret@127.0.0.1:" + std::to_string(server.port()));

  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(right, 5s)));
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(acl_user, 5s)));
  BOOST_TEST(text_of(run_task(client.ioc, exec(right, {"SET", "k", "v"}))) == "OK");
  BOOST_TEST(text_of(run_task(client.ioc, exec(acl_user, {"GET", "k"}))) == "v");

  BOOST_TEST(!run_task(client.ioc, connected(without, 500ms)));
  BOOST_TEST(!run_task(client.ioc, connected(wrong, 10ms)));
  BOOST_TEST(without->last_error().find("NOAUTH") != std::string::npos, without->last_error());
  BOOST_TEST(wrong->last_error().find("WRONGPASS") != std::string::npos, wrong->last_error());
  Response refused = run_task(client.ioc, exec(wrong, {"GET", "k"}));
  BOOST_TEST((refused.status == Status::unavailable));
  BOOST_TEST(refused.message.find("WRONGPASS") != std::string::npos, refused.message);
}

BOOST_AUTO_TEST_CASE(select_database_from_the_url) {
  RedisServer server;
  Client client;
  auto db3 = client.connect(server.url(3));
  auto db0 = client.connect(server.url());
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(db3, 5s)));
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(db0, 5s)));
  BOOST_TEST(text_of(run_task(client.ioc, exec(db3, {"SET", "where", "three"}))) == "OK");
  BOOST_TEST(run_task(client.ioc, exec(db0, {"GET", "where"})).reply().is_nil());
  BOOST_TEST(server.cli("-n 3 GET where") == "three");
  BOOST_TEST(server.cli("-n 0 EXISTS where") == "0");
}

BOOST_AUTO_TEST_CASE(unix_socket_with_db_and_password) {
  RedisServer server({.appendonly = false, .requirepass = "pw"});
  Client client;
  auto c = client.connect_ready(server.unix_url(2));
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"SET", "via", "unix"}))) == "OK");
  BOOST_TEST(server.cli("-n 2 GET via") == "unix");
  // The server sees a unix-socket client (no TCP peer address).
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"CLIENT", "INFO"}))).find("addr=/") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reconnects_after_the_server_restarts_and_fails_fast_meanwhile) {
  RedisServer server({.appendonly = true});
  Client client;
  auto c = client.connect_ready(server.url());
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"SET", "survives", "yes"}))) == "OK");

  server.stop();
  // The connection notices the close on its own (no request needed).
  const auto noticed_by = std::chrono::steady_clock::now() + 2s;
  while (c->is_connected() && std::chrono::steady_clock::now() < noticed_by)
    run_task(client.ioc, sleep_for(5ms));
  BOOST_TEST_REQUIRE(!c->is_connected());

  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    Response r = run_task(client.ioc, exec(c, {"GET", "survives"}));
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST((r.status == Status::unavailable));
    BOOST_TEST((took < 50ms));
    run_task(client.ioc, sleep_for(100ms));  // the reconnect loop keeps trying meanwhile
  }

  server.start();
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(c, 5s)), c->last_error());
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"GET", "survives"}))) == "yes");
  BOOST_TEST(c->stats().connects == 2u);
}

BOOST_AUTO_TEST_CASE(a_crash_fails_requests_in_flight) {
  RedisServer server;
  Client client;
  auto blocking = client.connect_ready(server.url());
  // A blocking read in flight when the server dies must come back, not hang until its timeout.
  auto waiting = asio::co_spawn(client.ioc, exec(blocking, {"BLPOP", "never", "30"}, 35s), asio::use_future);
  run_task(client.ioc, sleep_for(100ms));
  const auto t0 = std::chrono::steady_clock::now();
  server.kill();
  while (waiting.wait_for(0s) != std::future_status::ready) client.ioc.run_one();
  Response r = waiting.get();
  BOOST_TEST((r.status == Status::unavailable));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
}

BOOST_AUTO_TEST_CASE(nobody_listening_means_unavailable_at_once) {
  Client client;
  auto c = client.connect("redis://127.0.0.1:" + std::to_string(nox::test::free_loopback_port()));
  BOOST_TEST(!run_task(client.ioc, connected(c, 300ms)));
  const auto t0 = std::chrono::steady_clock::now();
  Response r = run_task(client.ioc, exec(c, {"PING"}));
  BOOST_TEST((r.status == Status::unavailable));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 50ms));
  BOOST_TEST(c->last_error().find("refused") != std::string::npos, c->last_error());
}

BOOST_AUTO_TEST_CASE(a_command_timeout_remakes_the_connection) {
  RedisServer server;
  Client client;
  auto c = client.connect_ready(server.url(), 200ms);
  const auto t0 = std::chrono::steady_clock::now();
  Response slow = run_task(client.ioc, exec(c, {"BLPOP", "never", "5"}));
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST((slow.status == Status::timeout));
  BOOST_TEST((took >= 200ms));
  BOOST_TEST((took < 1s));
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(c, 5s)));
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"PING"}))) == "PONG");
  BOOST_TEST(c->stats().connects == 2u);
  // A per-call timeout longer than the block time lets a blocking read finish normally.
  Response waited = run_task(client.ioc, exec(c, {"BLPOP", "never", "0.3"}, 2s));
  BOOST_TEST_REQUIRE(waited.ok());
  BOOST_TEST(waited.reply().is_nil());
}

BOOST_AUTO_TEST_CASE(a_blocking_read_on_its_own_connection_gets_pushed_work) {
  RedisServer server;
  Client client;
  auto commands = client.connect(server.url());
  auto blocking = client.connect(server.url());
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(commands, 5s)));
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(blocking, 5s)));
  asio::co_spawn(client.ioc, push_later(commands, 100ms), asio::detached);
  const auto t0 = std::chrono::steady_clock::now();
  Response r = run_task(client.ioc, exec(blocking, {"BLPOP", "jobs", "5"}, 6s));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.reply().describe() == "[\"jobs\", \"hello\"]");
  // The command connection was not held up meanwhile.
  BOOST_TEST(text_of(run_task(client.ioc, exec(commands, {"PING"}))) == "PONG");
}

BOOST_AUTO_TEST_CASE(close_fails_new_requests) {
  RedisServer server;
  Client client;
  auto c = client.connect_ready(server.url());
  c->close();
  BOOST_TEST(!c->is_connected());
  Response r = run_task(client.ioc, exec(c, {"PING"}));
  BOOST_TEST((r.status == Status::unavailable));
  BOOST_TEST(!run_task(client.ioc, connected(c, 100ms)));
}

BOOST_AUTO_TEST_SUITE_END()

// The same client against a scripted fake peer: late replies, drops and silence on cue,
// without sleeps (the peer holds a "late" reply until the next command reaches it).
BOOST_AUTO_TEST_SUITE(redis_connection_fake_peer)

BOOST_AUTO_TEST_CASE(the_fake_peer_answers_the_handshake_and_scripted_replies) {
  FakeRedis peer;
  peer.expect("GET k", FakeRedis::reply("$5\r\nhello\r\n", 50ms));
  Client client;
  auto c = client.connect_ready(peer.url(), 2000ms);
  Response r = run_task(client.ioc, exec(c, {"GET", "k"}));
  BOOST_TEST(text_of(r) == "hello");
  BOOST_TEST(r.written);
  BOOST_TEST(peer.script_done());
  BOOST_TEST(peer.errors().empty());
  BOOST_TEST(peer.scripted().at(0).bytes == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

// While the loop is busy (handling a batch of answers, say), the first command made in that
// turn is already at Redis, which runs it meanwhile; the turn's later commands go out
// together in one write when the turn is over.
BOOST_AUTO_TEST_CASE(the_first_command_of_a_busy_turn_reaches_the_peer_before_the_turn_ends) {
  FakeRedis peer;
  peer.expect("GET first", FakeRedis::reply("$1\r\nA\r\n"));
  peer.expect("GET second", FakeRedis::reply("$1\r\nB\r\n"));
  peer.expect("GET third", FakeRedis::reply("$1\r\nC\r\n"));
  Client client;
  auto c = client.connect_ready(peer.url(), 2000ms);
  bool first_seen_during_the_turn = false;
  std::uint64_t writes_in_the_turn = 0;
  std::future<Response> first, second, third;
  asio::post(client.ioc, [&] {
    const auto writes_before = c->stats().writes;
    first = asio::co_spawn(client.ioc, exec(c, {"GET", "first"}), asio::use_future);
    // Still in this turn: the peer has the command, though the loop has not run since.
    first_seen_during_the_turn = peer.wait_scripted(1, 2s);
    second = asio::co_spawn(client.ioc, exec(c, {"GET", "second"}), asio::use_future);
    third = asio::co_spawn(client.ioc, exec(c, {"GET", "third"}), asio::use_future);
    writes_in_the_turn = c->stats().writes - writes_before;
  });
  auto ready = [](std::future<Response>& f) { return f.valid() && f.wait_for(0s) == std::future_status::ready; };
  while (!ready(first) || !ready(second) || !ready(third)) client.ioc.run_one();
  BOOST_TEST(first_seen_during_the_turn);
  BOOST_TEST(writes_in_the_turn == 1u);  // only the first; the others wait for the writer
  BOOST_TEST(text_of(first.get()) == "A");
  BOOST_TEST(text_of(second.get()) == "B");
  BOOST_TEST(text_of(third.get()) == "C");
  BOOST_TEST(peer.errors().empty());
}

BOOST_AUTO_TEST_CASE(a_reply_after_the_timeout_is_not_taken_for_the_next_answer) {
  FakeRedis peer;
  // "A" is written only once "GET b" has reached the peer: after the client gave up on "GET a".
  peer.expect("GET a", FakeRedis::reply_late("$1\r\nA\r\n"));
  peer.expect("GET b", FakeRedis::reply("$1\r\nB\r\n"));
  Client client;
  auto c = client.connect_ready(peer.url(), 200ms);
  Response late = run_task(client.ioc, exec(c, {"GET", "a"}));
  BOOST_TEST((late.status == Status::timeout));
  BOOST_TEST(late.written);  // Redis may have run it: only an idempotent caller may resend
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(c, 5s)), c->last_error());
  Response next = run_task(client.ioc, exec(c, {"GET", "b"}));
  BOOST_TEST(text_of(next) == "B");
  // The timeout re-made the connection, so "A" went to the old one and "B" came on the new.
  const auto seen = peer.scripted();
  BOOST_TEST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].connection == 1);
  BOOST_TEST(seen[1].connection == 2);
  BOOST_TEST(c->stats().connects == 2u);
  BOOST_TEST(peer.errors().empty());
}

BOOST_AUTO_TEST_CASE(a_dropped_connection_fails_requests_in_flight_and_reconnects) {
  FakeRedis peer;
  peer.expect("GET a", FakeRedis::drop());
  peer.expect("GET c", FakeRedis::reply("$1\r\nC\r\n"));
  Client client;
  auto c = client.connect_ready(peer.url(), 5000ms);
  // Two requests in one write: the peer drops the connection on the first.
  Command both;
  both.push({"GET", "a"}).push({"GET", "b"});
  const auto t0 = std::chrono::steady_clock::now();
  auto first = asio::co_spawn(client.ioc, exec(c, both), asio::use_future);
  auto pipelined = asio::co_spawn(client.ioc, exec(c, {"GET", "z"}), asio::use_future);
  while (first.wait_for(0s) != std::future_status::ready || pipelined.wait_for(0s) != std::future_status::ready)
    client.ioc.run_one();
  Response dropped = first.get();
  BOOST_TEST((dropped.status == Status::unavailable));
  BOOST_TEST(dropped.written);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));  // not its 5 s timeout
  Response other = pipelined.get();
  BOOST_TEST((other.status == Status::unavailable), nox::redis::to_string(other.status));
  // Reconnected on its own; a request made while not connected was never written.
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(c, 5s)), c->last_error());
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"GET", "c"}))) == "C");
  BOOST_TEST(c->stats().connects == 2u);
  BOOST_TEST(peer.connections() == 2);
}

BOOST_AUTO_TEST_CASE(a_silent_peer_times_out_and_the_connection_is_remade) {
  FakeRedis peer;
  peer.expect("GET a", FakeRedis::silence());
  peer.expect("GET b", FakeRedis::reply("$1\r\nB\r\n"));
  Client client;
  auto c = client.connect_ready(peer.url(), 150ms);
  const auto t0 = std::chrono::steady_clock::now();
  Response r = run_task(client.ioc, exec(c, {"GET", "a"}));
  BOOST_TEST((r.status == Status::timeout));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 150ms));
  BOOST_TEST(!c->is_connected());
  Response refused = run_task(client.ioc, exec(c, {"GET", "b"}));
  BOOST_TEST((refused.status == Status::unavailable));
  BOOST_TEST(!refused.written);  // failed at once, never sent: nothing happened
  BOOST_TEST_REQUIRE(run_task(client.ioc, connected(c, 5s)), c->last_error());
  BOOST_TEST(text_of(run_task(client.ioc, exec(c, {"GET", "b"}))) == "B");
  BOOST_TEST(peer.errors().empty());
}

BOOST_AUTO_TEST_SUITE_END()
