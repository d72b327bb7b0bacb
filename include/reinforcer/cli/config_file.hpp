#pragma once
// INI configuration: a section per command, "key = value" lines, '#' or ';' comments.
// Every option of a command can be set here; the command line wins.
#include <string>
#include <vector>

namespace reinforcer {

struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;
};

// The entries of [section]; throws PathError if unreadable, UsageError (naming file and
// line) if a line is malformed.
std::vector<ConfigEntry> read_config_section(const std::string& path, const std::string& section);

}  // namespace reinforcer
