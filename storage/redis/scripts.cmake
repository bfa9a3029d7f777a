# Included by storage/CMakeLists.txt: embeds the Redis store's Lua scripts into nox_storage
# at build time, so noxd needs no script files at run time. Editing a .lua file rebuilds.
file(GLOB NOX_REDIS_LUA CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/scripts/*.lua")
set(NOX_REDIS_SCRIPTS_CPP "${CMAKE_CURRENT_BINARY_DIR}/redis_scripts.cpp")
add_custom_command(
  OUTPUT "${NOX_REDIS_SCRIPTS_CPP}"
  COMMAND "${CMAKE_COMMAND}" "-DSCRIPTS_DIR=${CMAKE_CURRENT_LIST_DIR}/scripts" "-DOUTPUT=${NOX_REDIS_SCRIPTS_CPP}"
          -P "${CMAKE_CURRENT_LIST_DIR}/embed_scripts.cmake"
  DEPENDS ${NOX_REDIS_LUA} "${CMAKE_CURRENT_LIST_DIR}/embed_scripts.cmake"
  COMMENT "Embedding the Redis Lua scripts"
  VERBATIM)
target_sources(nox_storage PRIVATE "${NOX_REDIS_SCRIPTS_CPP}")
