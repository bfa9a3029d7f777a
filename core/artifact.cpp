#include "core/artifact.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace nox {
namespace {

constexpr std::string_view kText = "text/plain; charset=utf-8";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string media_type_for(std::string_view file_name) {
  const std::string name = lower(file_name);
  const std::size_t dot = name.rfind('.');
  // A leading dot marks a hidden file (".xtboptok"), not an extension.
  if (dot == std::string::npos || dot == 0) {
    // xtb's extension-less outputs that are text. "xtbrestart" is binary and falls through.
    static constexpr std::array<std::string_view, 10> kTextNames = {
        "charges", "wbo",      "xtbout",  "stdout",      "stderr",
        "energy",  "gradient", "hessian", "vibspectrum", "coord"};
    if (std::find(kTextNames.begin(), kTextNames.end(), name) != kTextNames.end()) return std::string(kText);
    return "application/octet-stream";
  }
  const std::string_view ext = std::string_view(name).substr(dot + 1);
  if (ext == "xyz") return "chemical/x-xyz";
  if (ext == "json") return "application/json";
  // MOPAC's input, summary and auxiliary files are text too.
  if (ext == "log" || ext == "out" || ext == "txt" || ext == "mop" || ext == "arc" || ext == "aux") {
    return std::string(kText);
  }
  if (ext == "molden" || ext == "input") return "chemical/x-molden";
  if (ext == "cub" || ext == "cube") return "chemical/x-cube";
  if (ext == "mol" || ext == "sdf") return "chemical/x-mdl-molfile";
  return "application/octet-stream";
}

bool is_valid_artifact_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

}  // namespace nox
