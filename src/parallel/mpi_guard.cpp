#include "reinforcer/parallel/mpi_guard.hpp"

#include <mpi.h>

#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

namespace reinforcer {

MpiGuard::MpiGuard(int& argc, char**& argv) {
  int provided = 0;
  // Threads run rollouts; only the main thread calls MPI.
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Init_thread failed");
}

MpiGuard::~MpiGuard() {
  if (std::uncaught_exceptions() > 0) return;  // the error path aborts instead
  if (active()) MPI_Finalize();
}

bool MpiGuard::active() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

void MpiGuard::abort(int exit_code) {
  if (active()) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);
}

bool launched_under_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_NTASKS"}) {
    const char* s = std::getenv(v);
    if (s && (std::string(v) == "PMIX_RANK" || std::atoi(s) > 1)) return true;
  }
  return false;
}

}  // namespace reinforcer
