#include "core/thread_name.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace nox {

void name_calling_thread(const char* name) {
  // pthread_setname_np fails (ERANGE) beyond 15 characters instead of cutting the name.
  const std::string kept(name, std::min<std::size_t>(std::strlen(name), 15));
  ::pthread_setname_np(::pthread_self(), kept.c_str());
}

}  // namespace nox
