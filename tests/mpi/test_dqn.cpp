// Built twice: with the single-process communicator (no mpirun) and, with
// REINFORCER_TEST_WITH_MPI, under mpiexec -n 2 and -n 4. Four workers in all: 1 rank x 4
// threads (every rank trains that alone) against the ranks of the run x 4 / ranks threads;
// the weights must be identical bit for bit.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "../unit/chain_env.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/dqn.hpp"
#include "test_communicator_choice.hpp"

using namespace reinforcer;
using reinforcer::test::ChainEnvironment;
using reinforcer::test::ChainShard;
using reinforcer::test::test_communicator;

TEST_CASE("dqn: four workers give the same weights on 1, 2 or 4 ranks", "[dqn_mpi]") {
  const Communicator comm = test_communicator();
  constexpr int kWorkers = 4;
  REQUIRE(kWorkers % comm.size() == 0);
  const ChainEnvironment env;
  DqnConfig cfg;
  cfg.hidden = {16, 16};
  cfg.batch = 16;
  cfg.replay_capacity = 1000;
  cfg.warmup_steps = 50;
  cfg.target_update_every = 20;
  cfg.epsilon_decay_steps = 300;
  cfg.steps = 600;
  cfg.train_every = 2;
  cfg.curve_every = 100;
  cfg.gamma = 0.9;
  cfg.seed = 17;
  cfg.threads = kWorkers / comm.size();
  const DqnResult split = train_dqn(comm, env, std::vector<ChainShard>(static_cast<std::size_t>(cfg.threads)), cfg);
  cfg.threads = kWorkers;
  const DqnResult alone = train_dqn(local_communicator(), env, std::vector<ChainShard>(kWorkers), cfg);
  CHECK(split.workers == kWorkers);
  CHECK(alone.workers == kWorkers);
  REQUIRE(split.weights.size() == alone.weights.size());
  CHECK(std::memcmp(split.weights.data(), alone.weights.data(), split.weights.size() * sizeof(float)) == 0);
  // Every rank holds the same model: rank 0's weights, broadcast, are this rank's.
  std::string bytes(reinterpret_cast<const char*>(split.weights.data()), split.weights.size() * sizeof(float));
  const std::string mine = bytes;
  comm.broadcast(bytes);
  CHECK(bytes == mine);
  REQUIRE(split.curve.size() == alone.curve.size());
  CHECK(split.curve.back().steps == 600 * kWorkers);
  CHECK(split.curve.back().episodes == alone.curve.back().episodes);
  CHECK(split.curve.back().gradient_steps == alone.curve.back().gradient_steps);
  // A different seed trains a different model (the comparison above can fail).
  cfg.seed = 18;
  const DqnResult other = train_dqn(local_communicator(), env, std::vector<ChainShard>(kWorkers), cfg);
  CHECK(std::memcmp(other.weights.data(), alone.weights.data(), alone.weights.size() * sizeof(float)) != 0);
}
