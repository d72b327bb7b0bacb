#pragma once
// Where a results file came from: enough to reproduce it.
#include <string>

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

struct Provenance {
  std::string command_line;
  std::string config_text;  // the effective options, one "key = value" per line
  std::string input_path;
  std::string input_sha256;
  std::string started_at;   // ISO 8601 UTC
};

std::string utc_now_iso8601();

// Writes the provenance and format attributes on the file's root; finished_at = now.
void write_provenance(const h5::Group& root, const std::string& format, std::int64_t format_version,
                      const Provenance& p);

// Refuses (InputError, exit 3) a file of another format or version, naming both.
void require_format(const h5::Group& root, const std::string& path, const std::string& format,
                    std::int64_t format_version);

}  // namespace reinforcer
