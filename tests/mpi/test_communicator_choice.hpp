#pragma once
// The communicator a distributed test runs on: MPI_COMM_WORLD in the build for mpiexec
// (REINFORCER_TEST_WITH_MPI), the single-process one otherwise.
#include "reinforcer/parallel/communicator.hpp"

namespace reinforcer::test {

inline Communicator test_communicator() {
#ifdef REINFORCER_TEST_WITH_MPI
  return mpi_world_communicator();
#else
  return local_communicator();
#endif
}

}  // namespace reinforcer::test
