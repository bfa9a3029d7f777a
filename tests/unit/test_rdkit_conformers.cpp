// Starting conformers from RDKit's helper process (engines/rdkit_embedding.hpp): skipped where
// python3-rdkit is not installed.
#include <boost/test/unit_test.hpp>

#include "core/conformer_ranking.hpp"
#include "engines/rdkit_embedding.hpp"

namespace {

using namespace std::chrono_literals;

struct rdkit_installed {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result available(nox::rdkit_available());
    available.message() << "python3-rdkit is not installed";
    return available;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(rdkit_conformers)

BOOST_AUTO_TEST_CASE(butanol_gives_distinct_conformers, *boost::unit_test::precondition(rdkit_installed{})) {
  const nox::ConformerSet set = nox::generate_conformers_with_rdkit("CCCCO", 10, 60s);
  BOOST_TEST_REQUIRE(set.ok, set.problem);
  BOOST_TEST(set.conformers.size() >= 3u);
  BOOST_TEST(set.conformers.size() <= 10u);
  BOOST_TEST(set.force_field == "MMFF94");
  BOOST_TEST_REQUIRE(set.force_field_energies_kcal.size() == set.conformers.size());
  for (std::size_t i = 0; i < set.conformers.size(); ++i) {
    BOOST_TEST_CONTEXT("conformer " << i) {
      BOOST_TEST(set.conformers[i].atoms.size() == 15u);
      BOOST_TEST(set.conformers[i].formula() == "C4H10O");
      if (i > 0) BOOST_TEST(set.force_field_energies_kcal[i] >= set.force_field_energies_kcal[i - 1]);
      for (std::size_t j = 0; j < i; ++j) {
        BOOST_TEST(nox::kabsch_rmsd(set.conformers[i], set.conformers[j], true) > 0.1,
                   "with conformer " << j);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_count_caps_the_set_and_the_seed_fixes_it,
                     *boost::unit_test::precondition(rdkit_installed{})) {
  const nox::ConformerSet two = nox::generate_conformers_with_rdkit("CCCCO", 2, 60s);
  BOOST_TEST_REQUIRE(two.ok, two.problem);
  BOOST_TEST_REQUIRE(two.conformers.size() == 2u);
  const nox::ConformerSet again = nox::generate_conformers_with_rdkit("CCCCO", 2, 60s);
  BOOST_TEST_REQUIRE(again.conformers.size() == 2u);
  BOOST_TEST(again.conformers[0].to_xyz() == two.conformers[0].to_xyz());
  // A rigid molecule has one conformer however many are asked for.
  const nox::ConformerSet benzene = nox::generate_conformers_with_rdkit("c1ccccc1", 5, 60s);
  BOOST_TEST_REQUIRE(benzene.ok, benzene.problem);
  BOOST_TEST(benzene.conformers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(refusals_say_why, *boost::unit_test::precondition(rdkit_installed{})) {
  const nox::ConformerSet bad = nox::generate_conformers_with_rdkit("C1CC", 3, 60s);  // unclosed ring
  BOOST_TEST(!bad.ok);
  BOOST_TEST(bad.problem == "RDKit cannot read the SMILES");
  BOOST_TEST(bad.conformers.empty());
  // Single-atom ions all land on the origin, which RDKit does not call a failure.
  const nox::ConformerSet salt = nox::generate_conformers_with_rdkit("[Na+].[Cl-]", 3, 60s);
  BOOST_TEST(!salt.ok);
  BOOST_TEST(
      salt.problem.starts_with("RDKit's conformer is unusable: line 4: atoms on lines 3 and 4 (Na, Cl)"));
  const nox::ConformerSet none = nox::generate_conformers_with_rdkit("CCO", 0, 60s);
  BOOST_TEST(!none.ok);
  BOOST_TEST(none.problem == "the number of conformers must be at least 1");
}

BOOST_AUTO_TEST_SUITE_END()
