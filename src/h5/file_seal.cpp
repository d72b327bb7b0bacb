// The seal of files this tool writes (hdf5.hpp): "reinforcer-seal crc32=XXXXXXXX bytes=N\n"
// at the start of the HDF5 user block, over bytes [kSealBytes, end).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer::h5 {
namespace {

constexpr char kMarker[] = "reinforcer-seal ";

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// CRC-32 of [kSealBytes, size); false if a read fails.
bool checksum(int fd, std::uint64_t size, std::uint32_t& crc) {
  std::vector<char> block(std::size_t{1} << 20);
  crc = 0;
  for (std::uint64_t at = kSealBytes; at < size;) {
    const ssize_t got = ::pread(fd, block.data(), std::min<std::uint64_t>(block.size(), size - at), static_cast<off_t>(at));
    if (got <= 0) return false;
    crc = libdeflate_crc32(crc, block.data(), static_cast<std::size_t>(got));
    at += static_cast<std::uint64_t>(got);
  }
  return true;
}

// Files already checked in this process, as (device, inode, size, modification time): a
// command opens some files several times.
using Checked = std::tuple<dev_t, ino_t, off_t, std::int64_t, std::int64_t>;
std::mutex checked_mutex;
std::set<Checked> checked;

Checked key_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec),
          static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

}  // namespace

void seal_file(const std::string& path) {
  const Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) throw PathError(path + ": cannot reopen the file to seal it");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint32_t crc = 0;
  if (size < kSealBytes || !checksum(fd.get(), size, crc)) throw PathError(path + ": cannot read the file back to seal it");
  char head[kSealBytes] = {};
  std::snprintf(head, sizeof head, "%scrc32=%08" PRIx32 " bytes=%" PRIu64 "\n", kMarker, crc, size);
  if (::pwrite(fd.get(), head, sizeof head, 0) != static_cast<ssize_t>(sizeof head))
    throw PathError(path + ": cannot write the file's seal; is the disk full?");
}

void check_seal(const std::string& path) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return;  // H5Fis_hdf5 names what is wrong
  char head[64] = {};
  if (::pread(fd.get(), head, sizeof head - 1, 0) < static_cast<ssize_t>(sizeof kMarker - 1) ||
      std::memcmp(head, kMarker, sizeof kMarker - 1) != 0)
    return;  // not sealed: written before seals, or by another tool
  {
    std::lock_guard<std::mutex> lock(checked_mutex);
    if (checked.count(key_of(st))) return;
  }
  unsigned long long bytes = 0;
  std::uint32_t crc = 0;
  if (std::sscanf(head + sizeof kMarker - 1, "crc32=%8" SCNx32 " bytes=%llu", &crc, &bytes) != 2)
    throw InputError(path + ": the file's seal is damaged; re-create the file with the command that wrote it");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size != bytes)
    throw InputError(path + ": the file holds " + std::to_string(size) + " bytes where " + std::to_string(bytes) +
                     " were written: it is truncated or damaged; re-create it with the command that wrote it");
  std::uint32_t now = 0;
  if (!checksum(fd.get(), size, now)) throw InputError(path + ": the file cannot be read to the end");
  if (now != crc)
    throw InputError(path + ": the file changed after it was written (its checksum does not match): it is damaged or was edited; "
                     "re-create it with the command that wrote it");
  std::lock_guard<std::mutex> lock(checked_mutex);
  checked.insert(key_of(st));
}

}  // namespace reinforcer::h5
