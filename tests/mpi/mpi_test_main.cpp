// Catch2 main for tests that run under mpiexec: MPI lives for the whole session and the
// run fails if any rank failed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <mpi.h>

#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"

int main(int argc, char** argv) {
  reinforcer::MpiGuard guard(argc, argv);
  const int failed = Catch::Session().run(argc, argv);
  const std::int64_t any_failed = reinforcer::mpi_world_communicator().max(static_cast<std::int64_t>(failed));
  return any_failed > 0 ? 1 : 0;
}
