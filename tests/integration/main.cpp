#define BOOST_TEST_MODULE nox_integration_tests
#include <boost/test/unit_test.hpp>
