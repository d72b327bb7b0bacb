#pragma once
// Results are written to a temporary file in the destination's directory and renamed into
// place, so no reader ever sees half a file and a failed run leaves nothing behind.
#include <string>

namespace reinforcer {

class AtomicOutput {
 public:
  // Checks the destination's directory is writable (PathError otherwise).
  explicit AtomicOutput(std::string final_path);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  void commit();  // rename into place

 private:
  std::string final_;
  std::string temp_;
  bool committed_ = false;
};

// Whether two paths name one existing file (device and inode, not names).
bool same_file(const std::string& a, const std::string& b);

// Throws PathError unless the directory that would hold `path` exists and is writable,
// and `path` is not itself a directory.
void require_writable_destination(const std::string& path);

}  // namespace reinforcer
