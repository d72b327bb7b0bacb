#pragma once
// Results are written to a temporary file in the destination's directory and renamed into
// place, so no reader ever sees half a file and a failed run leaves nothing behind: the
// temporary is removed on every exit path, a signal included (install_temp_file_cleanup). A
// lock keeps two runs from writing one output; a device or FIFO is never renamed over. The
// temporaries of a run killed outright (SIGKILL) are removed by the next writer of that output.
#include <memory>
#include <string>

namespace reinforcer {

// Holds an exclusive lock on writing `path` (a hidden ".NAME.lock" beside it, removed on
// release) for as long as it lives. Throws PathError naming the other process if a run
// holds it. Taking a lock this process already holds is allowed (a checkpoint written
// repeatedly while the run holds it).
class OutputLock {
 public:
  explicit OutputLock(const std::string& path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string key_;
};

// What a destination may be besides a regular file.
enum class OutputTarget {
  regular_file,  // HDF5 and other random-access formats: a device, FIFO or "-" is refused
  stream,        // text written front to back: a device or FIFO is written directly, "-" is stdout
};

// The directory a path names a file in ("." for a bare name).
std::string directory_of(const std::string& path);

class AtomicOutput {
 public:
  // Checks the destination (PathError: its directory missing or not writable, a directory, a
  // non-regular file where a regular one is needed; UsageError: "-" for a file format) and
  // takes the output's lock.
  explicit AtomicOutput(std::string final_path, OutputTarget target = OutputTarget::regular_file);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write: a temporary beside the destination, or the destination itself for a
  // stream target that is a device or FIFO ("/dev/stdout" for "-").
  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  void commit();  // flush to disk and rename into place (nothing to do for a direct write)

 private:
  std::string final_;
  std::string temp_;
  bool direct_ = false;
  bool committed_ = false;
  int temp_slot_ = -1;
  std::unique_ptr<OutputLock> lock_;
};

// Whether two paths name one existing file (device and inode, not names).
bool same_file(const std::string& a, const std::string& b);

// Throws PathError unless the directory that would hold `path` exists and is writable,
// and `path` is not itself a directory.
void require_writable_destination(const std::string& path);

// The message with every temporary of this process replaced by the output it stands for:
// writers see only the temporary's name, the user should see the output's.
std::string with_output_names(std::string message);

// On SIGINT, SIGTERM and SIGHUP (where no other handler is installed later): remove the
// temporary files of unfinished outputs, then die of the signal as before.
void install_temp_file_cleanup();

}  // namespace reinforcer
