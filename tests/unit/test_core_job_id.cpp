// Job ids: UUIDv4 without dashes.
#include <boost/test/unit_test.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/job_id.hpp"
#include "core/random.hpp"

BOOST_AUTO_TEST_SUITE(core_job_id)

BOOST_AUTO_TEST_CASE(new_ids_are_32_lowercase_hex_uuid4) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = nox::new_job_id();
    BOOST_TEST_REQUIRE(id.size() == 32u);
    BOOST_TEST(nox::is_valid_job_id(id));
    BOOST_TEST(id[12] == '4');                                                       // version nibble
    BOOST_TEST((id[16] == '8' || id[16] == '9' || id[16] == 'a' || id[16] == 'b'));  // variant 10xx
  }
}

// A batch's jobs take ids made from the batch's id; a job alone never looks like one of them.
BOOST_AUTO_TEST_CASE(a_batchs_jobs_take_ids_made_from_the_batchs) {
  const std::string batch = nox::new_batch_id(10000);
  BOOST_TEST(nox::is_valid_job_id(batch));
  BOOST_TEST(batch[12] == '4');
  BOOST_TEST((nox::batch_size_of(batch) == std::optional<std::size_t>(10000)));
  std::set<std::string> ids;
  for (std::size_t i = 0; i < 10000; ++i) {
    const std::string id = nox::batch_job_id(batch, i);
    BOOST_TEST_REQUIRE(nox::is_valid_job_id(id));
    BOOST_TEST_REQUIRE(id.substr(0, 24) == batch.substr(0, 24));
    BOOST_TEST_REQUIRE((id[16] == '8' || id[16] == '9' || id[16] == 'a' || id[16] == 'b'));
    BOOST_TEST_REQUIRE((nox::batch_of_job_id(id) == std::optional<std::string>(batch)));
    BOOST_TEST_REQUIRE(!nox::batch_size_of(id));  // a job's id is no batch's
    ids.insert(id);
  }
  BOOST_TEST(ids.size() == 10000u);
  BOOST_TEST(!ids.count(batch));
  for (int i = 0; i < 2000; ++i) {
    BOOST_TEST_REQUIRE(!nox::batch_of_job_id(nox::new_job_id()));
    BOOST_TEST_REQUIRE(!nox::batch_of_job_id(nox::job_id_for("seed " + std::to_string(i))));
  }
  // Made from a seed: the same again (an Idempotency-Key's retry), another for another size.
  BOOST_TEST(nox::batch_id_for("key", 5) == nox::batch_id_for("key", 5));
  BOOST_TEST(nox::batch_id_for("key", 5) != nox::batch_id_for("key", 6));
  BOOST_TEST(nox::batch_id_for("key", 5).substr(0, 24) == nox::job_id_for("key").substr(0, 24));
  // Two batches share no job id.
  const std::string other = nox::new_batch_id(10000);
  BOOST_TEST(nox::batch_job_id(other, 0) != nox::batch_job_id(batch, 0));
  // Not made from a batch: a position past the size, a size of 0, text that is no id.
  BOOST_TEST(!nox::batch_of_job_id(batch.substr(0, 24) + "8000c005"));  // size 3, position 5
  BOOST_TEST(!nox::batch_of_job_id(batch.substr(0, 24) + "80000000"));
  BOOST_TEST(!nox::batch_of_job_id("not an id"));
  BOOST_TEST(!nox::batch_size_of(batch.substr(0, 24) + "00000000"));
  BOOST_TEST(!nox::batch_size_of(batch.substr(0, 24) + "00002711"));  // 10,001
}

BOOST_AUTO_TEST_CASE(new_ids_are_unique_across_threads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 5000; ++i) out.push_back(nox::new_job_id());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : per_thread) all.insert(v.begin(), v.end());
  BOOST_TEST(all.size() == 20000u);
}

// Scratch directories, upload keys and request ids used a Mersenne Twister seeded once per
// thread (its state is given away by its output); now the kernel's CSPRNG, as job ids.
BOOST_AUTO_TEST_CASE(random_hex_names_are_16_hex_digits_and_differ) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string name = nox::secure_random_hex();
    BOOST_TEST(name.size() == 16u);
    BOOST_TEST(name.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(name);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(validation) {
  BOOST_TEST(nox::is_valid_job_id("0123456789abcdef0123456789abcdef"));
  BOOST_TEST(nox::is_valid_job_id("00000000000000000000000000000000"));
  BOOST_TEST(!nox::is_valid_job_id(""));
  BOOST_TEST(!nox::is_valid_job_id("0123456789abcdef0123456789abcde"));    // 31
  BOOST_TEST(!nox::is_valid_job_id("0123456789abcdef0123456789abcdef0"));  // 33
  BOOST_TEST(!nox::is_valid_job_id("0123456789ABCDEF0123456789abcdef"));   // upper case
  BOOST_TEST(!nox::is_valid_job_id("0123456789abcdeg0123456789abcdef"));   // 'g'
  BOOST_TEST(!nox::is_valid_job_id("01234567-89ab-4def-8123-456789abcdef"));
  BOOST_TEST(!nox::is_valid_job_id("../../../../etc/passwd0000000000"));
  BOOST_TEST(
      !nox::is_valid_job_id(std::string_view("0123456789abcdef\0"
                                             "123456789abcdef",
                                             32)));
}

BOOST_AUTO_TEST_SUITE_END()
