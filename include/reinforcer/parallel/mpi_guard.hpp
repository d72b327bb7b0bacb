#pragma once
// MPI's lifetime as an object: initialised in the constructor, finalised in the destructor
// -- but not while an exception unwinds, when finalising would hang waiting for ranks that
// are still running; then the error path aborts the job instead.
namespace reinforcer {

class MpiGuard {
 public:
  MpiGuard(int& argc, char**& argv);
  ~MpiGuard();
  MpiGuard(const MpiGuard&) = delete;
  MpiGuard& operator=(const MpiGuard&) = delete;

  static bool active();  // MPI initialised and not finalised
  // Ends every rank of the job with this exit code (one failing rank must not leave the
  // others waiting in a collective).
  [[noreturn]] static void abort(int exit_code);
};

// True when this process was started by mpirun/mpiexec or srun with more than one rank.
bool launched_under_mpi();

}  // namespace reinforcer
