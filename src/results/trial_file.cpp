#include "reinforcer/results/trial_file.hpp"

#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/provenance.hpp"

namespace reinforcer {
namespace {

// The record's scalar fields, declared once for writing and reading.
template <typename Visit>
void visit_scalars(TrialRecord& r, Visit&& v) {
  v("index", r.index);
  v("status", r.status);
  v("error", r.error);
  v("grid_sha256", r.grid_sha256);
  v("prepared_sha256", r.prepared_sha256);
  v("config", r.config);
  v("regret", r.regret);
  v("regret_p95", r.regret_p95);
  v("optimum", r.optimum);
  v("learned", r.learned);
  v("auc_fold", r.auc_fold);
  v("rung", r.rung);
  v("episodes", r.episodes);
  v("workers", r.workers);
  v("steps", r.steps);
  v("wall_seconds", r.wall_seconds);
  v("fit_seconds", r.fit_seconds);
  v("train_seconds", r.train_seconds);
  v("judge_seconds", r.judge_seconds);
  v("host", r.host);
  v("started_at", r.started_at);
  v("finished_at", r.finished_at);
  v("slurm_job_id", r.slurm_job_id);
  v("slurm_array_job_id", r.slurm_array_job_id);
  v("slurm_array_task_id", r.slurm_array_task_id);
  v("slurm_restart_count", r.slurm_restart_count);
}

}  // namespace

void write_trial_file(const std::string& path, const TrialRecord& record) {
  AtomicOutput out(path);
  {
    h5::File f = h5::File::create(out.temp_path());
    f.set_attribute("format", kTrialFormat);
    f.set_attribute("format_version", kTrialFormatVersion);
    TrialRecord r = record;
    visit_scalars(r, [&](const char* name, auto& value) { f.set_attribute(name, value); });
    const h5::Group p = f.create_group("parameters");
    for (const auto& [k, v] : r.parameters) p.set_attribute(k, v);
    const auto& c = r.regret_by_cohort;
    f.write_table("regret", h5::Table(c.size())
                                .add("cohort", h5::column(c, &RegretRow::cohort))
                                .add("customers", h5::column(c, &RegretRow::customers))
                                .add("optimum", h5::column(c, &RegretRow::optimum))
                                .add("learned", h5::column(c, &RegretRow::learned))
                                .add("regret", h5::column(c, &RegretRow::regret))
                                .add("regret_low95", h5::column(c, &RegretRow::regret_low95))
                                .add("regret_high95", h5::column(c, &RegretRow::regret_high95))
                                .add("p95_start_regret", h5::column(c, &RegretRow::p95_start_regret)));
    f.flush();
    f.close();  // sealed: readers can tell a damaged copy
  }
  out.commit();
}

TrialRecord read_trial_file(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  require_format(f, path, kTrialFormat, kTrialFormatVersion);
  TrialRecord r;
  try {
    visit_scalars(r, [&](const char* name, auto& value) {
      using T = std::decay_t<decltype(value)>;
      if constexpr (std::is_same_v<T, std::string>) value = f.string_attribute(name);
      else if constexpr (std::is_same_v<T, std::int64_t>) value = f.int_attribute(name);
      else value = f.double_attribute(name);
    });
    const h5::Group p = f.open_group("parameters");
    for (const std::string& k : p.attribute_names()) r.parameters[k] = p.string_attribute(k);
    const auto cohort = f.read_string_column("regret", "cohort");
    const auto customers = f.read_int_column("regret", "customers");
    const auto optimum = f.read_double_column("regret", "optimum"), learned = f.read_double_column("regret", "learned");
    const auto regret = f.read_double_column("regret", "regret");
    const auto p95 = f.read_double_column("regret", "p95_start_regret");
    const auto low = f.read_double_column("regret", "regret_low95"), high = f.read_double_column("regret", "regret_high95");
    for (std::size_t i = 0; i < cohort.size(); ++i)
      r.regret_by_cohort.push_back(RegretRow{cohort[i], customers[i], optimum[i], learned[i], regret[i], p95[i], low[i], high[i]});
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(path + ": not a complete trial file (" + std::string(e.what()) + "); delete it to run the trial again");
  }
  return r;
}

}  // namespace reinforcer
