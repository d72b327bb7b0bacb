// The CSV reader and the whole ingest behind it (cells, dates, IDs, countries, splits) on
// arbitrary bytes: a user error (reinforcer::Error) is a fine answer; a crash, a sanitizer
// report or any other exception is a finding.
#include "fuzz_file.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/ingest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = fuzz::write_input(data, size, ".csv");
  try {
    static const reinforcer::IngestOptions options;  // the shipped aliases, parsed once
    reinforcer::ingest_crm(path, options);
  } catch (const reinforcer::Error&) {
  }
  return 0;
}
