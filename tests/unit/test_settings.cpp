#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "core/settings.hpp"

using namespace nox;

namespace {

std::optional<std::string> fake_file(const std::string& path) {
  if (path == "nox.conf") return std::string("# comment\nslots = 3\nlisten = \"0.0.0.0:9000\"\nlease_s = 12 # trailing\n");
  if (path == "bad.conf") return std::string("slots = three\n");
  if (path == "unknown.conf") return std::string("colour = blue\n");
  if (path == "hash.conf") return std::string("redis_url = \"redis://:pa#ss@db:6379/0\"  # the lab's Redis\n");
  return std::nullopt;
}

Settings load(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  SettingsSources sources{std::move(args), std::move(env), fake_file};
  auto result = load_settings(sources);
  if (auto* error = std::get_if<std::string>(&result)) BOOST_FAIL(*error);
  return std::get<SettingsRequest>(result).settings;
}

std::string load_error(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  SettingsSources sources{std::move(args), std::move(env), fake_file};
  auto result = load_settings(sources);
  BOOST_REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(settings)

BOOST_AUTO_TEST_CASE(defaults_match_the_design) {
  Settings s = load({});
  BOOST_TEST(s.listen == "127.0.0.1:8080");
  BOOST_TEST(s.redis_url.empty());
  BOOST_TEST(s.data_dir == "./nox-data");
  BOOST_TEST(s.max_body_bytes == 1048576u);
  BOOST_TEST(s.lease_s == 30.0);
  BOOST_TEST(s.retention_s == 7 * 24 * 3600.0);
}

BOOST_AUTO_TEST_CASE(flags_beat_environment_beat_file) {
  Settings file_only = load({"--config", "nox.conf"});
  BOOST_TEST(file_only.slots == 3);
  BOOST_TEST(file_only.listen == "0.0.0.0:9000");
  BOOST_TEST(file_only.lease_s == 12.0);
  Settings env = load({"--config", "nox.conf"}, {{"NOX_SLOTS", "5"}});
  BOOST_TEST(env.slots == 5);
  Settings flag = load({"--config=nox.conf", "--slots", "7"}, {{"NOX_SLOTS", "5"}});
  BOOST_TEST(flag.slots == 7);
  Settings via_env = load({}, {{"NOX_CONFIG", "nox.conf"}, {"NOX_REDIS_URL", "redis://h:1/2"}});
  BOOST_TEST(via_env.slots == 3);
  BOOST_TEST(via_env.redis_url == "redis://h:1/2");
}

// Issue 8: the parser cut '#' inside quoted values, so this password made noxd exit 2.
BOOST_AUTO_TEST_CASE(a_hash_inside_a_quoted_value_is_kept) {
  BOOST_TEST(load({"--config", "hash.conf"}).redis_url == "redis://:pa#ss@db:6379/0");
}

BOOST_AUTO_TEST_CASE(switches_need_no_value) {
  BOOST_TEST(load({"--insecure-open"}).insecure_open);
  BOOST_TEST(!load({"--insecure-open=false"}).insecure_open);
  BOOST_TEST(load({}, {{"NOX_INSECURE_OPEN", "yes"}}).insecure_open);
  BOOST_TEST(load({"--insecure-open", "--slots", "2"}).slots == 2);
  BOOST_TEST(load_error({"--insecure-open=maybe"}).find("true or false") != std::string::npos);
}

// --check-config: every setting with its value and where it came from; passwords masked.
BOOST_AUTO_TEST_CASE(the_effective_settings_name_their_sources) {
  SettingsSources sources{{"--config", "hash.conf", "--slots", "7"}, {{"NOX_LEASE_S", "12"}}, fake_file};
  auto loaded = load_settings(sources);
  BOOST_TEST_REQUIRE(std::holds_alternative<SettingsRequest>(loaded));
  const std::string text = effective_settings_text(std::get<SettingsRequest>(loaded));
  BOOST_TEST(text.find("slots = 7    # option --slots\n") != std::string::npos, text);
  BOOST_TEST(text.find("lease_s = 12    # environment NOX_LEASE_S\n") != std::string::npos);
  BOOST_TEST(text.find("redis_url = redis://:***@db:6379/0    # file hash.conf:1\n") != std::string::npos);
  BOOST_TEST(text.find("pa#ss") == std::string::npos);
  BOOST_TEST(text.find("max_jobs = 1000000    # default\n") != std::string::npos);
  BOOST_TEST(text.find(" = ?") == std::string::npos);  // every setting has its value shown
  for (const auto& info : setting_infos()) BOOST_TEST(text.find(info.name + " = ") != std::string::npos, info.name);
  auto check = load_settings(SettingsSources{{"--check-config"}, {}, fake_file});
  BOOST_TEST(std::get<SettingsRequest>(check).check_config);
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_setting_and_source) {
  BOOST_TEST(load_error({"--slots", "-1"}).find("slots (option --slots)") != std::string::npos);
  BOOST_TEST(load_error({}, {{"NOX_LEASE_S", "soon"}}).find("environment NOX_LEASE_S") != std::string::npos);
  BOOST_TEST(load_error({"--config", "bad.conf"}).find("bad.conf:1") != std::string::npos);
  BOOST_TEST(load_error({"--config", "unknown.conf"}).find("unknown setting 'colour'") != std::string::npos);
  BOOST_TEST(load_error({"--config", "missing.conf"}).find("cannot read") != std::string::npos);
  BOOST_TEST(load_error({"--bogus", "1"}).find("unknown option --bogus") != std::string::npos);
  BOOST_TEST(load_error({"--slots"}).find("needs a value") != std::string::npos);
  BOOST_TEST(load_error({"--log-level", "loud"}).find("error, warn, info, debug") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(conf_file_documents_every_setting) {
  std::ifstream in(std::string(NOX_SOURCE_DIR) + "/conf/noxd.conf");
  BOOST_REQUIRE(in);
  std::stringstream conf;
  conf << in.rdbuf();
  for (const auto& info : setting_infos()) {
    BOOST_TEST(conf.str().find("# " + info.name + " = ") != std::string::npos, info.name << " missing in conf");
    BOOST_TEST(settings_help().find(info.flag) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
