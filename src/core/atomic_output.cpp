#include "reinforcer/core/atomic_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
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

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

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

namespace {
// Data on disk before the name points at it: a crash right after the rename must not leave
// an empty or partial file under the final name.
void sync_to_disk(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw PathError(what + ": cannot open to flush it to disk: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Directories on some file systems do not support fsync (EINVAL): the rename is then as durable as it gets.
  if (rc != 0 && err != EINVAL) throw PathError(what + ": cannot flush it to disk: " + std::strerror(err));
}
}  // namespace

void AtomicOutput::commit() {
  sync_to_disk(temp_, final_);
  if (std::rename(temp_.c_str(), final_.c_str()) != 0)
    throw PathError(final_ + ": cannot move the finished file into place: " + std::strerror(errno));
  committed_ = true;
  sync_to_disk(directory_of(final_), final_);
}

}  // namespace reinforcer
