// noxd's threads carry names (top -H, ps -L, perf); a name past the kernel's 15 characters is
// cut, not refused (pthread_setname_np alone would leave the thread unnamed).
#include <boost/test/unit_test.hpp>
#include <pthread.h>

#include <string>
#include <thread>

#include "core/thread_name.hpp"

namespace {

std::string name_given_on_a_thread(const char* name) {
  std::string seen;
  std::thread thread([&] {
    nox::name_calling_thread(name);
    char buffer[64] = {};
    if (::pthread_getname_np(::pthread_self(), buffer, sizeof buffer) == 0) seen = buffer;
  });
  thread.join();
  return seen;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_name)

BOOST_AUTO_TEST_CASE(a_thread_takes_its_name) { BOOST_TEST(name_given_on_a_thread("nox-engine") == "nox-engine"); }

BOOST_AUTO_TEST_CASE(a_long_name_is_cut_to_fifteen_characters) {
  BOOST_TEST(name_given_on_a_thread("nox-a-very-long-thread-name") == "nox-a-very-long");
}

BOOST_AUTO_TEST_SUITE_END()
