#pragma once
// SHA-256 of a file, for provenance: a results file names the exact input.
#include <string>

struct evp_md_ctx_st;

namespace reinforcer {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  std::string hex_digest();  // finishes the hash

 private:
  evp_md_ctx_st* ctx_;
};

// Throws PathError if the file cannot be read.
std::string sha256_of_file(const std::string& path);

}  // namespace reinforcer
