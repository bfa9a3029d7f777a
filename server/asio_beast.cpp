// The one translation unit that compiles Asio and Beast (separate compilation), with Asio's
// OpenSSL layer for the TLS listener.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
