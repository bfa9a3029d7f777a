#define BOOST_TEST_MODULE nox_unit_tests
#include <boost/test/unit_test.hpp>
