#pragma once
// The Lua scripts of storage/redis/scripts/, embedded into the library at build time
// (storage/redis/scripts.cmake generates the definition).
#include <string_view>

namespace nox::redis {

// The source of scripts/<name>.lua, or "" when there is no such script.
std::string_view embedded_script(std::string_view name);

}  // namespace nox::redis
