#pragma once
// Unpredictable bytes from the kernel's CSPRNG (getrandom): job ids and API keys are
// capabilities, so they must not be guessable from others the way a Mersenne Twister's
// output is (624 outputs give away its state).
#include <cstdint>
#include <string>

namespace nox {

std::uint64_t secure_random_word();
// `count` random bytes as URL-safe base64 without padding (43 characters for 32 bytes).
std::string secure_random_base64url(std::size_t count);
// One random word as 16 lowercase hex digits: request ids, scratch and upload names.
std::string secure_random_hex();

}  // namespace nox
