#include "reinforcer/results/provenance.hpp"

#include <ctime>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_provenance(const h5::Group& root, const std::string& format, std::int64_t format_version,
                      const Provenance& p) {
  root.set_attribute("format", format);
  root.set_attribute("format_version", format_version);
  root.set_attribute("reinforcer_version", std::string(REINFORCER_VERSION));
  root.set_attribute("command_line", p.command_line);
  root.set_attribute("config", p.config_text);
  root.set_attribute("input_path", p.input_path);
  root.set_attribute("input_sha256", p.input_sha256);
  root.set_attribute("started_at", p.started_at);
  root.set_attribute("finished_at", utc_now_iso8601());
}

void require_format(const h5::Group& root, const std::string& path, const std::string& format,
                    std::int64_t format_version) {
  const std::string found = root.has_attribute("format") ? root.string_attribute("format") : "";
  if (found != format)
    throw InputError(path + ": is not a " + format + " file (its format attribute is '" +
                     (found.empty() ? "missing" : found) + "')");
  const std::int64_t v = root.int_attribute("format_version");
  if (v != format_version)
    throw InputError(path + ": " + format + " format version " + std::to_string(v) + ", this tool reads version " +
                     std::to_string(format_version) + "; re-run the command that made it");
}

}  // namespace reinforcer
