#include "reinforcer/core/column_store.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Reads of a block of rows go through this many values of a column at a time.
constexpr std::size_t kReadValues = std::size_t{1} << 16;
}  // namespace

ColumnStore::ColumnStore(std::size_t rows, std::size_t columns, const std::string& directory)
    : rows_(rows), columns_(columns), written_(columns, 0), directory_(directory) {
  if (directory.empty()) {
    memory_.assign(rows * columns, kNaN);
    return;
  }
#ifdef O_TMPFILE
  fd_ = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);  // never has a name
#endif
  if (fd_ < 0) {  // no O_TMPFILE, or a file system without it: a name for a moment
    std::string name = directory + "/.reinforcer-scratch-XXXXXX";
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0)
      throw PathError("cannot create a scratch file in " + directory + " (" + std::strerror(errno) +
                      "); make the directory writable or choose another");
    ::unlink(name.c_str());  // the open descriptor keeps it; nothing is left when it closes
  }
  // All of it up front, rather than a full disk when most of the work is done.
  struct statvfs fs {};
  const double need = static_cast<double>(rows) * static_cast<double>(columns) * sizeof(double);
  if (::fstatvfs(fd_, &fs) == 0 && static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize) < need) {
    const double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
    ::close(fd_);
    fd_ = -1;
    char sizes[96];
    std::snprintf(sizes, sizeof sizes, "%.2f GB, and %.2f GB are free there", need / 1e9, free_bytes / 1e9);
    throw PathError("the scratch file in " + directory + " may take " + sizes +
                    "; free space, or choose a scratch directory on a larger disk");
  }
}

ColumnStore::~ColumnStore() {
  if (fd_ >= 0) ::close(fd_);
}
ColumnStore::ColumnStore(ColumnStore&& other) noexcept { *this = std::move(other); }
ColumnStore& ColumnStore::operator=(ColumnStore&& other) noexcept {
  if (this == &other) return *this;
  if (fd_ >= 0) ::close(fd_);
  rows_ = std::exchange(other.rows_, 0);
  columns_ = std::exchange(other.columns_, 0);
  memory_ = std::move(other.memory_);
  written_ = std::move(other.written_);
  fd_ = std::exchange(other.fd_, -1);
  directory_ = std::move(other.directory_);
  return *this;
}

// pwrite or pread until done: either may move fewer bytes than asked, or be interrupted.
void ColumnStore::transfer(bool write, std::size_t offset, char* data, std::size_t bytes) const {
  while (bytes > 0) {
    const ssize_t n = write ? ::pwrite(fd_, data, bytes, static_cast<off_t>(offset))
                            : ::pread(fd_, data, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : write ? "nothing written" : "it is shorter than written";
      throw PathError(write ? "cannot write the scratch file in " + directory_ + " (" + why + "); free space there"
                            : "cannot read back the scratch file in " + directory_ + " (" + why + ")");
    }
    data += n, offset += static_cast<std::size_t>(n), bytes -= static_cast<std::size_t>(n);
  }
}

void ColumnStore::put_column(std::size_t c, const double* values) const {
  if (c >= columns_) throw std::logic_error("ColumnStore: column beyond the store");
  if (fd_ < 0)
    std::memcpy(memory_.data() + c * rows_, values, rows_ * sizeof(double));
  else
    transfer(true, c * rows_ * sizeof(double), reinterpret_cast<char*>(const_cast<double*>(values)), rows_ * sizeof(double));
  written_[c] = 1;  // its own byte: threads putting other columns do not touch it
}

void ColumnStore::get_column(std::size_t c, double* values) const {
  get_rows(0, rows_, c, 1, values);
}

void ColumnStore::get_rows(std::size_t first, std::size_t count, std::size_t c0, std::size_t n, double* out) const {
  if (first + count > rows_ || c0 + n > columns_) throw std::logic_error("ColumnStore: rows or columns beyond the store");
  std::vector<double> piece;
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t c = c0 + j;
    if (!written_[c]) {  // never put: NaN, as a refit that did not run
      for (std::size_t i = 0; i < count; ++i) out[i * n + j] = kNaN;
      continue;
    }
    for (std::size_t at = 0; at < count; at += kReadValues) {
      const std::size_t m = std::min(kReadValues, count - at);
      const double* from = nullptr;
      if (fd_ < 0) {
        from = memory_.data() + c * rows_ + first + at;
      } else {
        piece.resize(m);
        transfer(false, (c * rows_ + first + at) * sizeof(double), reinterpret_cast<char*>(piece.data()), m * sizeof(double));
        from = piece.data();
      }
      for (std::size_t i = 0; i < m; ++i) out[(at + i) * n + j] = from[i];
    }
  }
}

}  // namespace reinforcer
