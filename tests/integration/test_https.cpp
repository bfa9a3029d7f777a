// HTTPS on the listener (issue 8): noxd serves TLS with a certificate and key given in its
// settings, swaps them on SIGHUP for new connections, refuses plain HTTP on that port, and
// stops with one clear line when the files are unusable. Driven with curl and certificates
// made by the openssl program for each test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct Certificate {
  fs::path cert;
  fs::path key;
};

// A self-signed P-256 certificate for 127.0.0.1 and localhost, in `dir`.
Certificate make_certificate(const fs::path& dir, const std::string& common_name) {
  fs::create_directories(dir);
  Certificate made{dir / "cert.pem", dir / "key.pem"};
  const CommandResult openssl = run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" +
      common_name + " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + made.key.string() + " -out " +
      made.cert.string() + " 2>&1");
  BOOST_REQUIRE_MESSAGE(openssl.status == 0, "openssl req failed: " << openssl.out);
  return made;
}

void copy_over(const Certificate& from, const Certificate& to) {
  fs::copy_file(from.cert, to.cert, fs::copy_options::overwrite_existing);
  fs::copy_file(from.key, to.key, fs::copy_options::overwrite_existing);
}

// curl's exit status (0 ok, 60 certificate not trusted, 35 TLS handshake failed, ...) and
// what it printed: the body, then "\n<status code>".
CommandResult curl(const std::string& args) {
  return run_command("curl -sS --max-time 20 -w '\\n%{http_code}' " + args + " 2>&1");
}

std::string https_url(std::uint16_t port, const std::string& path) {
  return "https://127.0.0.1:" + std::to_string(port) + path;
}

bool trusted_with(const Certificate& ca, std::uint16_t port) {
  return curl("--cacert " + ca.cert.string() + " " + https_url(port, "/health")).status == 0;
}

std::vector<std::string> tls_flags(const Certificate& served) {
  return {"--tls-cert-file", served.cert.string(), "--tls-key-file", served.key.string()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(https)

BOOST_AUTO_TEST_CASE(https_serves_the_api_and_event_streams) {
  TempDir dir;
  const Certificate served = make_certificate(dir.path() / "served", "nox-test");
  NoxdProcess noxd(tls_flags(served));
  const std::string ca = "--cacert " + served.cert.string() + " ";

  const CommandResult health = curl(ca + https_url(noxd.port(), "/health"));
  BOOST_TEST(health.status == 0, health.out);
  BOOST_TEST(health.out.ends_with("\n200"), health.out);

  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  std::ofstream(dir.path() / "spec.json") << spec;
  const CommandResult submitted = curl(ca + "-H 'Content-Type: application/json' --data @" +
                                       (dir.path() / "spec.json").string() + " " + https_url(noxd.port(), "/jobs"));
  BOOST_TEST_REQUIRE(submitted.out.ends_with("\n202"), submitted.out);
  const auto id = std::string(json::parse(submitted.out.substr(0, submitted.out.rfind('\n'))).at("job_id").as_string());

  // The job's event stream over TLS ends by itself after the final event: curl exits 0 only
  // if the chunked body ended properly (its last chunk, then close_notify).
  const CommandResult stream = curl(ca + "-N " + https_url(noxd.port(), "/jobs/" + id + "/events"));
  BOOST_TEST(stream.status == 0, stream.out);
  BOOST_TEST(stream.out.find("event: completed") != std::string::npos, stream.out);

  // Plain HTTP on the TLS port gets no answer (the handshake fails and the connection closes).
  const CommandResult plain = curl("http://127.0.0.1:" + std::to_string(noxd.port()) + "/health");
  BOOST_TEST(plain.status != 0, plain.out);
  // And the server still serves TLS afterwards.
  BOOST_TEST(trusted_with(served, noxd.port()));
}

BOOST_AUTO_TEST_CASE(sighup_swaps_the_certificate_for_new_connections) {
  TempDir dir;
  const Certificate first = make_certificate(dir.path() / "first", "first");
  const Certificate second = make_certificate(dir.path() / "second", "second");
  const Certificate served{dir.path() / "cert.pem", dir.path() / "key.pem"};
  copy_over(first, served);
  NoxdProcess noxd(tls_flags(served));
  BOOST_TEST(trusted_with(first, noxd.port()));
  BOOST_TEST(!trusted_with(second, noxd.port()));

  copy_over(second, served);
  BOOST_REQUIRE(::kill(noxd.pid(), SIGHUP) == 0);
  // The reload runs on noxd's loop: wait for its log line.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (noxd.log().find("TLS certificate") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST(trusted_with(second, noxd.port()));
  BOOST_TEST(!trusted_with(first, noxd.port()));

  // A broken certificate on reload: the one in use stays, and the log says why.
  std::ofstream(served.cert) << "not a certificate\n";
  BOOST_REQUIRE(::kill(noxd.pid(), SIGHUP) == 0);
  const auto again = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (noxd.log().find("certificate loaded before stays in use") == std::string::npos &&
         std::chrono::steady_clock::now() < again)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST(noxd.log().find("certificate loaded before stays in use") != std::string::npos, noxd.log());
  BOOST_TEST(trusted_with(second, noxd.port()));
}

// A client that connects and never starts the handshake is closed at the header timeout,
// counted from accept, as on plain HTTP.
BOOST_AUTO_TEST_CASE(a_silent_connection_is_closed_at_the_header_timeout) {
  TempDir dir;
  const Certificate served = make_certificate(dir.path() / "served", "nox-test");
  std::vector<std::string> flags = tls_flags(served);
  flags.insert(flags.end(), {"--header-timeout-s", "1"});
  NoxdProcess noxd(flags);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(noxd.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval patience{15, 0};  // far beyond the 1 s timeout: only a hang would reach it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  const auto began = std::chrono::steady_clock::now();
  char byte = 0;
  const auto n = ::read(fd, &byte, 1);
  const auto waited = std::chrono::steady_clock::now() - began;
  ::close(fd);
  BOOST_TEST(n == 0);  // closed by noxd, not timed out here
  BOOST_TEST(waited < std::chrono::seconds(10));
}

BOOST_AUTO_TEST_CASE(unusable_tls_files_stop_noxd_with_one_clear_line) {
  TempDir dir;
  const Certificate first = make_certificate(dir.path() / "first", "first");
  const Certificate second = make_certificate(dir.path() / "second", "second");
  const std::string noxd = noxd_path() + " --listen 127.0.0.1:0 --data-dir " + (dir.path() / "data").string();

  const CommandResult half = run_command(noxd + " --tls-cert-file " + first.cert.string() + " 2>&1");
  BOOST_TEST(half.status == 2);
  BOOST_TEST(half.out.find("needs both tls_cert_file and tls_key_file") != std::string::npos, half.out);

  const CommandResult mismatched = run_command(noxd + " --tls-cert-file " + first.cert.string() +
                                               " --tls-key-file " + second.key.string() + " 2>&1");
  BOOST_TEST(mismatched.status == 2);
  BOOST_TEST(mismatched.out.find("TLS key " + second.key.string()) != std::string::npos, mismatched.out);

  const CommandResult missing = run_command(noxd + " --check-config --tls-cert-file " +
                                            (dir.path() / "nothing.pem").string() + " --tls-key-file " +
                                            first.key.string() + " 2>&1");
  BOOST_TEST(missing.status == 2);
  BOOST_TEST(missing.out.find("TLS certificate") != std::string::npos, missing.out);
}

BOOST_AUTO_TEST_SUITE_END()
