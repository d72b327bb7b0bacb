#include "reinforcer/results/sweep_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {
namespace {

bool all_numbers(const std::vector<std::string>& v) {
  for (const std::string& s : v) {
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return false;
  }
  return true;
}

std::vector<std::int64_t> indices_with(const std::vector<TrialRecord>& trials, const std::string& status) {
  std::vector<std::int64_t> out;
  for (const TrialRecord& r : trials)
    if (r.status == status) out.push_back(r.index);
  return out;
}

}  // namespace

void write_sweep_file(const std::string& path, const SweepSummary& s, const Provenance& provenance) {
  AtomicOutput out(path);
  {
    h5::File f = h5::File::create(out.temp_path());
    write_provenance(f, kSweepFormat, kSweepFormatVersion, provenance);
    const auto& t = s.trials;
    const std::vector<std::int64_t> failed = indices_with(t, "failed"), missing = indices_with(t, "missing");
    f.set_attribute("grid", s.grid_text);
    f.set_attribute("grid_sha256", s.grid_sha256);
    f.set_attribute("prepared_sha256", s.prepared_sha256);
    f.set_attribute("objective", s.objective);
    f.set_attribute("trials", static_cast<std::int64_t>(t.size()));
    f.set_attribute("complete", static_cast<std::int64_t>(t.size() - failed.size() - missing.size()));
    f.set_attribute("failed", static_cast<std::int64_t>(failed.size()));
    f.set_attribute("missing", static_cast<std::int64_t>(missing.size()));
    f.set_attribute("best_trial", s.best);

    h5::Table table(t.size());
    table.add("index", h5::column(t, &TrialRecord::index));
    for (const std::string& key : s.varied) {
      std::vector<std::string> v;
      for (const TrialRecord& r : t) v.push_back(r.parameters.count(key) ? r.parameters.at(key) : "");
      if (all_numbers(v)) {
        std::vector<double> d;
        for (const std::string& x : v) d.push_back(std::strtod(x.c_str(), nullptr));
        table.add(key, d);
      } else {
        table.add(key, v);
      }
    }
    // A metric named like a varied parameter (episodes) is that parameter's column already.
    const auto metric = [&](const std::string& name, auto values) {
      if (std::find(s.varied.begin(), s.varied.end(), name) == s.varied.end()) table.add(name, values);
    };
    table.add("status", h5::column(t, &TrialRecord::status));
    metric("regret", h5::column(t, &TrialRecord::regret));
    metric("regret_p95", h5::column(t, &TrialRecord::regret_p95));
    metric("optimum", h5::column(t, &TrialRecord::optimum));
    metric("learned", h5::column(t, &TrialRecord::learned));
    metric("auc_fold", h5::column(t, &TrialRecord::auc_fold));
    metric("rung", h5::column(t, &TrialRecord::rung));
    metric("episodes", h5::column(t, &TrialRecord::episodes));
    metric("workers", h5::column(t, &TrialRecord::workers));
    metric("steps", h5::column(t, &TrialRecord::steps));
    metric("wall_seconds", h5::column(t, &TrialRecord::wall_seconds));
    metric("fit_seconds", h5::column(t, &TrialRecord::fit_seconds));
    metric("train_seconds", h5::column(t, &TrialRecord::train_seconds));
    metric("judge_seconds", h5::column(t, &TrialRecord::judge_seconds));
    metric("error", h5::column(t, &TrialRecord::error));
    metric("host", h5::column(t, &TrialRecord::host));
    metric("started_at", h5::column(t, &TrialRecord::started_at));
    metric("finished_at", h5::column(t, &TrialRecord::finished_at));
    metric("slurm_job_id", h5::column(t, &TrialRecord::slurm_job_id));
    metric("slurm_array_job_id", h5::column(t, &TrialRecord::slurm_array_job_id));
    metric("slurm_array_task_id", h5::column(t, &TrialRecord::slurm_array_task_id));
    metric("slurm_restart_count", h5::column(t, &TrialRecord::slurm_restart_count));
    f.write_table("trials", table);

    f.write_table("failed", h5::Table(failed.size()).add("trial", failed));
    f.write_table("missing", h5::Table(missing.size()).add("trial", missing));

    std::vector<std::int64_t> trial, customers;
    std::vector<std::string> cohort;
    std::vector<double> optimum, learned, regret, p95;
    for (const TrialRecord& r : t)
      for (const RegretRow& c : r.regret_by_cohort) {
        trial.push_back(r.index), cohort.push_back(c.cohort), customers.push_back(c.customers);
        optimum.push_back(c.optimum), learned.push_back(c.learned), regret.push_back(c.regret);
        p95.push_back(c.p95_start_regret);
      }
    f.write_table("regret_by_cohort", h5::Table(trial.size())
                                          .add("trial", trial).add("cohort", cohort).add("customers", customers)
                                          .add("optimum", optimum).add("learned", learned).add("regret", regret)
                                          .add("p95_start_regret", p95));
    if (s.best >= 0) {
      const TrialRecord& b = t[static_cast<std::size_t>(s.best)];
      const h5::Group g = f.create_group("best");
      g.set_attribute("trial", b.index);
      g.set_attribute("regret", b.regret);
      g.set_attribute("config", b.config);
      const h5::Group p = g.create_group("parameters");
      for (const auto& [k, v] : b.parameters) p.set_attribute(k, v);
    }
    f.flush();
    f.close();  // sealed: readers can tell a damaged copy
  }
  out.commit();
}

}  // namespace reinforcer
