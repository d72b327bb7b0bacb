#include "reinforcer/data/raw_table.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

void require_readable_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw PathError(path + ": cannot open input: " + std::strerror(errno) + " (check the path)");
  if (S_ISDIR(st.st_mode))
    throw PathError(path + ": is a directory, not an input file (name an .xlsx or .csv file)");
  if (::access(path.c_str(), R_OK) != 0)
    throw PathError(path + ": cannot read input: " + std::strerror(errno));
}

std::unique_ptr<RawTableReader> open_raw_table(const std::string& path) {
  require_readable_file(path);
  std::string ext;
  if (auto dot = path.find_last_of('.'); dot != std::string::npos) ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "xlsx" || ext == "xlsm") return open_xlsx(path);
  if (ext == "csv" || ext == "txt") return open_csv(path);
  throw InputError(path + ": unknown input format '." + ext + "' (give an .xlsx or .csv file)");
}

}  // namespace reinforcer
