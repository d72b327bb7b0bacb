// The INI reader (sections, keys, comments, quotes, repeats): a UsageError naming the line
// is a fine answer; anything else is a finding.
#include "fuzz_file.hpp"
#include "reinforcer/core/config_file.hpp"
#include "reinforcer/core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = fuzz::write_input(data, size, ".ini");
  try {
    reinforcer::read_config_file(path);
  } catch (const reinforcer::Error&) {
  }
  return 0;
}
