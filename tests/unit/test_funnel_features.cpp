#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "reinforcer/env/funnel_features.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "test_support.hpp"

using namespace reinforcer;

TEST_CASE("funnel features: a one-hot per fixed feature, the week and the milestones, for every state", "[dqn][model]") {
  const FunnelFit fit = test::synthetic_fit(4000, 3, "cohort,education");
  const FunnelEnvironment funnel(fit.model, fit.starts);
  const FunnelFeatureEnvironment env(funnel, fit.encoder);
  const FunnelFeatures& ff = env.encoding();
  const std::vector<std::string>& names = ff.names();
  REQUIRE(names.size() == ff.inputs());
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  const std::size_t week = ff.inputs() - 1 - kStepMilestones;
  CHECK(names[week] == "week");
  CHECK(names.back() == "account_manager");
  std::size_t cohort_inputs = 0;
  for (const std::string& n : names) cohort_inputs += n.rfind("cohort=", 0) == 0;
  CHECK(cohort_inputs >= 2);  // outbound and inbound at least
  const std::vector<float> all = ff.all_states();
  REQUIRE(all.size() == env.states() * ff.inputs());
  std::set<std::vector<float>> distinct_segments;
  for (std::size_t s = 0; s < fit.model.segments(); ++s)
    for (int w : {0, 7, fit.model.horizon() - 1})
      for (Progress p : {Progress{0}, Progress{5}, Progress{31}}) {
        const float* row = &all[fit.model.state_index(static_cast<std::int32_t>(s), p, w) * ff.inputs()];
        std::vector<float> x(ff.inputs());
        EpisodeState e;
        e.segment = static_cast<std::int32_t>(s), e.progress = p, e.t = static_cast<std::uint8_t>(w);
        env.features(e, x.data());
        CHECK(std::vector<float>(row, row + ff.inputs()) == x);
        // A leaf fixes both features: exactly two one-hot inputs are set.
        float hot = 0;
        for (std::size_t i = 0; i < week; ++i) hot += x[i];
        CHECK(hot == 2.0f);
        CHECK(x[week] == Approx(static_cast<double>(w) / fit.model.horizon()));
        for (std::size_t m = 0; m < kStepMilestones; ++m) CHECK(x[week + 1 + m] == ((p >> m & 1u) ? 1.0f : 0.0f));
        if (w == 0 && p == 0) distinct_segments.insert(std::vector<float>(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(week)));
      }
  CHECK(distinct_segments.size() == fit.model.segments());  // no two segments look alike to the network
}
