// The memory store's index set: the same answers as std::set under the index's patterns
// (appends, erases from the front, scattered erases, inserts before everything) and at random.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <vector>

#include "storage/block_set.hpp"

using nox::BlockSet;

namespace {

using Set = BlockSet<std::uint64_t>;

std::vector<std::uint64_t> forward(const Set& set) { return {set.begin(), set.end()}; }

std::vector<std::uint64_t> backward(const Set& set) {
  return {std::make_reverse_iterator(set.end()), std::make_reverse_iterator(set.begin())};
}

void check_same(const Set& set, const std::set<std::uint64_t>& model) {
  BOOST_TEST_REQUIRE(set.size() == model.size());
  BOOST_TEST(set.empty() == model.empty());
  const std::vector<std::uint64_t> expected(model.begin(), model.end());
  BOOST_TEST(forward(set) == expected, boost::test_tools::per_element());
  const std::vector<std::uint64_t> reversed(model.rbegin(), model.rend());
  BOOST_TEST(backward(set) == reversed, boost::test_tools::per_element());
}

// What MemoryStore::list_jobs does: newest first from below a cursor, `limit` of them.
std::vector<std::uint64_t> page_below(const Set& set, std::uint64_t before, std::size_t limit) {
  std::vector<std::uint64_t> page;
  for (auto it = std::make_reverse_iterator(set.lower_bound(before)); it != std::make_reverse_iterator(set.begin());
       ++it) {
    if (page.size() == limit) break;
    page.push_back(*it);
  }
  return page;
}

std::vector<std::uint64_t> page_below(const std::set<std::uint64_t>& model, std::uint64_t before, std::size_t limit) {
  std::vector<std::uint64_t> page;
  for (auto it = std::make_reverse_iterator(model.lower_bound(before)); it != model.rend() && page.size() < limit; ++it)
    page.push_back(*it);
  return page;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(block_set)

BOOST_AUTO_TEST_CASE(appends_then_erases_from_the_front_like_creation_and_retention) {
  Set set;
  std::set<std::uint64_t> model;
  for (std::uint64_t order = 1; order <= 1000; ++order) {
    BOOST_TEST(set.insert(order));
    model.insert(order);
  }
  BOOST_TEST(!set.insert(500));  // already there
  check_same(set, model);
  for (std::uint64_t order = 1; order <= 700; ++order) {
    BOOST_TEST(set.erase(order));
    model.erase(order);
  }
  BOOST_TEST(!set.erase(3));  // gone already
  check_same(set, model);
  BOOST_TEST(*set.begin() == 701u);
  BOOST_TEST(!set.contains(700));
  BOOST_TEST(set.contains(701));
  BOOST_TEST(set.contains(1000));
  BOOST_TEST(!set.contains(1001));
}

BOOST_AUTO_TEST_CASE(pages_walk_newest_first_below_a_cursor) {
  Set set;
  std::set<std::uint64_t> model;
  for (std::uint64_t order = 10; order <= 5000; order += 3) {
    set.insert(order);
    model.insert(order);
  }
  for (std::uint64_t before : {0ull, 1ull, 10ull, 11ull, 130ull, 385ull, 386ull, 2500ull, 4999ull, 5000ull, 99999ull}) {
    BOOST_TEST(page_below(set, before, 50) == page_below(model, before, 50), boost::test_tools::per_element());
  }
  BOOST_TEST((set.lower_bound(99999) == set.end()));
  BOOST_TEST((set.find(11) == set.end()));
  BOOST_TEST(*set.find(13) == 13u);
}

BOOST_AUTO_TEST_CASE(inserts_before_everything_and_into_full_blocks) {
  Set set;
  std::set<std::uint64_t> model;
  // Descending: every insert lands before all the others.
  for (std::uint64_t value = 3000; value >= 1000; value -= 2) {
    set.insert(value);
    model.insert(value);
  }
  check_same(set, model);
  // Odd values between them: inserts into the middle of full blocks, which split.
  for (std::uint64_t value = 1001; value < 3000; value += 2) {
    set.insert(value);
    model.insert(value);
  }
  check_same(set, model);
}

BOOST_AUTO_TEST_CASE(agrees_with_std_set_under_random_inserts_and_erases) {
  std::mt19937_64 random(7);
  Set set;
  std::set<std::uint64_t> model;
  for (int round = 0; round < 20000; ++round) {
    const std::uint64_t value = random() % 4000;
    const bool inserting = random() % 3 != 0;
    if (inserting) {
      BOOST_TEST_REQUIRE(set.insert(value) == model.insert(value).second);
    } else {
      BOOST_TEST_REQUIRE(set.erase(value) == (model.erase(value) == 1));
    }
    if (round % 1000 == 0) check_same(set, model);
    BOOST_TEST_REQUIRE(set.contains(value) == model.contains(value));
  }
  check_same(set, model);
  while (!model.empty()) {  // emptied in random order: scattered erases merge small blocks
    auto it = model.begin();
    std::advance(it, static_cast<long>(random() % model.size()));
    BOOST_TEST_REQUIRE(set.erase(*it));
    model.erase(it);
  }
  check_same(set, model);
}

BOOST_AUTO_TEST_CASE(orders_by_the_comparator_alone) {
  // The order -> id index compares orders only: an element is found by its order.
  struct OrderedId {
    std::uint64_t order;
    const char* id;
  };
  struct ByOrder {
    bool operator()(const OrderedId& a, const OrderedId& b) const { return a.order < b.order; }
  };
  BlockSet<OrderedId, ByOrder> index;
  const char* names[] = {"a", "b", "c"};
  for (std::uint64_t order = 0; order < 300; ++order) index.insert({order, names[order % 3]});
  BOOST_TEST(index.find({200, nullptr})->id == names[2]);
  BOOST_TEST(!index.insert({200, names[0]}));
  BOOST_TEST(index.erase({200, nullptr}));
  BOOST_TEST(!index.contains({200, nullptr}));
  BOOST_TEST(index.size() == 299u);
}

BOOST_AUTO_TEST_SUITE_END()
