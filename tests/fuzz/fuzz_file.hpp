#pragma once
// The readers take paths: each fuzz input is written to one file per process (in /dev/shm
// when there is one, so an execution costs no disk), named with the extension that picks
// the reader.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

inline std::string scratch_path(const char* extension) {
  const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  return std::string(dir) + "/reinforcer-fuzz-" + std::to_string(::getpid()) + extension;
}

inline const std::string& write_input(const std::uint8_t* data, std::size_t size, const char* extension) {
  static const std::string path = scratch_path(extension);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace fuzz
