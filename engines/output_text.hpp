#pragma once
// Reading what engine programs print: lines, tokens, Fortran numbers, file contents, and the
// pieces of an error message every engine's interpreter builds the same way.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nox::output_text {

// Without leading and trailing blanks, tabs, CR and LF.
std::string_view trim(std::string_view s);
std::vector<std::string_view> lines_of(std::string_view text);
std::vector<std::string_view> tokens_of(std::string_view line);
// Also reads Fortran exponents ("1.0D-03") and a leading '+'; nullopt unless the whole token is
// one finite number.
std::optional<double> to_double(std::string_view token);
std::optional<int> to_int(std::string_view token);
std::optional<std::string> read_text(const std::filesystem::path& path);
// The last `count` lines of `text`, without trailing blank lines; each ends with '\n'.
std::string last_lines(std::string_view text, std::size_t count);
// The first `count` non-blank lines of `text`.
std::string first_lines(std::string_view text, std::size_t count);
// "SIGSEGV, segmentation fault" and the like.
std::string signal_name(int sig);
// Up to 10 significant digits, as a chemist reads a number in a message.
std::string format_double(double v);

}  // namespace nox::output_text
