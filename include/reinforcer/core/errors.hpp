#pragma once
// Errors that carry the process exit code DESIGN.md fixes for the command line.
#include <stdexcept>
#include <string>

namespace reinforcer {

enum class ExitCode : int {
  success = 0,
  internal = 1,
  usage = 2,        // options, configuration values
  bad_input = 3,    // readable input with invalid content
  path = 4,         // a path that cannot be opened or written
  trials_failed = 5,  // a sweep ran, and some of its trials failed (each recorded with its error)
  interrupted = 75  // stopped by a signal after writing a checkpoint
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

struct UsageError : Error {
  explicit UsageError(const std::string& m) : Error(ExitCode::usage, m) {}
};
struct InputError : Error {
  explicit InputError(const std::string& m) : Error(ExitCode::bad_input, m) {}
};
struct PathError : Error {
  explicit PathError(const std::string& m) : Error(ExitCode::path, m) {}
};

// An error every rank of a job raises at the same point because rank 0 found it and told the
// others (e.g. an unreadable input that only rank 0 reads): rank 0 reports it, once, and the
// ranks end together with its code, without aborting each other.
struct CollectiveError : Error {
  CollectiveError(ExitCode code, const std::string& m) : Error(code, m) {}
};

}  // namespace reinforcer
