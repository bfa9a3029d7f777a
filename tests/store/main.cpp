#define BOOST_TEST_MODULE nox_store_tests
#include <boost/test/unit_test.hpp>
