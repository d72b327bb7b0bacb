#pragma once
// SHA-256 (FIPS 180-4) of a file, for provenance: a results file names the exact input.
#include <cstdint>
#include <string>

namespace reinforcer {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  std::string hex_digest();  // finishes the hash

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

// Throws PathError if the file cannot be read.
std::string sha256_of_file(const std::string& path);

}  // namespace reinforcer
