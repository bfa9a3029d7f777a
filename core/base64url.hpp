#pragma once
// URL-safe base64 without padding (RFC 4648 §5): API keys are written in it, JWTs and JWKs
// arrive in it.
#include <optional>
#include <string>
#include <string_view>

namespace nox {

std::string base64url_encode(std::string_view bytes);
// Also takes the standard alphabet ('+', '/') and stops at padding; nullopt on other characters.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace nox
