#include "engines/mopac/aux_file.hpp"

#include "engines/output_text.hpp"

namespace nox::mopac {
namespace {

using namespace output_text;

// "HEAT_OF_FORMATION:KCAL/MOL=...", "ATOM_X_OPT:ANGSTROMS[09]=", "AREA:SQUARE ANGSTROMS=...": the
// key runs to the first '=', its name (before ':' or '[') is one word. Value lines ("  O  H  H",
// numbers) have no '='.
bool split_key(std::string_view line, AuxEntry& entry, std::string_view& rest) {
  const std::size_t eq = line.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  const std::string_view key = line.substr(0, eq);
  if (key.front() < 'A' || key.front() > 'Z') return false;
  const std::size_t bracket = std::min(key.find('['), key.size());
  const std::size_t colon = key.find(':');
  const std::size_t name_end = std::min(colon, bracket);
  if (key.substr(0, name_end).find(' ') != std::string_view::npos) return false;
  entry.name = std::string(key.substr(0, name_end));
  entry.units = colon < bracket ? std::string(key.substr(colon + 1, bracket - colon - 1)) : std::string();
  rest = line.substr(eq + 1);
  return true;
}

void append_values(std::string_view rest, AuxEntry& entry) {
  rest = trim(rest);
  if (rest.starts_with('"')) {
    const std::size_t close = rest.find('"', 1);
    entry.values.emplace_back(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    return;
  }
  for (std::string_view token : tokens_of(rest)) entry.values.emplace_back(token);
}

}  // namespace

const AuxEntry* AuxSection::last(std::string_view name) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

std::size_t AuxSection::count(std::string_view name) const {
  std::size_t n = 0;
  for (const AuxEntry& e : entries) n += e.name == name ? 1 : 0;
  return n;
}

std::optional<double> AuxSection::number(std::string_view name) const {
  const AuxEntry* e = last(name);
  if (!e || e->values.empty()) return std::nullopt;
  return to_double(e->values.front());
}

std::optional<std::vector<double>> AuxSection::numbers(std::string_view name) const {
  const AuxEntry* e = last(name);
  if (!e) return std::nullopt;
  std::vector<double> out;
  out.reserve(e->values.size());
  for (const std::string& v : e->values) {
    const std::optional<double> d = to_double(v);
    if (!d) return std::nullopt;
    out.push_back(*d);
  }
  return out;
}

std::optional<std::string> AuxSection::text(std::string_view name) const {
  const AuxEntry* e = last(name);
  if (!e) return std::nullopt;
  std::string out;
  for (const std::string& v : e->values) out += (out.empty() ? "" : " ") + v;
  return out;
}

std::vector<AuxSection> parse_aux(std::string_view text) {
  std::vector<AuxSection> sections;
  AuxEntry* current = nullptr;  // the entry whose values may continue on the next lines
  for (std::string_view raw : lines_of(text)) {
    const std::string_view line = trim(raw);
    if (line == "START OF MOPAC FILE") {
      sections.emplace_back();
      current = nullptr;
      continue;
    }
    if (line.empty() || line.starts_with('#') || line.starts_with("END OF MOPAC") ||
        line.starts_with("START OF MOPAC")) {
      current = nullptr;
      continue;
    }
    AuxEntry entry;
    std::string_view rest;
    if (split_key(line, entry, rest)) {
      if (sections.empty()) sections.emplace_back();
      append_values(rest, entry);
      sections.back().entries.push_back(std::move(entry));
      current = &sections.back().entries.back();
    } else if (current) {
      append_values(line, *current);
    }
  }
  return sections;
}

}  // namespace nox::mopac
