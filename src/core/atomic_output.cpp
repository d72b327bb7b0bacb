#include "reinforcer/core/atomic_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {
std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

void require_writable_destination(const std::string& path) {
  if (path.empty()) throw UsageError("-o/--output: an output path is required");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw PathError(path + ": is a directory; name the output file (e.g. " + path + "/out.h5)");
  const std::string dir = directory_of(path);
  if (::stat(dir.c_str(), &st) != 0)
    throw PathError(path + ": output directory '" + dir + "' does not exist; create it first");
  if (!S_ISDIR(st.st_mode)) throw PathError(path + ": '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK) != 0)
    throw PathError(path + ": output directory '" + dir + "' is not writable: " + std::strerror(errno));
}

AtomicOutput::AtomicOutput(std::string final_path) : final_(std::move(final_path)) {
  require_writable_destination(final_);
  const auto slash = final_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : final_.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? final_ : final_.substr(slash + 1);
  // Keep the extension last: writers that pick the format by it still see it.
  temp_ = dir + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" + base;
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicOutput::commit() {
  if (std::rename(temp_.c_str(), final_.c_str()) != 0)
    throw PathError(final_ + ": cannot move the finished file into place: " + std::strerror(errno));
  committed_ = true;
}

}  // namespace reinforcer
