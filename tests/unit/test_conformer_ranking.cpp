// Conformer ranking (core/conformer_ranking.hpp): RMSD after proper superposition, duplicates,
// the energy window and Boltzmann weights.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <stdexcept>

#include "core/conformer_ranking.hpp"

namespace {

constexpr double kPi = 3.14159265358979323846;

// Butanol's heavy atoms C-C-C-C-O as a zig-zag chain whose C1-C2-C3-C4 dihedral is `torsion_deg`,
// with the hydroxyl H on O and one H on C1 so there is a hydrogen to move.
nox::Molecule chain(double torsion_deg, double oh_turn_deg = 0) {
  // Internal coordinates -> Cartesian (natural extension reference frame).
  auto place = [](const nox::Atom& a, const nox::Atom& b, const nox::Atom& c, double bond, double angle_deg,
                  double torsion, const char* symbol) {
    const double ab[3] = {b.x - a.x, b.y - a.y, b.z - a.z}, bc0[3] = {c.x - b.x, c.y - b.y, c.z - b.z};
    const double len = std::sqrt(bc0[0] * bc0[0] + bc0[1] * bc0[1] + bc0[2] * bc0[2]);
    const double bc[3] = {bc0[0] / len, bc0[1] / len, bc0[2] / len};
    double n[3] = {ab[1] * bc[2] - ab[2] * bc[1], ab[2] * bc[0] - ab[0] * bc[2],
                   ab[0] * bc[1] - ab[1] * bc[0]};
    const double nl = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    for (double& v : n) v /= nl;
    const double m[3] = {n[1] * bc[2] - n[2] * bc[1], n[2] * bc[0] - n[0] * bc[2],
                         n[0] * bc[1] - n[1] * bc[0]};
    const double th = angle_deg * kPi / 180, ph = torsion * kPi / 180;
    const double d[3] = {-bond * std::cos(th), bond * std::sin(th) * std::cos(ph),
                         bond * std::sin(th) * std::sin(ph)};
    nox::Atom out{symbol, 0, 0, 0};
    out.x = c.x + d[0] * bc[0] + d[1] * m[0] + d[2] * n[0];
    out.y = c.y + d[0] * bc[1] + d[1] * m[1] + d[2] * n[1];
    out.z = c.z + d[0] * bc[2] + d[1] * m[2] + d[2] * n[2];
    return out;
  };
  nox::Molecule m;
  m.atoms.push_back({"C", 0, 0, 0});
  m.atoms.push_back({"C", 1.53, 0, 0});
  m.atoms.push_back({"C", 2.04, 1.44, 0});
  m.atoms.push_back(place(m.atoms[0], m.atoms[1], m.atoms[2], 1.53, 111, torsion_deg, "C"));
  m.atoms.push_back(place(m.atoms[1], m.atoms[2], m.atoms[3], 1.43, 109, 180, "O"));
  m.atoms.push_back(place(m.atoms[2], m.atoms[3], m.atoms[4], 0.96, 108, 60 + oh_turn_deg, "H"));
  m.atoms.push_back(place(m.atoms[2], m.atoms[1], m.atoms[0], 1.09, 110, 180, "H"));
  return m;
}

// `m` turned about an arbitrary axis and moved.
nox::Molecule moved(nox::Molecule m) {
  const double a = 0.7, b = -1.9, c = 2.4;  // Z-Y-X Euler angles, radians
  const double r[3][3] = {
      {std::cos(a) * std::cos(b), std::cos(a) * std::sin(b) * std::sin(c) - std::sin(a) * std::cos(c),
       std::cos(a) * std::sin(b) * std::cos(c) + std::sin(a) * std::sin(c)},
      {std::sin(a) * std::cos(b), std::sin(a) * std::sin(b) * std::sin(c) + std::cos(a) * std::cos(c),
       std::sin(a) * std::sin(b) * std::cos(c) - std::cos(a) * std::sin(c)},
      {-std::sin(b), std::cos(b) * std::sin(c), std::cos(b) * std::cos(c)}};
  for (nox::Atom& atom : m.atoms) {
    const double p[3] = {atom.x, atom.y, atom.z};
    atom.x = r[0][0] * p[0] + r[0][1] * p[1] + r[0][2] * p[2] + 5.5;
    atom.y = r[1][0] * p[0] + r[1][1] * p[1] + r[1][2] * p[2] - 3.25;
    atom.z = r[2][0] * p[0] + r[2][1] * p[1] + r[2][2] * p[2] + 12;
  }
  return m;
}

double eh(double kcal) { return kcal / nox::kKcalPerHartree; }

}  // namespace

BOOST_AUTO_TEST_SUITE(conformer_ranking)

BOOST_AUTO_TEST_CASE(a_moved_copy_superposes_exactly) {
  const nox::Molecule anti = chain(180);
  BOOST_TEST(nox::kabsch_rmsd(anti, moved(anti), false) < 1e-9);
  BOOST_TEST(nox::kabsch_rmsd(moved(anti), anti, true) < 1e-9);
  BOOST_TEST(nox::kabsch_rmsd(anti, anti, false) < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_torsion_change_is_seen) {
  const double anti_gauche = nox::kabsch_rmsd(chain(180), moved(chain(60)), true);
  BOOST_TEST(anti_gauche > 0.3);
  BOOST_TEST(anti_gauche < 2.0);
  // Symmetric in its arguments.
  BOOST_TEST(std::abs(anti_gauche - nox::kabsch_rmsd(moved(chain(60)), chain(180), true)) < 1e-9);
}

// gauche+ and gauche- are mirror images of each other (the chain has no other asymmetry):
// superposable only with a reflection, which a conformer comparison must not allow.
BOOST_AUTO_TEST_CASE(a_mirror_image_is_not_superposable) {
  nox::Molecule mirrored = chain(60);
  for (nox::Atom& atom : mirrored.atoms) atom.z = -atom.z;
  BOOST_TEST(nox::kabsch_rmsd(mirrored, moved(chain(-60)), true) < 1e-9);  // gauche- (the OH turned too)
  BOOST_TEST(nox::kabsch_rmsd(chain(60), mirrored, false) > 0.2);
  BOOST_TEST(nox::kabsch_rmsd(chain(60), moved(mirrored), true) > 0.2);

  // A stereocentre: CHFClBr and its enantiomer.
  nox::Molecule r;
  r.atoms = {{"C", 0, 0, 0},
             {"H", 0.63, 0.63, 0.63},
             {"F", -0.78, -0.78, 0.78},
             {"Cl", -1.02, 1.02, -1.02},
             {"Br", 1.12, -1.12, -1.12}};
  nox::Molecule s = r;
  for (nox::Atom& atom : s.atoms) atom.x = -atom.x;
  BOOST_TEST(nox::kabsch_rmsd(r, moved(s), false) > 0.3);
}

BOOST_AUTO_TEST_CASE(heavy_atoms_only_ignores_the_hydrogens) {
  const nox::Molecule a = chain(180), b = moved(chain(180, 120));  // only the OH hydrogen turned
  BOOST_TEST(nox::kabsch_rmsd(a, b, true) < 1e-9);
  BOOST_TEST(nox::kabsch_rmsd(a, b, false) > 0.2);
}

BOOST_AUTO_TEST_CASE(different_molecules_are_refused) {
  nox::Molecule shorter = chain(180);
  shorter.atoms.pop_back();
  BOOST_CHECK_THROW(nox::kabsch_rmsd(chain(180), shorter, false), std::invalid_argument);
  nox::Molecule other = chain(180);
  other.atoms[4].symbol = "N";
  BOOST_CHECK_THROW(nox::kabsch_rmsd(chain(180), other, true), std::invalid_argument);
  BOOST_CHECK_THROW(nox::rank_conformers({{"a", chain(180), -10}, {"b", other, -10.1}}, {}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(boltzmann_weights_at_room_temperature) {
  const auto ranking = nox::rank_conformers({{"high", chain(60), -20 + eh(1)}, {"low", chain(180), -20}}, {});
  BOOST_TEST_REQUIRE(ranking.conformers.size() == 2u);
  BOOST_TEST(ranking.dropped.empty());
  const auto& low = ranking.conformers[0];
  const auto& high = ranking.conformers[1];
  BOOST_TEST(low.label == "low");
  BOOST_TEST(low.rank == 1);
  BOOST_TEST(high.rank == 2);
  BOOST_TEST(low.relative_kcal == 0.0);
  BOOST_TEST(high.relative_kcal == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(high.weight / low.weight == 0.18495, boost::test_tools::tolerance(2e-4));  // exp(-1/RT)
  BOOST_TEST(low.weight + high.weight == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(low.weight == 1 / (1 + std::exp(-1 / (nox::kGasConstantKcal * 298.15))),
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(high.molecule.atoms.size() == 7u);

  // Energies of any size: only differences enter the exponentials.
  const auto far = nox::rank_conformers({{"a", chain(180), -5000}, {"b", chain(60), -5000 + eh(0.5)}}, {});
  BOOST_TEST(far.conformers[0].weight + far.conformers[1].weight == 1.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(duplicates_are_removed_but_rotamers_with_other_energies_stay) {
  const auto ranking = nox::rank_conformers({{"anti-again", moved(chain(180)), -20 + eh(0.01)},
                                             {"gauche", chain(60), -20 + eh(0.8)},
                                             {"anti", chain(180), -20},
                                             {"anti-oh-turned", chain(180, 120), -20 + eh(0.4)},
                                             {"gauche-again", moved(chain(61)), -20 + eh(0.82)}},
                                            {});
  BOOST_TEST_REQUIRE(ranking.conformers.size() == 3u);
  BOOST_TEST(ranking.conformers[0].label == "anti");
  BOOST_TEST(ranking.conformers[1].label == "anti-oh-turned");  // same heavy atoms, 0.4 kcal/mol higher
  BOOST_TEST(ranking.conformers[2].label == "gauche");
  BOOST_TEST(ranking.conformers[2].rank == 3);
  BOOST_TEST_REQUIRE(ranking.dropped.size() == 2u);
  BOOST_TEST(ranking.dropped[0].label == "anti-again");
  BOOST_TEST(ranking.dropped[0].reason == "duplicate");
  BOOST_TEST(ranking.dropped[0].duplicate_of == "anti");
  BOOST_TEST(ranking.dropped[0].rmsd_a < 1e-9);
  BOOST_TEST(ranking.dropped[1].label == "gauche-again");
  BOOST_TEST(ranking.dropped[1].duplicate_of == "gauche");
  BOOST_TEST(ranking.dropped[1].rmsd_a > 0.0);
  BOOST_TEST(ranking.dropped[1].rmsd_a < 0.125);
  BOOST_TEST(ranking.dropped[1].relative_kcal == 0.82, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(conformers_above_the_window_are_dropped) {
  nox::RankingOptions options;
  const auto ranking = nox::rank_conformers(
      {{"a", chain(180), -20}, {"b", chain(60), -20 + eh(5.9)}, {"c", chain(-60), -20 + eh(7)}}, options);
  BOOST_TEST_REQUIRE(ranking.conformers.size() == 2u);
  BOOST_TEST_REQUIRE(ranking.dropped.size() == 1u);
  BOOST_TEST(ranking.dropped[0].label == "c");
  BOOST_TEST(ranking.dropped[0].reason == "above_window");
  BOOST_TEST(ranking.dropped[0].duplicate_of.empty());
  BOOST_TEST(ranking.dropped[0].relative_kcal == 7.0, boost::test_tools::tolerance(1e-9));
  options.energy_window_kcal = 2;
  BOOST_TEST(nox::rank_conformers({{"a", chain(180), -20}, {"b", chain(60), -20 + eh(5.9)}}, options)
                 .conformers.size() == 1u);
  BOOST_TEST(nox::rank_conformers({}, options).conformers.empty());
}

BOOST_AUTO_TEST_CASE(options_are_checked) {
  BOOST_TEST(nox::check(nox::RankingOptions{}).empty());
  BOOST_TEST(nox::check(nox::RankingOptions{0, 0, 0, 1}).empty());
  const auto errors = nox::check(nox::RankingOptions{-1, NAN, -0.1, 0});
  BOOST_TEST_REQUIRE(errors.size() == 4u);
  BOOST_TEST(errors[0].field == "energy_window_kcal");
  BOOST_TEST(errors[1].field == "rmsd_threshold_a");
  BOOST_TEST(errors[2].field == "energy_threshold_kcal");
  BOOST_TEST(errors[3].field == "temperature_k");
  BOOST_TEST(nox::check(nox::RankingOptions{6, 0.125, 0.05, -300}).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
