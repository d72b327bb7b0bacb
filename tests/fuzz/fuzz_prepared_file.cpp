// The HDF5 results reader on a damaged prepared file (prepare -o): the format checks, the
// compound customer table, the string tables. An InputError naming the file is a fine answer.
#include "fuzz_file.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/results/prepared_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = fuzz::write_input(data, size, ".h5");
  try {
    reinforcer::read_prepared_customers(path);
  } catch (const reinforcer::Error&) {
  }
  return 0;
}
