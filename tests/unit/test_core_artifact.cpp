// Artifact names and the media types they are served with.
#include <boost/test/unit_test.hpp>
#include <string>

#include "core/artifact.hpp"

BOOST_AUTO_TEST_SUITE(core_artifact)

BOOST_AUTO_TEST_CASE(media_types_by_extension) {
  BOOST_TEST(nox::media_type_for("xtbopt.xyz") == "chemical/x-xyz");
  BOOST_TEST(nox::media_type_for("result.json") == "application/json");
  BOOST_TEST(nox::media_type_for("xtbopt.log") == "text/plain; charset=utf-8");
  BOOST_TEST(nox::media_type_for("mol.aux") == "text/plain; charset=utf-8");
  BOOST_TEST(nox::media_type_for("mol.arc") == "text/plain; charset=utf-8");
  BOOST_TEST(nox::media_type_for("g98.out") == "text/plain; charset=utf-8");
  BOOST_TEST(nox::media_type_for("notes.txt") == "text/plain; charset=utf-8");
  BOOST_TEST(nox::media_type_for("molden.input") == "chemical/x-molden");
  BOOST_TEST(nox::media_type_for("orbitals.molden") == "chemical/x-molden");
  BOOST_TEST(nox::media_type_for("density.cub") == "chemical/x-cube");
  BOOST_TEST(nox::media_type_for("spin.cube") == "chemical/x-cube");
  BOOST_TEST(nox::media_type_for("xtbtopo.mol") == "chemical/x-mdl-molfile");
  BOOST_TEST(nox::media_type_for("xtbopt.sdf") == "chemical/x-mdl-molfile");
  BOOST_TEST(nox::media_type_for("archive.tar.gz") == "application/octet-stream");
  BOOST_TEST(nox::media_type_for("data.bin") == "application/octet-stream");
}

BOOST_AUTO_TEST_CASE(extension_case_does_not_matter) {
  BOOST_TEST(nox::media_type_for("OPT.XYZ") == "chemical/x-xyz");
  BOOST_TEST(nox::media_type_for("a.Json") == "application/json");
  BOOST_TEST(nox::media_type_for("Density.CUBE") == "chemical/x-cube");
}

BOOST_AUTO_TEST_CASE(xtb_names_without_extension) {
  for (const char* n : {"charges", "wbo", "xtbout", "stdout", "stderr", "hessian", "vibspectrum", "energy",
                        "gradient", "coord"}) {
    BOOST_TEST_CONTEXT(n) { BOOST_TEST(nox::media_type_for(n) == "text/plain; charset=utf-8"); }
  }
  BOOST_TEST(nox::media_type_for("xtbrestart") == "application/octet-stream");  // binary
  BOOST_TEST(nox::media_type_for("somethingelse") == "application/octet-stream");
  BOOST_TEST(nox::media_type_for(".xtboptok") == "application/octet-stream");  // hidden, not ".xtboptok" ext
  BOOST_TEST(nox::media_type_for("") == "application/octet-stream");
}

BOOST_AUTO_TEST_CASE(valid_names) {
  BOOST_TEST(nox::is_valid_artifact_name("xtbopt.xyz"));
  BOOST_TEST(nox::is_valid_artifact_name("a"));
  BOOST_TEST(nox::is_valid_artifact_name("charges"));
  BOOST_TEST(nox::is_valid_artifact_name(".xtboptok"));
  BOOST_TEST(nox::is_valid_artifact_name("a..b"));
  BOOST_TEST(nox::is_valid_artifact_name("A-Z_0.9"));
  BOOST_TEST(nox::is_valid_artifact_name(std::string(255, 'x')));
}

BOOST_AUTO_TEST_CASE(invalid_names) {
  BOOST_TEST(!nox::is_valid_artifact_name(""));
  BOOST_TEST(!nox::is_valid_artifact_name("."));
  BOOST_TEST(!nox::is_valid_artifact_name(".."));
  BOOST_TEST(!nox::is_valid_artifact_name(std::string(256, 'x')));
  BOOST_TEST(!nox::is_valid_artifact_name("../etc/passwd"));
  BOOST_TEST(!nox::is_valid_artifact_name("dir/file"));
  BOOST_TEST(!nox::is_valid_artifact_name("dir\\file"));
  BOOST_TEST(!nox::is_valid_artifact_name("with space"));
  BOOST_TEST(!nox::is_valid_artifact_name("tab\there"));
  BOOST_TEST(!nox::is_valid_artifact_name(std::string_view("nul\0x", 5)));
  BOOST_TEST(!nox::is_valid_artifact_name("caf\xc3\xa9"));
  BOOST_TEST(!nox::is_valid_artifact_name("a:b"));
  BOOST_TEST(!nox::is_valid_artifact_name("%2e%2e"));
}

BOOST_AUTO_TEST_SUITE_END()
