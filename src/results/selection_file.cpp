#include "reinforcer/results/selection_file.hpp"

#include <cmath>
#include <limits>

#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/frame.hpp"

namespace reinforcer {
namespace {

std::vector<std::int8_t> flags(const std::vector<bool>& v) { return std::vector<std::int8_t>(v.begin(), v.end()); }

// A count read as a number (a table's numbers are read as doubles) within T's range: casting
// NaN or a value out of range is undefined.
template <typename T>
T whole_number(double v, const std::string& path, const char* table, const char* column, std::size_t row) {
  if (!(v >= static_cast<double>(std::numeric_limits<T>::min()) && v < -static_cast<double>(std::numeric_limits<T>::min())))
    throw InputError(path + ": " + table + " row " + std::to_string(row) + ": " + column + " " + std::to_string(v) +
                     " is out of range");
  return static_cast<T>(v);
}

}  // namespace

void write_selection_file(const std::string& path, const SelectionSummary& s, const Provenance& provenance) {
  AtomicOutput out(path);
  {
    h5::File f = h5::File::create(out.temp_path());
    write_provenance(f, kSelectionFormat, kSelectionFormatVersion, provenance);
    f.set_attribute("objective", s.objective);
    f.set_attribute("element_cost", s.element_cost);
    f.set_attribute("customers", s.customers);
    f.set_attribute("bootstrap", s.bootstrap);
    f.set_attribute("exhaustive", static_cast<std::int64_t>(s.exhaustive));
    f.set_attribute("lattice", s.lattice);
    f.set_attribute("best_bits", static_cast<std::int64_t>(s.best_bits));
    f.set_attribute("score_empty", s.score_empty);
    f.set_attribute("score_all", s.score_all);
    f.set_attribute("rl_ran", static_cast<std::int64_t>(s.rl_ran));
    f.set_attribute("rl_best_bits", static_cast<std::int64_t>(s.rl_best_bits));
    f.set_attribute("rl_best_net", s.rl_best_net);
    f.set_attribute("rl_regret", s.rl_regret);
    f.set_attribute("rl_evaluations", s.rl_evaluations);
    f.set_attribute("rl_episodes", s.rl_episodes);
    f.set_attribute("rl_stop_reason", s.rl_stop_reason);
    f.set_attribute("seconds", s.seconds);
    f.set_attribute("ranks", s.ranks);
    f.set_attribute("threads", s.threads);

    const auto& e = s.elements;
    h5::Table elements(e.size());
    std::vector<bool> in_best;
    for (const SelectionElement& x : e) in_best.push_back(x.in_best);
    elements.add("name", h5::column(e, &SelectionElement::name))
        .add("kind", h5::column(e, &SelectionElement::kind))
        .add("shapley", h5::column(e, &SelectionElement::shapley))
        .add("shapley_low95", h5::column(e, &SelectionElement::shapley_low95))
        .add("shapley_high95", h5::column(e, &SelectionElement::shapley_high95))
        .add("marginal", h5::column(e, &SelectionElement::marginal))
        .add("marginal_low95", h5::column(e, &SelectionElement::marginal_low95))
        .add("marginal_high95", h5::column(e, &SelectionElement::marginal_high95))
        .add("in_best", flags(in_best));
    f.write_table("elements", elements);

    const auto& t = s.subsets;
    h5::Table subsets(t.size());
    std::vector<std::int64_t> bits;
    std::vector<bool> rl;
    for (const ScoredSubset& x : t) bits.push_back(x.bits), rl.push_back(x.rl_evaluated);
    subsets.add("bits", bits)
        .add_strings("elements", [&](std::size_t i) -> std::string_view { return t[i].elements; })
        .add("size", h5::column(t, &ScoredSubset::size))
        .add("score", h5::column(t, &ScoredSubset::score))
        .add("net", h5::column(t, &ScoredSubset::net))
        .add("log_likelihood", h5::column(t, &ScoredSubset::log_likelihood))
        .add("auc", h5::column(t, &ScoredSubset::auc))
        .add("rl_evaluated", flags(rl));
    f.write_table("subsets", subsets);

    const auto& c = s.rl_curve;
    h5::Table curve(c.size());
    curve.add("batch", h5::column(c, &SearchCurvePoint::batch))
        .add("evaluations", h5::column(c, &SearchCurvePoint::evaluations))
        .add("best_net", h5::column(c, &SearchCurvePoint::best_net));
    f.write_table("rl_curve", curve);
    f.close();  // sealed: readers can tell a damaged copy
  }
  out.commit();
}

SelectionSummary read_selection_file(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  require_format(f, path, kSelectionFormat, kSelectionFormatVersion);
  SelectionSummary s;
  s.objective = f.string_attribute("objective");
  s.element_cost = f.double_attribute("element_cost");
  s.customers = f.int_attribute("customers");
  s.bootstrap = f.int_attribute("bootstrap");
  s.exhaustive = f.int_attribute("exhaustive") != 0;
  s.lattice = f.int_attribute("lattice");
  s.best_bits = static_cast<std::uint32_t>(f.int_attribute("best_bits"));
  s.score_empty = f.double_attribute("score_empty");
  s.score_all = f.double_attribute("score_all");
  s.rl_ran = f.int_attribute("rl_ran") != 0;
  s.rl_best_bits = static_cast<std::uint32_t>(f.int_attribute("rl_best_bits"));
  s.rl_best_net = f.double_attribute("rl_best_net");
  s.rl_regret = f.double_attribute("rl_regret");
  s.rl_evaluations = f.int_attribute("rl_evaluations");
  s.rl_episodes = f.int_attribute("rl_episodes");
  s.rl_stop_reason = f.string_attribute("rl_stop_reason");
  s.seconds = f.double_attribute("seconds");
  s.ranks = f.int_attribute("ranks");
  s.threads = f.int_attribute("threads");
  const Frame e = read_frame(f, "elements", path);
  for (std::size_t i = 0; i < e.rows; ++i) {
    SelectionElement x;
    x.name = e.s("name")[i], x.kind = e.s("kind")[i];
    x.shapley = e.d("shapley")[i], x.shapley_low95 = e.d("shapley_low95")[i], x.shapley_high95 = e.d("shapley_high95")[i];
    x.marginal = e.d("marginal")[i], x.marginal_low95 = e.d("marginal_low95")[i], x.marginal_high95 = e.d("marginal_high95")[i];
    x.in_best = e.d("in_best")[i] != 0;
    s.elements.push_back(x);
  }
  const Frame t = read_frame(f, "subsets", path);
  for (std::size_t i = 0; i < t.rows; ++i) {
    ScoredSubset x;
    const double bits = t.d("bits")[i];
    if (!(bits >= 0 && bits < 4294967296.0)) throw InputError(path + ": /subsets row " + std::to_string(i) + ": bits out of range");
    x.bits = static_cast<std::uint32_t>(bits);
    x.elements = t.s("elements")[i];
    x.size = whole_number<std::int32_t>(t.d("size")[i], path, "/subsets", "size", i);
    x.score = t.d("score")[i], x.net = t.d("net")[i];
    x.log_likelihood = t.d("log_likelihood")[i], x.auc = t.d("auc")[i];
    x.rl_evaluated = t.d("rl_evaluated")[i] != 0;
    s.subsets.push_back(x);
  }
  const Frame c = read_frame(f, "rl_curve", path);
  for (std::size_t i = 0; i < c.rows; ++i)
    s.rl_curve.push_back(SearchCurvePoint{whole_number<std::int64_t>(c.d("batch")[i], path, "/rl_curve", "batch", i),
                                          whole_number<std::int64_t>(c.d("evaluations")[i], path, "/rl_curve", "evaluations", i),
                                          c.d("best_net")[i]});
  return s;
}

}  // namespace reinforcer
