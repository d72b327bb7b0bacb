#include "reinforcer/results/engagement_file.hpp"

#include "dqn_network.hpp"

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

void write_engagement_file(const std::string& path, const EngagementContents& c, const Provenance& provenance) {
  const EngagementEnvironment& env = *c.env;
  const EngagementConfig& cfg = env.config();
  const EngagementSolution& opt = *c.optimum;
  const TrainedAgent& agent = *c.agent;
  h5::File f = h5::File::create(path);
  write_provenance(f, kEngagementFormat, kEngagementFormatVersion, provenance);
  for (const auto& [k, v] : c.int_attributes) f.set_attribute(k, v);
  for (const auto& [k, v] : c.text_attributes) f.set_attribute(k, v);
  f.set_attribute("agent", agent.name);
  const double optimum_start = mean_start_value(env, opt.value);
  f.set_attribute("optimum_start_value", optimum_start);
  f.set_attribute("agent_start_value", mean_start_value(env, c.agent_value));
  f.set_attribute("agent_regret", engagement_regret(env, opt.value, c.agent_value));
  f.set_attribute("start_cells", static_cast<std::int64_t>(env.start_cells().size()));

  // The model: its text as given, and its values as numbers.
  const h5::Group model = f.create_group("model");
  model.set_attribute("text", cfg.text);
  model.set_attribute("source", cfg.name);
  model.set_attribute("gamma", cfg.gamma);
  model.set_attribute("horizon", static_cast<std::int64_t>(cfg.horizon));
  model.set_attribute("grid", static_cast<std::int64_t>(cfg.grid));
  model.set_attribute("warm_at", cfg.warm_at);
  model.set_attribute("hot_at", cfg.hot_at);
  model.set_attribute("start_low", cfg.start_low);
  model.set_attribute("start_high", cfg.start_high);
  model.set_attribute("unavailable_action_penalty", EngagementEnvironment::kUnavailablePenalty);
  const std::vector<std::string> stages(kEngagementStageNames.begin(), kEngagementStageNames.end());
  const std::vector<std::string> actions(kEngagementActionNames.begin(), kEngagementActionNames.end());
  {
    std::vector<std::int8_t> stage, action;
    std::vector<std::string> sales_action;
    std::vector<double> success, gain, spread, cost;
    for (std::size_t s = 0; s < kEngagementStages; ++s)
      for (std::size_t a = 0; a < kEngagementActions; ++a) {
        stage.push_back(static_cast<std::int8_t>(s));
        action.push_back(static_cast<std::int8_t>(a));
        sales_action.emplace_back(kActionNames[static_cast<std::size_t>(kEngagementActionOf[a])]);
        success.push_back(cfg.effect[s][a].success);
        gain.push_back(cfg.effect[s][a].gain);
        spread.push_back(cfg.effect[s][a].spread);
        cost.push_back(cfg.cost[a]);
      }
    model.write_table("effects", h5::Table(stage.size())
                                     .add_enum("stage", stage, stages)
                                     .add_enum("action", action, actions)
                                     .add("sales_action", sales_action)
                                     .add("success", success).add("gain", gain).add("spread", spread).add("cost", cost));
  }

  // Per grid cell: the optimum, the agent, and what the agent saw.
  const std::size_t n = env.states();
  std::vector<std::int32_t> cell(n);
  std::vector<double> score(n), v_opt(n), v_agent(n);
  std::vector<std::array<double, kEngagementActions>> q(n);
  std::vector<std::int8_t> stage(n), start(n, 0), terminal(n, 0), opt_action(n), agent_action(n);
  std::vector<std::array<std::int64_t, kEngagementActions>> visits(n);
  for (std::uint32_t c2 : env.start_cells()) start[c2] = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = static_cast<std::uint32_t>(i);
    cell[i] = static_cast<std::int32_t>(i);
    score[i] = env.score(u);
    stage[i] = static_cast<std::int8_t>(env.stage(u));
    terminal[i] = u == env.terminal();
    v_opt[i] = opt.value[i];
    v_agent[i] = c.agent_value[i];
    opt_action[i] = terminal[i] ? -1 : static_cast<std::int8_t>(opt.policy[i]);
    agent_action[i] = terminal[i] ? -1 : static_cast<std::int8_t>(agent.policy[i]);
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      q[i][a] = opt.q[i * kEngagementActions + a];
      visits[i][a] = agent.visits.empty() ? 0 : agent.visits[i * kEngagementActions + a];
    }
  }
  std::vector<std::string> action_labels = {"none"};
  action_labels.insert(action_labels.end(), actions.begin(), actions.end());
  h5::Table cells(n);
  cells.add("cell", cell).add("score", score).add_enum("stage", stage, stages).add("start", start).add("terminal", terminal)
      .add("optimum_value", v_opt).add_enum("optimum_action", opt_action, action_labels, -1);
  for (std::size_t a = 0; a < kEngagementActions; ++a) {
    std::vector<double> qa(n);
    for (std::size_t i = 0; i < n; ++i) qa[i] = q[i][a];
    cells.add("optimum_q_" + actions[a], qa);
  }
  cells.add_enum("agent_action", agent_action, action_labels, -1).add("agent_value", v_agent);
  for (std::size_t a = 0; a < kEngagementActions; ++a) {
    std::vector<std::int64_t> va(n);
    for (std::size_t i = 0; i < n; ++i) va[i] = visits[i][a];
    cells.add("agent_visits_" + actions[a], va);
  }
  f.write_table("cells", cells);

  const std::vector<EngagementBaseline>& b = *c.baselines;
  f.write_table("baselines", h5::Table(b.size())
                                 .add("policy", h5::column(b, &EngagementBaseline::policy))
                                 .add("start_value", h5::column(b, &EngagementBaseline::start_value))
                                 .add("regret", h5::column(b, &EngagementBaseline::regret)));

  const auto& curve = agent.curve;
  f.write_table("learning_curve", h5::Table(curve.size())
                                      .add("episodes", h5::column(curve, &EngagementCurvePoint::episodes))
                                      .add("steps", h5::column(curve, &EngagementCurvePoint::steps))
                                      .add("mean_reward", h5::column(curve, &EngagementCurvePoint::mean_reward))
                                      .add("epsilon", h5::column(curve, &EngagementCurvePoint::epsilon))
                                      .add("regret", h5::column(curve, &EngagementCurvePoint::regret))
                                      .add("wall_seconds", h5::column(curve, &EngagementCurvePoint::wall_seconds))
                                      .add("loss", h5::column(curve, &EngagementCurvePoint::loss))
                                      .add("mean_q", h5::column(curve, &EngagementCurvePoint::mean_q)));
  if (!agent.weights.empty()) {
    // The network, to be loaded again (analysis/, or a later run): sizes, then the flat weights.
    write_dqn_network(f.create_group("dqn"), agent.layer_sizes, agent.weights);
  }
  f.flush();
  f.close();  // sealed: readers can tell a damaged copy
}

}  // namespace reinforcer
