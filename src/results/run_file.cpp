#include "reinforcer/results/run_file.hpp"

#include "reinforcer/results/engagement_file.hpp"

#include "customer_attributes.hpp"
#include "dqn_network.hpp"

#include <cmath>
#include <algorithm>

#include "reinforcer/results/checkpoint.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/prepared_file.hpp"

namespace reinforcer {
namespace {

// One row per Q-table row, without a string per row (a 570k-row table's strings were the
// run's peak memory): actions are enum codes, segments index the /segments table, and the
// milestones are the bits of `progress`.
void write_states(const h5::Group& root, const RunContents& run, const std::vector<std::uint8_t>& learned) {
  const FunnelFit& fit = *run.fit;
  const std::size_t T = static_cast<std::size_t>(run.steps_per_episode);
  const std::size_t segments = fit.model.segments();
  const std::size_t n = segments * kProgressStates * T;
  const bool funnel = run.environment == "funnel";
  std::vector<std::string> action_labels;
  for (std::size_t a = 0; a < kActions; ++a) action_labels.emplace_back(kActionNames[a]);
  std::vector<std::int8_t> learned_action(n), dp_action(n, -1);
  std::vector<std::int64_t> visits(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t v = 0;
    for (std::size_t a = 0; a < kActions; ++a) v += run.state->visits[i * kQStride + a];
    visits[i] = v;
    learned_action[i] = static_cast<std::int8_t>(learned[i]);
    if (funnel) dp_action[i] = static_cast<std::int8_t>(fit.dp.policy[i]);
  }
  std::vector<std::int32_t> segment(n), progress(n), t(n);
  std::vector<std::int64_t> state(n);
  for (std::size_t i = 0; i < n; ++i) {
    state[i] = static_cast<std::int64_t>(i);
    segment[i] = static_cast<std::int32_t>(i / (kProgressStates * T));  // rows (segment, t, progress)
    t[i] = static_cast<std::int32_t>(i / kProgressStates % T);
    progress[i] = static_cast<std::int32_t>(i % kProgressStates);
  }
  h5::Table table(n);
  table.add("state", state).add("segment", segment).add("progress", progress).add("t", t).add("visits", visits);
  state = {}, segment = {}, progress = {}, t = {}, visits = {};
  table.add_enum("learned_action", learned_action, action_labels);
  learned_action = {};
  table.add("learned_value", funnel ? evaluate_policy(fit.model, fit.gamma, learned) : std::vector<double>(n, 0.0));
  action_labels.insert(action_labels.begin(), "none");  // replay: no DP policy
  table.add_enum("dp_action", dp_action, action_labels, -1);
  dp_action = {};
  table.add("dp_value", funnel ? fit.dp.value : std::vector<double>(n, 0.0));
  root.write_table("states", table);
  std::vector<std::int32_t> index(segments);
  std::vector<std::string> description(segments);
  for (std::size_t s = 0; s < segments; ++s)
    index[s] = static_cast<std::int32_t>(s), description[s] = fit.encoder.describe(fit.model.segment_nodes()[s]);
  root.write_table("segments", h5::Table(segments).add("segment", index).add("description", description));
}

void write_model(const h5::Group& root, const FunnelFit& fit) {
  const h5::Group g = root.create_group("model");
  const FunnelConfig& c = fit.model.config();
  g.set_attribute("horizon_weeks", static_cast<std::int64_t>(c.horizon_weeks));
  for (std::size_t a = 0; a < kActions; ++a)  // assumptions, not data
    g.set_attribute("success_" + std::string(kActionNames[a]), c.success.probability[a]);
  g.set_attribute("subscription_reward", c.subscription_reward);
  g.set_attribute("gamma", fit.gamma);
  g.set_attribute("features", fit.encoder.mask().text());
  g.set_attribute("fitting_customers", static_cast<std::int64_t>(fit.fitting.size()));
  const std::size_t nodes = fit.hazards.nodes;
  std::vector<std::int32_t> node, depth, parent, progress, is_leaf;
  std::vector<std::string> desc, event;
  std::vector<double> events, exposure, rate;
  for (std::size_t nd = 0; nd < nodes; ++nd)
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t e = 0; e < kEvents; ++e) {
        const std::size_t k = HazardEstimates::index(nd, p, e);
        if (fit.hazards.exposure[k] <= 0 && fit.hazards.events[k] <= 0 && p != 0) continue;  // keep the table readable
        const SegmentNode& sn = fit.encoder.nodes()[nd];
        node.push_back(static_cast<std::int32_t>(nd));
        depth.push_back(sn.depth);
        parent.push_back(sn.parent);
        is_leaf.push_back(sn.leaf);
        desc.push_back(fit.encoder.describe(static_cast<std::int32_t>(nd)));
        progress.push_back(static_cast<std::int32_t>(p));
        event.push_back(e == kSubscriptionEvent ? "subscribed" : std::string(kMilestoneKeys[e]));
        events.push_back(fit.hazards.events[k]);
        exposure.push_back(fit.hazards.exposure[k]);
        rate.push_back(fit.hazards.rate[k]);
      }
  g.write_table("hazards", h5::Table(node.size())
                               .add("node", node).add("parent", parent).add("depth", depth).add("leaf", is_leaf)
                               .add("segment_description", desc).add("progress", progress).add("event", event)
                               .add("events", events).add("person_weeks", exposure).add("weekly_hazard", rate));
  {  // Jumps (milestones reached together in a week): the rows with events, to stay readable.
    std::vector<std::int32_t> jn, jp;
    std::vector<std::string> jd, jm;
    std::vector<double> je, jx, jr;
    for (std::size_t nd = 0; nd < nodes; ++nd)
      for (std::size_t p = 0; p < kProgressStates; ++p)
        for (std::size_t j = 1; j < kProgressStates; ++j) {
          if (!jump_possible(p, j)) continue;
          const std::size_t k = HazardEstimates::jump_index(nd, p, j);
          if (fit.hazards.jump_events.empty() || fit.hazards.jump_events[k] <= 0) continue;
          jn.push_back(static_cast<std::int32_t>(nd));
          jd.push_back(fit.encoder.describe(static_cast<std::int32_t>(nd)));
          jp.push_back(static_cast<std::int32_t>(p));
          jm.push_back(milestones_text(static_cast<Progress>(j)));
          je.push_back(fit.hazards.jump_events[k]);
          jx.push_back(fit.hazards.jump_exposure[k]);
          jr.push_back(fit.hazards.jump_rate[k]);
        }
    g.write_table("jumps", h5::Table(jn.size()).add("node", jn).add("segment_description", jd).add("progress", jp)
                               .add("milestones_reached", jm).add("events", je).add("person_weeks", jx)
                               .add("weekly_hazard", jr));
  }
  {  // Prior strengths: per depth and event, and per depth for all jumps (event "jumps").
    std::vector<std::int32_t> pd;
    std::vector<std::string> pe;
    std::vector<double> strength;
    for (std::size_t i = 0; i < fit.hazards.prior_strength.size(); ++i) {
      pd.push_back(static_cast<std::int32_t>(i / kEvents));
      pe.push_back(i % kEvents == kSubscriptionEvent ? "subscribed" : std::string(kMilestoneKeys[i % kEvents]));
      strength.push_back(fit.hazards.prior_strength[i]);
    }
    for (std::size_t d = 0; d < fit.hazards.jump_prior_strength.size(); ++d) {
      pd.push_back(static_cast<std::int32_t>(d));
      pe.emplace_back("jumps");
      strength.push_back(fit.hazards.jump_prior_strength[d]);
    }
    g.write_table("shrinkage", h5::Table(pd.size()).add("depth", pd).add("event", pe).add("prior_strength", strength));
  }
  {  // Duration bands: observed and expected events per top segment, band and event.
    std::vector<std::int32_t> bn, bw;
    std::vector<std::string> bd, be;
    std::vector<double> obs, expd, factor;
    const HazardEstimates& h = fit.hazards;
    for (std::size_t nd = 0; nd < nodes; ++nd) {
      const SegmentNode& sn = fit.encoder.nodes()[nd];
      if (!(sn.depth == 1 || nodes == 1)) continue;
      for (std::size_t b = 0; b < kBands; ++b)
        for (std::size_t e = 0; e <= kEvents; ++e) {  // e == kEvents: the jumps
          bn.push_back(static_cast<std::int32_t>(nd));
          bd.push_back(fit.encoder.describe(static_cast<std::int32_t>(nd)));
          bw.push_back(kBandFirstWeek[b]);
          const bool jump = e == kEvents;
          be.push_back(jump ? "jumps" : e == kSubscriptionEvent ? "subscribed" : std::string(kMilestoneKeys[e]));
          const std::size_t k = jump ? nd * kBands + b : HazardEstimates::band_index(nd, b, e);
          obs.push_back(jump ? h.jump_band_events[k] : h.band_events[k]);
          expd.push_back(jump ? h.jump_band_expected[k] : h.band_expected[k]);
          factor.push_back(jump ? h.jump_band_factor[k] : h.band_factor[k]);
        }
    }
    g.write_table("duration_bands", h5::Table(bn.size()).add("node", bn).add("segment_description", bd)
                                        .add("first_week", bw).add("event", be).add("events", obs)
                                        .add("expected", expd).add("factor", factor));
  }
}

}  // namespace

void write_run_file(const std::string& path, const RunContents& run, const Provenance& provenance) {
  h5::File f = h5::File::create(path);
  write_provenance(f, kRunFormat, kRunFormatVersion, provenance);
  for (const auto& [k, v] : run.text_attributes) f.set_attribute(k, v);
  for (const auto& [k, v] : run.int_attributes) f.set_attribute(k, v);
  for (const auto& [k, v] : run.double_attributes) f.set_attribute(k, v);
  if (!run.warnings.empty()) f.write_strings("warnings", run.warnings);
  {
    const h5::File prepared = h5::File::open_read(run.prepared_path);
    f.copy_from(prepared, "customers");
    if (prepared.exists(kCustomerAttributesGroup)) f.copy_from(prepared, kCustomerAttributesGroup);
    f.copy_from(prepared, "summary");
  }
  const TrainState& st = *run.state;
  const std::size_t rows = st.q.size() / kQStride;
  const h5::Group qg = f.create_group("q");
  qg.write_matrix_columns("values", st.q, rows, kQStride, kActions);
  qg.write_matrix_columns("visits", st.visits, rows, kQStride, kActions);
  const auto learned = learned_policy(st.q, st.visits, kQStride);
  std::vector<std::string> names, targets;
  std::vector<double> costs;
  for (std::size_t a = 0; a < kActions; ++a) {
    names.emplace_back(kActionNames[a]);
    const auto t = target_of(static_cast<Action>(a));
    targets.push_back(t ? std::string(kMilestoneKeys[static_cast<std::size_t>(*t)]) : "");
    costs.push_back(run.fit->model.cost(static_cast<Action>(a)));
  }
  f.write_table("actions", h5::Table(kActions).add("action", names).add("cost", costs).add("targets", targets));
  write_states(f, run, learned);
  if (run.environment == "funnel") {
    const h5::Group dp = f.create_group("dp");
    dp.write_matrix("q", optimal_q(run.fit->model, run.fit->gamma, run.fit->dp.value), run.fit->model.states(), kActions);
    dp.write_matrix("values", run.fit->dp.value, run.fit->model.states(), 1);
  }
  write_learning_curve(f, st.curve);
  if (run.dqn) {
    // The network (float weights stored as double: exact) and its training curve; /q holds its
    // Q-values tabulated over every state, so readers of run files need nothing else.
    const DqnResult& d = *run.dqn;
    const h5::Group g = f.create_group("dqn");
    write_dqn_network(g, d.layer_sizes, d.weights);
    g.set_attribute("workers", static_cast<std::int64_t>(d.workers));
    const auto& c = d.curve;
    g.write_table("curve", h5::Table(c.size())
                               .add("steps", h5::column(c, &DqnCurveRow::steps))
                               .add("gradient_steps", h5::column(c, &DqnCurveRow::gradient_steps))
                               .add("loss", h5::column(c, &DqnCurveRow::loss))
                               .add("mean_q", h5::column(c, &DqnCurveRow::mean_q))
                               .add("mean_episode_reward", h5::column(c, &DqnCurveRow::mean_episode_reward))
                               .add("episodes", h5::column(c, &DqnCurveRow::episodes))
                               .add("epsilon", h5::column(c, &DqnCurveRow::epsilon))
                               .add("regret", h5::column(c, &DqnCurveRow::regret)));
  }
  if (run.quality) {
    const LearnerQuality& lq = *run.quality;
    const h5::Group g = f.create_group("quality");
    const auto& regret = lq.regret;
    g.write_table("regret", h5::Table(regret.size())
                                .add("cohort", h5::column(regret, &RegretRow::cohort))
                                .add("customers", h5::column(regret, &RegretRow::customers))
                                .add("optimum", h5::column(regret, &RegretRow::optimum))
                                .add("learned", h5::column(regret, &RegretRow::learned))
                                .add("regret", h5::column(regret, &RegretRow::regret))
                                .add("regret_low95", h5::column(regret, &RegretRow::regret_low95))
                                .add("regret_high95", h5::column(regret, &RegretRow::regret_high95))
                                .add("p95_start_regret", h5::column(regret, &RegretRow::p95_start_regret)));
    g.set_attribute("best_constant_policy", lq.best_constant);
    g.set_attribute("best_constant_value", lq.best_constant_value);
    g.set_attribute("learned_minus_best_constant", lq.learned_minus_best_constant);
    g.set_attribute("learned_minus_best_constant_low95", lq.low95);
    g.set_attribute("learned_minus_best_constant_high95", lq.high95);
    g.set_attribute("refits", static_cast<std::int64_t>(lq.refits));
  }
  if (run.break_even && !run.break_even->empty()) write_break_even_table(f.open_group("quality"), *run.break_even);
  write_model(f, *run.fit);
  f.flush();
  f.close();  // sealed: readers can tell a damaged copy
}

StoredRun read_run_file(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  const std::string format = f.has_attribute("format") ? f.string_attribute("format") : "";
  if (format == kEvaluatedFormat) {
    if (f.int_attribute("format_version") != kEvaluatedFormatVersion) require_format(f, path, kEvaluatedFormat, kEvaluatedFormatVersion);
  } else if (!(format == kRunFormat && f.has_attribute("format_version") && f.int_attribute("format_version") == 2)) {
    require_format(f, path, kRunFormat, kRunFormatVersion);  // version 2 differs only in /states, not read here
  }
  StoredRun r;
  r.path = path;
  r.table = read_customer_table(f, path);
  // Only the policy is needed: the Q-table (16 bytes per cell with its visits, 600 MB for
  // 5.7 M states) is read a block of states at a time, never whole.
  const h5::Group qg = f.open_group("q");
  const auto shape = qg.matrix_shape("values");
  if (shape[1] != kActions || qg.matrix_shape("visits") != shape)
    throw InputError(path + ": q/values and q/visits must both be [states, " + std::to_string(kActions) + "]");
  r.learned_policy.resize(shape[0]);
  constexpr std::size_t kBlock = std::size_t{1} << 16;
  std::vector<double> q;
  std::vector<std::int64_t> visits;
  for (std::size_t first = 0; first < shape[0]; first += kBlock) {
    const std::size_t count = std::min(kBlock, shape[0] - first);
    qg.read_matrix_rows("values", first, count, kActions, q);
    qg.read_matrix_rows("visits", first, count, kActions, visits);
    const std::vector<std::uint8_t> block = learned_policy(q, visits, kActions);
    std::copy(block.begin(), block.end(), r.learned_policy.begin() + static_cast<std::ptrdiff_t>(first));
  }
  r.config_text = f.has_attribute("train_config") ? f.string_attribute("train_config") : f.string_attribute("config");
  const std::string export_date = f.string_attribute("export_date");
  const auto day = parse_iso_day(export_date);
  if (!day) throw InputError(path + ": export_date '" + export_date + "' is not a date");
  r.export_date = *day;
  r.workers = f.int_attribute("workers");
  r.episodes_per_worker = f.int_attribute("episodes_per_worker");
  return r;
}

namespace {
// An engagement file (engagement -o) as one more judged run: its model is given, not fitted,
// so there are no cohorts and no refits; the best constant policy is its best baseline.
StoredQuality read_engagement_quality(const h5::File& f, const std::string& path) {
  require_format(f, path, kEngagementFormat, kEngagementFormatVersion);
  StoredQuality r;
  r.path = path;
  try {
    r.agent = f.string_attribute("agent");
    r.environment = "engagement";
    r.features = "engagement score, stage";
    r.workers = f.int_attribute("workers");
    r.episodes_per_worker = f.int_attribute("episodes_per_worker");
    if (r.agent == "dqn" && f.has_attribute("dqn_steps_per_worker")) r.dqn_steps_per_worker = f.int_attribute("dqn_steps_per_worker");
    r.judged = true;
    const double nan = std::nan("");
    const double learned = f.double_attribute("agent_start_value");
    r.quality.regret.push_back(RegretRow{"all", f.int_attribute("start_cells"), f.double_attribute("optimum_start_value"),
                                         learned, f.double_attribute("agent_regret"), nan, nan, nan});
    const auto policy = f.read_string_column("baselines", "policy");
    const auto value = f.read_double_column("baselines", "start_value");
    double best = -HUGE_VAL;
    for (std::size_t i = 0; i < policy.size(); ++i)
      if (policy[i] != "random" && value[i] > best) best = value[i], r.quality.best_constant = policy[i].substr(policy[i].find('_') + 1);
    r.quality.best_constant_value = best;
    r.quality.learned_minus_best_constant = learned - best;
    r.quality.low95 = r.quality.high95 = nan;
    r.quality.refits = 0;
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  return r;
}
}  // namespace

StoredQuality read_run_quality(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  const std::string format = f.has_attribute("format") ? f.string_attribute("format") : "";
  if (format == kEngagementFormat) return read_engagement_quality(f, path);
  if (format != kEvaluatedFormat) require_format(f, path, kRunFormat, kRunFormatVersion);
  StoredQuality r;
  r.path = path;
  try {
    r.agent = f.has_attribute("agent") ? f.string_attribute("agent") : "tabular";  // runs before the DQN were tabular
    r.environment = f.string_attribute("environment");
    r.features = f.has_attribute("features") ? f.string_attribute("features") : "";
    r.workers = f.int_attribute("workers");
    r.episodes_per_worker = f.int_attribute("episodes_per_worker");
    if (f.has_attribute("dqn_steps_per_worker")) r.dqn_steps_per_worker = f.int_attribute("dqn_steps_per_worker");
    r.judged = f.exists("quality");
    if (!r.judged) return r;
    const h5::Group g = f.open_group("quality");
    LearnerQuality& q = r.quality;
    const auto cohort = g.read_string_column("regret", "cohort");
    const auto customers = g.read_int_column("regret", "customers");
    const auto optimum = g.read_double_column("regret", "optimum"), learned = g.read_double_column("regret", "learned");
    const auto regret = g.read_double_column("regret", "regret"), p95 = g.read_double_column("regret", "p95_start_regret");
    bool intervals = false;  // runs written before the refit intervals have none
    for (const auto& c : g.table_columns("regret")) intervals = intervals || c.name == "regret_low95";
    const auto low = intervals ? g.read_double_column("regret", "regret_low95") : std::vector<double>(cohort.size(), std::nan(""));
    const auto high = intervals ? g.read_double_column("regret", "regret_high95") : std::vector<double>(cohort.size(), std::nan(""));
    for (std::size_t i = 0; i < cohort.size(); ++i)
      q.regret.push_back(RegretRow{cohort[i], customers[i], optimum[i], learned[i], regret[i], p95[i], low[i], high[i]});
    q.best_constant = g.string_attribute("best_constant_policy");
    q.best_constant_value = g.double_attribute("best_constant_value");
    q.learned_minus_best_constant = g.double_attribute("learned_minus_best_constant");
    q.low95 = g.double_attribute("learned_minus_best_constant_low95");
    q.high95 = g.double_attribute("learned_minus_best_constant_high95");
    q.refits = static_cast<int>(g.int_attribute("refits"));
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(path + ": not a complete run file (" + std::string(e.what()) + "); train it again");
  }
  return r;
}

}  // namespace reinforcer
