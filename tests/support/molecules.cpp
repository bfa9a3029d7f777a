#include "tests/support/molecules.hpp"

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nox::test {

std::string read_fixture(const std::string& relative_path) {
  std::ifstream in(std::string(NOX_FIXTURES_DIR) + "/" + relative_path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + relative_path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string molecule_xyz(const std::string& name) { return read_fixture("molecules/" + name + ".xyz"); }

std::string job_spec_json(const std::string& engine, const std::string& task, const std::string& xyz,
                          const std::string& extra) {
  std::string spec = "{\"engine\":\"" + engine + "\",\"task\":\"" + task + "\",\"molecule\":{\"xyz\":" +
                     boost::json::serialize(boost::json::value(xyz)) + "}";
  if (!extra.empty()) spec += "," + extra;
  return spec + "}";
}

}  // namespace nox::test
