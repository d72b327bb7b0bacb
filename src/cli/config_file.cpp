#include "reinforcer/cli/config_file.hpp"

#include <fstream>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace

std::vector<ConfigEntry> read_config_section(const std::string& path, const std::string& section) {
  require_readable_file(path);
  std::ifstream in(path);
  if (!in) throw PathError(path + ": cannot read the config file");
  std::vector<ConfigEntry> out;
  std::string line, current;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') throw UsageError(path + " line " + std::to_string(n) + ": a section header needs ']'");
      current = trim(t.substr(1, t.size() - 2));
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos)
      throw UsageError(path + " line " + std::to_string(n) + ": expected 'key = value', found '" + t + "'");
    if (current.empty())
      throw UsageError(path + " line " + std::to_string(n) + ": '" + t + "' is outside any [command] section");
    if (current == section) out.push_back(ConfigEntry{trim(t.substr(0, eq)), trim(t.substr(eq + 1)), n});
  }
  return out;
}

}  // namespace reinforcer
