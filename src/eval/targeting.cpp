// Targeting: every scorer's ranking of the held-out customers, overall and per cohort, with
// bootstrap intervals and paired differences; the replicates spread over the ranks.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "evaluation_internal.hpp"
#include "reinforcer/core/bytes.hpp"
#include "reinforcer/core/rng.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"

namespace reinforcer::evaluation {
namespace {

const std::array<double, 4> kTops = {0.05, 0.10, 0.20, 0.30};

double scorer_value(const ScoreRow& r, std::size_t k) {
  switch (k) {
    case 0: return r.status_quo;
    case 1: return r.call_list;
    case 2: return r.segment_rate;
    case 3: return r.cohort_rate;
    default: return r.random;
  }
}

// The rows `idx` ranked once by one scorer, with their folds: every bootstrap replicate of
// them is a vector of multiplicities over this ranking.
RankedCustomers ranked_by(const std::vector<ScoreRow>& rows, const std::vector<std::uint32_t>& idx, std::size_t scorer) {
  std::vector<double> score;
  std::vector<std::uint8_t> label;
  std::vector<std::int32_t> fold;
  for (std::uint32_t i : idx)
    score.push_back(scorer_value(rows[i], scorer)), label.push_back(static_cast<std::uint8_t>(rows[i].subscribed)),
        fold.push_back(rows[i].fold);
  return RankedCustomers(score, label, fold, "targeting");
}

// auc, auc_fold, lift@ and captured@ for one scorer on the resample with multiplicities
// `weight` (every row once when empty).
std::vector<double> targeting_metrics(const RankedCustomers& ranked, const std::vector<std::uint32_t>& weight) {
  static const std::vector<double> tops(kTops.begin(), kTops.end());
  const RankedCustomers::Metrics r = ranked.metrics(weight, tops);
  std::vector<double> m = {r.roc_auc, r.fold_auc.mean};
  for (const TopShare& t : r.top) m.push_back(t.lift);
  for (const TopShare& t : r.top) m.push_back(t.captured);
  return m;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> n = {"auc", "auc_fold"};
  for (double f : kTops) n.push_back("lift@" + std::to_string(static_cast<int>(std::lround(100 * f))));
  for (double f : kTops) n.push_back("captured@" + std::to_string(static_cast<int>(std::lround(100 * f))));
  return n;
}

// What the targeting bootstrap reads of a score row, as doubles: rank 0 holds the rows (from
// the folds' payloads) and sends them to the other ranks.
constexpr std::size_t kTargetingFields = 8;  // fold, inbound, subscribed, the kScorers' scores
std::string targeting_rows_bytes(const std::vector<ScoreRow>& rows) {
  std::string bytes;  // written straight, with no vector of the same size beside it (61 MB at 1M)
  bytes.reserve(rows.size() * kTargetingFields * sizeof(double));
  ByteWriter w(bytes);
  for (const ScoreRow& r : rows) {
    const double v[kTargetingFields] = {static_cast<double>(r.fold), r.cohort == "inbound" ? 1.0 : 0.0,
                                        static_cast<double>(r.subscribed), r.status_quo, r.call_list, r.segment_rate,
                                        r.cohort_rate, r.random};
    w.put_values(v, kTargetingFields);
  }
  return bytes;
}
std::vector<ScoreRow> targeting_rows_from(const std::string& bytes) {
  const std::vector<double> v = values_of<double>(bytes, "the targeting's score rows");
  std::vector<ScoreRow> rows;
  rows.reserve(v.size() / kTargetingFields);
  for (std::size_t at = 0; at + kTargetingFields <= v.size(); at += kTargetingFields)
    rows.push_back(ScoreRow{0, static_cast<std::int32_t>(v[at]), v[at + 1] != 0 ? "inbound" : "outbound",
                            static_cast<std::int8_t>(v[at + 2]), v[at + 3], v[at + 4], v[at + 5], v[at + 6], v[at + 7]});
  return rows;
}

// Targeting per cohort and scorer, with intervals and paired differences from one set of
// bootstrap resamples of the held-out customers (stratified by fold x cohort, so every fold
// and cohort keeps its size): the scores are fixed, the sample varies. The replicates are
// independent (each drawn from its own index): every rank computes its share of them on the
// rows rank 0 sends, and rank 0, which alone fills `r`, gathers them.
}  // namespace

void build_targeting(EvaluationResult& r, const EvaluationSettings& s, const Communicator& comm) {
  std::vector<ScoreRow> received;
  if (comm.size() > 1) {
    std::string bytes = comm.is_root() ? targeting_rows_bytes(r.scores) : std::string();
    comm.broadcast(bytes, 0);
    if (!comm.is_root()) received = targeting_rows_from(bytes);
  }
  const std::vector<ScoreRow>& rows = comm.is_root() ? r.scores : received;
  const auto names = metric_names();
  std::vector<std::uint8_t> stratum;
  for (const auto& row : rows) stratum.push_back(static_cast<std::uint8_t>(row.fold * 2 + (row.cohort == "inbound")));
  // Every row ranked once per scorer; a cohort's ranking is the rows of that cohort in it.
  std::vector<RankedCustomers> all;
  for (const std::string cohort : {"all", "outbound", "inbound"}) {
    std::vector<std::uint32_t> idx;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (cohort == "all" || rows[i].cohort == cohort) idx.push_back(static_cast<std::uint32_t>(i));
    if (idx.empty()) continue;
    std::int64_t positives = 0;
    for (auto i : idx) positives += rows[i].subscribed;
    std::vector<std::uint8_t> sub_stratum;
    for (auto i : idx) sub_stratum.push_back(stratum[i]);
    // Ranked once per scorer; a replicate is then a count per row (linear in the rows).
    std::vector<RankedCustomers> cohort_ranked;
    if (all.empty()) {
      for (std::size_t sc = 0; sc < kScorers.size(); ++sc) all.push_back(ranked_by(rows, idx, sc));
    } else {
      for (std::size_t sc = 0; sc < kScorers.size(); ++sc) cohort_ranked.push_back(all[sc].subset(idx));
    }
    const std::vector<RankedCustomers>& ranked = cohort_ranked.empty() ? all : cohort_ranked;
    std::vector<std::vector<double>> estimate(kScorers.size());
    for (std::size_t sc = 0; sc < kScorers.size(); ++sc) estimate[sc] = targeting_metrics(ranked[sc], {});
    const StratifiedResampler resampler(std::move(sub_stratum));
    // reps[b][scorer][metric]
    std::vector<std::vector<std::vector<double>>> reps(static_cast<std::size_t>(s.bootstrap));
    const int ranks = comm.size(), rank = comm.rank();
    const int mine = s.bootstrap > rank ? (s.bootstrap - rank + ranks - 1) / ranks : 0;  // b = rank, rank + ranks, ...
#pragma omp parallel num_threads(s.threads)
    {
      std::vector<std::uint32_t> counts;  // the replicate's multiplicities, one vector per thread
#pragma omp for schedule(dynamic, 1)
      for (int k = 0; k < mine; ++k) {
        const int b = rank + k * ranks;
        resampler.counts(splitmix64(s.seed ^ 0x7A6E7ULL), static_cast<std::uint64_t>(b), counts);
        auto& rep = reps[static_cast<std::size_t>(b)];
        for (std::size_t sc = 0; sc < kScorers.size(); ++sc) rep.push_back(targeting_metrics(ranked[sc], counts));
      }
    }
    if (ranks > 1) {  // rank 0 collects the others' replicates: (b, the scorers' metrics) each
      std::vector<double> part;
      for (int b = rank; !comm.is_root() && b < s.bootstrap; b += ranks) {
        part.push_back(b);
        for (const auto& m : reps[static_cast<std::size_t>(b)]) part.insert(part.end(), m.begin(), m.end());
      }
      const std::vector<std::string> parts =
          comm.gather(bytes_of(part), 0);
      if (!comm.is_root()) continue;
      const std::size_t per_metric = names.size(), fields = 1 + kScorers.size() * per_metric;
      for (const std::string& bytes : parts) {
        const std::vector<double> v = values_of<double>(bytes, "the targeting's bootstrap replicates");  // empty: rank 0's own part
        for (std::size_t at = 0; at + fields <= v.size(); at += fields) {
          auto& rep = reps.at(static_cast<std::size_t>(v[at]));
          for (std::size_t sc = 0; sc < kScorers.size(); ++sc)
            rep.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(at + 1 + sc * per_metric),
                             v.begin() + static_cast<std::ptrdiff_t>(at + 1 + (sc + 1) * per_metric));
        }
      }
    }
    const FoldAuc fold_count = ranked[0].metrics({}, {}).fold_auc;
    for (std::size_t sc = 0; sc < kScorers.size(); ++sc) {
      for (std::size_t m = 0; m < names.size(); ++m) {
        std::vector<double> values;
        for (const auto& rep : reps) values.push_back(rep[sc][m]);
        const Interval ci = percentile_interval(values);
        r.targeting.push_back(TargetingRow{kScorers[sc], cohort, names[m], estimate[sc][m], ci.low, ci.high,
                                           static_cast<std::int64_t>(idx.size()), positives, fold_count.folds});
      }
      if (positives > 0)
        for (const auto& [f, c] : ranked[sc].lift_curve(20))
          r.lift_curve.push_back(LiftPoint{kScorers[sc], cohort, f, c});
    }
    for (std::size_t sc = 0; sc < kFirstBaseline; ++sc)
      for (std::size_t base = kFirstBaseline; base < kScorers.size(); ++base)
        for (std::size_t m = 0; m < names.size(); ++m) {
          std::vector<double> diffs;
          for (const auto& rep : reps) diffs.push_back(rep[sc][m] - rep[base][m]);
          const Interval ci = percentile_interval(diffs);
          r.targeting_differences.push_back(TargetingDifferenceRow{kScorers[sc], kScorers[base], cohort, names[m],
                                                                   estimate[sc][m] - estimate[base][m], ci.low, ci.high});
        }
  }
}

}  // namespace reinforcer::evaluation
