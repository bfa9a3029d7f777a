#pragma once
// `noxd keys add NAME --scopes compute:read,compute:write [--rate 20/s] [--submit-rate 5/s]
//  [--max-streams N]`, `noxd keys list`, `noxd keys revoke NAME`: the keys
// file an administrator keeps (core/api_keys.hpp). The file is the one --keys-file (or
// NOX_KEYS_FILE, or the config file) names; a running noxd reads it again on SIGHUP.
#include <iosfwd>
#include <string>
#include <vector>

namespace nox {

// `args` are what follows "keys"; options it does not know (--keys-file, --config, ...) are
// settings, handed back in `settings_args` before anything runs. Returns the exit status.
struct KeysCommand {
  std::vector<std::string> args;           // the command's own words and options
  std::vector<std::string> settings_args;  // the rest, for load_settings
};
KeysCommand split_keys_command(const std::vector<std::string>& after_keys);
int run_keys_command(const std::vector<std::string>& args, const std::string& keys_file, std::ostream& out,
                     std::ostream& err);

}  // namespace nox
