#pragma once
// INI files: a section per command (or [grid] for a sweep), "key = value" lines, '#' or ';' comments.
// Every option of a command can be set here; the command line wins.
#include <string>
#include <vector>

namespace reinforcer {

struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;
};

struct ConfigSection {
  std::string name;
  int line = 0;
  std::vector<ConfigEntry> entries;
};

// Every section of INI text in order; `name` (a path, or what the text is) starts every
// error: UsageError naming it and the line if a line is malformed or outside a section.
std::vector<ConfigSection> parse_config_text(const std::string& text, const std::string& name);

// A config file's whole text; PathError if it cannot be read.
std::string read_config_text(const std::string& path);

// Every section in file order; throws PathError if unreadable, UsageError (naming file and
// line) if a line is malformed or outside a section, or a section or a key within one repeats.
std::vector<ConfigSection> read_config_file(const std::string& path);

// The entries of [section]; throws PathError if unreadable, UsageError (naming file and
// line) if a line is malformed.
std::vector<ConfigEntry> read_config_section(const std::string& path, const std::string& section);

}  // namespace reinforcer
