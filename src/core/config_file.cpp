#include "reinforcer/core/config_file.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
// A line without its trailing comment: '#' or ';' after whitespace, outside double quotes.
std::string without_comment(const std::string& line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    if (!quoted && (line[i] == '#' || line[i] == ';') && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
      return line.substr(0, i);
  }
  return line;
}
// The byte offset of the first byte that does not belong to valid UTF-8, or npos.
std::size_t first_invalid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
    i += len;
  }
  return std::string::npos;
}

// A value with an unclosed double quote would be read with the quote in it, and the comment
// rule (a '#' inside quotes is text) would have swallowed the rest of the line: say so.
const std::string& quotes_closed(const std::string& value, const std::string& where) {
  if (std::count(value.begin(), value.end(), '"') % 2 == 1)
    throw UsageError(where + "a double quote is not closed in '" + value + "'; close it or remove it");
  return value;
}
}  // namespace

std::vector<ConfigSection> parse_config_text(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::vector<ConfigSection> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::size_t bad = first_invalid_utf8(line);
    if (bad != std::string::npos) {
      static const char* hex = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(line[bad]);
      throw UsageError(name + " line " + std::to_string(n) + ": byte 0x" + hex[byte >> 4] + hex[byte & 15] + " at column " +
                       std::to_string(bad + 1) + " is not UTF-8 text; save the file as UTF-8");
    }
    const std::string t = trim(without_comment(line));
    if (t.empty()) continue;
    if (t.front() == '[') {
      if (t.back() != ']') throw UsageError(name + " line " + std::to_string(n) + ": a section header needs ']'");
      const std::string section = trim(t.substr(1, t.size() - 2));
      // A repeated section or key would silently keep one of the values: say so instead.
      for (const ConfigSection& s : out)
        if (s.name == section)
          throw UsageError(name + " line " + std::to_string(n) + ": section [" + section + "] repeats line " +
                           std::to_string(s.line) + "; merge them into one");
      out.push_back(ConfigSection{section, n, {}});
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos)
      throw UsageError(name + " line " + std::to_string(n) + ": expected 'key = value', found '" + t + "'");
    if (out.empty())
      throw UsageError(name + " line " + std::to_string(n) + ": '" + t + "' is outside any [section]");
    const std::string key = trim(t.substr(0, eq));
    for (const ConfigEntry& e : out.back().entries)
      if (e.key == key)
        throw UsageError(name + " line " + std::to_string(n) + ": " + key + " is given twice in [" + out.back().name +
                         "] (first at line " + std::to_string(e.line) + "); keep one");
    out.back().entries.push_back(ConfigEntry{key, quotes_closed(trim(t.substr(eq + 1)), name + " line " + std::to_string(n) + ": "), n});
  }
  return out;
}

std::string read_config_text(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw PathError(path + ": no such file; check the path");
  if (S_ISDIR(st.st_mode)) throw PathError(path + ": is a directory, not a file");
  std::ifstream in(path);
  if (!in) throw PathError(path + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<ConfigSection> read_config_file(const std::string& path) {
  return parse_config_text(read_config_text(path), path);
}

std::vector<ConfigEntry> read_config_section(const std::string& path, const std::string& section) {
  std::vector<ConfigEntry> out;
  for (const ConfigSection& s : read_config_file(path))
    if (s.name == section) out.insert(out.end(), s.entries.begin(), s.entries.end());
  return out;
}

}  // namespace reinforcer
