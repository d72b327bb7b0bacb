#include <catch2/catch.hpp>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/pipeline/trial_config.hpp"

using namespace reinforcer;

TEST_CASE("trial config: every option's text reads back to the same config") {
  const TrialConfig c = parse_trial_config({{"alpha", "0.05"}, {"features", "cohort,country"}, {"shrinkage", "12.5"},
                                            {"success.call", "0.3"}, {"step-size", "constant"}, {"seed", "77"}});
  const TrialConfig back = parse_trial_config(trial_option_values(c));
  CHECK(canonical_text(back) == canonical_text(c));
  CHECK(back.schedule.q.alpha == 0.05);
  CHECK(back.shrinkage == 12.5);
  CHECK(back.schedule.seed == 77);
  CHECK(learner_of(back).omega == 0.0);  // constant step size
  const OptionValues changed = non_default_values(c);
  CHECK(changed.size() == 6);
  CHECK(changed.at("features") == "cohort,country");
  CHECK(non_default_values(parse_trial_config({})).empty());
}

TEST_CASE("trial config: the model key changes with the model's options only") {
  const TrialConfig base = parse_trial_config({});
  CHECK(model_key(parse_trial_config({{"alpha", "0.3"}, {"episodes", "10"}, {"omega", "0.9"}})) == model_key(base));
  CHECK(model_key(parse_trial_config({{"features", "cohort"}})) != model_key(base));
  CHECK(model_key(parse_trial_config({{"shrinkage", "0"}})) != model_key(base));
  CHECK(model_key(parse_trial_config({{"success.call", "0.5"}})) != model_key(base));
}

TEST_CASE("trial config: a bad key or value is refused with where it came from") {
  const auto where = [](const std::string& key) { return "grid.ini line 4: " + key; };
  CHECK_THROWS_WITH(parse_trial_config({{"alpah", "0.1"}}, where), "grid.ini line 4: alpah: unknown option");
  CHECK_THROWS_WITH(parse_trial_config({{"alpha", "2"}}, where),
                    "grid.ini line 4: alpha: 2 is out of range; give a value from 1e-09 to 1");
  CHECK_THROWS_WITH(parse_trial_config({{"episodes", "1e5"}}), "--episodes: '1e5' is not a whole number");
  CHECK_THROWS_WITH(parse_trial_config({{"cost.fax", "1"}}), Catch::Contains("unknown action 'fax'"));
  CHECK_THROWS_WITH(parse_trial_config({{"epsilon-start", "0.1"}, {"epsilon-end", "0.2"}}),
                    "--epsilon-end: 0.2 is above epsilon-start 0.1");
  CHECK_THROWS_AS(parse_trial_config({{"seed", "-3"}}), UsageError);
  CHECK_THROWS_AS(parse_trial_config({{"shrinkage", "-1"}}), UsageError);
}

TEST_CASE("trial config: a stored [train] section gives its trial options and skips the run's layout") {
  const OptionValues v = trial_values_in("[train]\nalpha = 0.2\nthreads = 4\noutput = run.h5\nfeatures = cohort\n");
  CHECK(v.size() == 2);
  CHECK(v.at("alpha") == "0.2");
  CHECK(parse_trial_config(v).features.text() == "cohort");
}
