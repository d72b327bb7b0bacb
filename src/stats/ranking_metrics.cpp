#include "reinforcer/stats/ranking_metrics.hpp"

#include <algorithm>
#include <map>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace reinforcer {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ceil(fraction * n), a product within 1e-9 (relative) of an integer taken as that integer.
std::int64_t selected_count(double fraction, std::int64_t n) {
  const double x = fraction * static_cast<double>(n);
  const double r = std::round(x);
  const double k = std::abs(x - r) <= 1e-9 * std::max(1.0, r) ? r : std::ceil(x);
  return std::clamp(static_cast<std::int64_t>(k), std::int64_t{0}, n);
}

// lift and captured from the expected positives among the selected (the tie rule).
TopShare top_share_of(double fraction, std::int64_t selected, double positives_selected, std::int64_t positives,
                      std::int64_t n) {
  TopShare t;
  t.fraction = fraction;
  t.selected = selected;
  t.positives_selected = positives_selected;
  if (positives == 0) {
    t.lift = t.captured = kNaN;
    return t;
  }
  const double all_pos = static_cast<double>(positives);
  t.captured = t.positives_selected / all_pos;
  t.lift = t.selected == 0 ? kNaN
                           : (t.positives_selected / static_cast<double>(t.selected)) / (all_pos / static_cast<double>(n));
  return t;
}

void check_fraction(double fraction) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument("top_share: fraction " + std::to_string(fraction) + " is not in [0, 1]");
}

}  // namespace

Ranking::Ranking(const std::vector<double>& score, const std::vector<std::uint8_t>& label, const char* caller)
    : n_(static_cast<std::int64_t>(score.size())) {
  if (score.size() != label.size())
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(score.size()) + " scores but " +
                                std::to_string(label.size()) + " labels");
  struct Scored {
    double score;
    bool positive;
  };
  std::vector<Scored> v(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (std::isnan(score[i])) throw std::invalid_argument(std::string(caller) + ": score " + std::to_string(i) + " is NaN");
    v[i] = Scored{score[i], label[i] != 0};
  }
  // Descending; the order within ties is irrelevant to everything computed from the blocks.
  std::sort(v.begin(), v.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
  for (std::size_t i = 0; i < v.size(); ++i) {
    positives_ += v[i].positive;
    if (i + 1 == v.size() || v[i + 1].score != v[i].score) {
      end_.push_back(static_cast<std::int64_t>(i + 1));
      cum_pos_.push_back(positives_);
    }
  }
}

double Ranking::positives_in_top(std::int64_t k) const {
  if (k <= 0) return 0.0;
  const auto b = static_cast<std::size_t>(std::lower_bound(end_.begin(), end_.end(), k) - end_.begin());
  const std::int64_t start = b == 0 ? 0 : end_[b - 1];
  const std::int64_t before = b == 0 ? 0 : cum_pos_[b - 1];
  if (k == end_[b]) return static_cast<double>(cum_pos_[b]);
  const std::int64_t block_pos = cum_pos_[b] - before;
  return static_cast<double>(before) +
         static_cast<double>(block_pos) * static_cast<double>(k - start) / static_cast<double>(end_[b] - start);
}

double Ranking::roc_auc() const {
  // Walk from the top: each positive beats every negative in a later block and ties the
  // negatives of its own block. Sums of whole and half counts are exact in a double.
  const std::int64_t negatives = n_ - positives_;
  if (positives_ == 0 || negatives == 0) return kNaN;
  double wins = 0.0;
  for (std::size_t b = 0; b < end_.size(); ++b) {
    const std::int64_t above = b == 0 ? 0 : cum_pos_[b - 1];  // positives in earlier blocks
    const std::int64_t p = cum_pos_[b] - above, q = end_[b] - (b == 0 ? 0 : end_[b - 1]) - p;
    // Positives seen so far (above this block) beat this block's negatives.
    wins += static_cast<double>(above) * static_cast<double>(q) + 0.5 * static_cast<double>(p) * static_cast<double>(q);
  }
  return wins / (static_cast<double>(positives_) * static_cast<double>(negatives));
}

TopShare Ranking::top_share(double fraction) const {
  check_fraction(fraction);
  const std::int64_t selected = selected_count(fraction, n_);
  return top_share_of(fraction, selected, positives_in_top(selected), positives_, n_);
}

std::vector<std::pair<double, double>> Ranking::lift_curve(int points) const {
  if (points < 1) throw std::invalid_argument("lift_curve: points must be at least 1, not " + std::to_string(points));
  std::vector<std::pair<double, double>> curve;
  if (n_ == 0) return curve;
  curve.reserve(static_cast<std::size_t>(points));
  for (int i = 1; i <= points; ++i) {
    const double f = i == points ? 1.0 : static_cast<double>(i) / static_cast<double>(points);
    const std::int64_t k = selected_count(f, n_);
    const double captured = positives_ == 0 ? kNaN : positives_in_top(k) / static_cast<double>(positives_);
    curve.emplace_back(static_cast<double>(k) / static_cast<double>(n_), captured);
  }
  return curve;
}

double roc_auc(const std::vector<double>& score, const std::vector<std::uint8_t>& label) {
  return Ranking(score, label, "roc_auc").roc_auc();
}

TopShare top_share(const std::vector<double>& score, const std::vector<std::uint8_t>& label, double fraction) {
  return Ranking(score, label, "top_share").top_share(fraction);
}

std::vector<std::pair<double, double>> lift_curve(const std::vector<double>& score,
                                                  const std::vector<std::uint8_t>& label, int points) {
  return Ranking(score, label, "lift_curve").lift_curve(points);
}

FoldAuc fold_stratified_auc(const std::vector<double>& score, const std::vector<std::uint8_t>& label,
                            const std::vector<std::int32_t>& fold) {
  if (score.size() != label.size() || score.size() != fold.size())
    throw std::invalid_argument("fold_stratified_auc: score, label and fold differ in length");
  std::map<std::int32_t, std::pair<std::vector<double>, std::vector<std::uint8_t>>> by_fold;
  for (std::size_t i = 0; i < score.size(); ++i) {
    auto& f = by_fold[fold[i]];
    f.first.push_back(score[i]);
    f.second.push_back(label[i]);
  }
  FoldAuc out;
  double sum = 0;
  for (const auto& [id, f] : by_fold) {
    std::size_t pos = 0;
    for (auto y : f.second) pos += y != 0;
    if (pos == 0 || pos == f.second.size()) continue;
    sum += roc_auc(f.first, f.second);
    ++out.folds;
  }
  out.mean = out.folds > 0 ? sum / static_cast<double>(out.folds) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

RankedCustomers::RankedCustomers(const std::vector<double>& score, const std::vector<std::uint8_t>& label,
                                 const std::vector<std::int32_t>& fold, const char* caller) {
  const std::size_t n = score.size();
  if (n != label.size())
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(n) + " scores but " +
                                std::to_string(label.size()) + " labels");
  if (!fold.empty() && fold.size() != n)
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(n) + " scores but " +
                                std::to_string(fold.size()) + " folds");
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(n) + " customers do not fit 32-bit indices");
  for (std::size_t i = 0; i < n; ++i)
    if (std::isnan(score[i])) throw std::invalid_argument(std::string(caller) + ": score " + std::to_string(i) + " is NaN");
  // Folds by increasing id, as fold_stratified_auc visits them (its sum runs in that order).
  std::vector<std::int32_t> ids(fold);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > 65536) throw std::invalid_argument(std::string(caller) + ": more than 65,536 distinct folds");
  folds_ = ids.size();
  ranked_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto slot = fold.empty() ? 0 : std::lower_bound(ids.begin(), ids.end(), fold[i]) - ids.begin();
    ranked_[i] = Entry{static_cast<std::uint32_t>(i), static_cast<std::uint16_t>(slot), static_cast<std::uint8_t>(label[i] != 0), 0};
  }
  // Descending; the order within ties is irrelevant, as for Ranking.
  std::sort(ranked_.begin(), ranked_.end(),
            [&](const Entry& a, const Entry& b) { return score[a.customer] > score[b.customer]; });
  for (std::size_t i = 0; i < n; ++i)
    ranked_[i].block_start = i == 0 || score[ranked_[i].customer] != score[ranked_[i - 1].customer];
}

std::vector<std::pair<double, double>> RankedCustomers::lift_curve(int points) const {
  if (points < 1) throw std::invalid_argument("lift_curve: points must be at least 1, not " + std::to_string(points));
  std::vector<std::pair<double, double>> curve;
  if (ranked_.empty()) return curve;
  std::vector<double> fractions;
  for (int i = 1; i <= points; ++i)
    fractions.push_back(i == points ? 1.0 : static_cast<double>(i) / static_cast<double>(points));
  const double n = static_cast<double>(ranked_.size());
  for (const TopShare& t : metrics({}, fractions).top) curve.emplace_back(static_cast<double>(t.selected) / n, t.captured);
  return curve;
}

RankedCustomers RankedCustomers::subset(const std::vector<std::uint32_t>& members) const {
  constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> position(ranked_.size(), kAbsent);  // input position in the subset
  for (std::size_t k = 0; k < members.size(); ++k) {
    if (members[k] >= ranked_.size() || (k > 0 && members[k] <= members[k - 1]))
      throw std::invalid_argument("ranked customers: a subset's members must be increasing input positions below " +
                                  std::to_string(ranked_.size()));
    position[members[k]] = static_cast<std::uint32_t>(k);
  }
  // The subset's folds renumbered among themselves, in the same (increasing id) order.
  std::vector<std::uint8_t> used(folds_, 0);
  for (const Entry& e : ranked_)
    if (position[e.customer] != kAbsent && folds_ > 0) used[e.fold_slot] = 1;
  std::vector<std::uint16_t> slot(folds_, 0);
  RankedCustomers out;
  for (std::size_t f = 0; f < folds_; ++f)
    if (used[f]) slot[f] = static_cast<std::uint16_t>(out.folds_++);
  // The parent's order restricted to the members is a descending order of their scores; a tie
  // block starts where the parent's block changed since the last member kept.
  out.ranked_.reserve(members.size());
  bool new_block = true;
  for (const Entry& e : ranked_) {
    new_block = new_block || e.block_start;
    const std::uint32_t k = position[e.customer];
    if (k == kAbsent) continue;
    out.ranked_.push_back(Entry{k, folds_ > 0 ? slot[e.fold_slot] : std::uint16_t{0}, e.positive,
                                static_cast<std::uint8_t>(new_block)});
    new_block = false;
  }
  return out;
}

RankedCustomers::Metrics RankedCustomers::metrics(const std::vector<std::uint32_t>& weight,
                                                  const std::vector<double>& fractions) const {
  if (!weight.empty() && weight.size() != ranked_.size())
    throw std::invalid_argument("ranked customers: " + std::to_string(weight.size()) + " weights for " +
                                std::to_string(ranked_.size()) + " customers");
  for (double f : fractions) check_fraction(f);
  std::int64_t n = 0;
  if (weight.empty()) n = static_cast<std::int64_t>(ranked_.size());
  else
    for (std::uint32_t w : weight) n += w;
  // The top-k cut-offs, resolved in increasing k as the sweep passes them.
  const std::size_t cuts = fractions.size();
  std::vector<std::int64_t> selected(cuts);
  std::vector<double> in_top(cuts, 0.0);
  std::vector<std::size_t> by_k(cuts);
  for (std::size_t c = 0; c < cuts; ++c) selected[c] = selected_count(fractions[c], n), by_k[c] = c;
  std::sort(by_k.begin(), by_k.end(), [&](std::size_t a, std::size_t b) { return selected[a] < selected[b]; });
  std::size_t next_cut = 0;
  while (next_cut < cuts && selected[by_k[next_cut]] <= 0) ++next_cut;  // nothing selected: 0 positives

  // One pass over the tie blocks, as Ranking's: `end` customers and `cum_pos` positives so far.
  std::int64_t end = 0, cum_pos = 0, block_pos = 0, block_neg = 0;
  double wins = 0.0;
  // A block no customer of which was drawn (the resample has no such block) closes to nothing:
  // its term is +0 and `end` stays, so no cut-off is passed. Closing it anyway keeps the sweep
  // free of branches on the draws (a third of the customers are not drawn).
  auto close_block = [&] {
    const std::int64_t size = block_pos + block_neg;
    const std::int64_t start = end, before = cum_pos;
    wins += static_cast<double>(before) * static_cast<double>(block_neg) +
            0.5 * static_cast<double>(block_pos) * static_cast<double>(block_neg);
    end += size, cum_pos += block_pos;
    for (; next_cut < cuts && selected[by_k[next_cut]] <= end; ++next_cut) {
      const std::int64_t k = selected[by_k[next_cut]];
      in_top[by_k[next_cut]] = k == end ? static_cast<double>(cum_pos)
                                        : static_cast<double>(before) + static_cast<double>(block_pos) *
                                                                            static_cast<double>(k - start) /
                                                                            static_cast<double>(end - start);
    }
    block_pos = block_neg = 0;
  };
  // The same per fold: each fold's customers form their own ranking, whose tie blocks are the
  // parts of the global blocks in that fold.
  struct FoldSums {
    std::int64_t block = -1, above = 0, pos = 0, neg = 0, block_pos = 0, block_neg = 0;
    double wins = 0.0;
    void close() {
      wins += static_cast<double>(above) * static_cast<double>(block_neg) +
              0.5 * static_cast<double>(block_pos) * static_cast<double>(block_neg);
      above += block_pos, pos += block_pos, neg += block_neg;
      block_pos = block_neg = 0;
    }
  };
  std::vector<FoldSums> per_fold(folds_);
  std::int64_t block = -1;
  auto sweep = [&](auto weight_of) {
    for (const Entry& e : ranked_) {
      if (e.block_start) close_block(), ++block;
      const std::int64_t w = weight_of(e), pos = w * e.positive, neg = w - pos;
      block_pos += pos, block_neg += neg;
      if (folds_ == 0) continue;
      // A fold's block opened by a customer not drawn is empty and closes to nothing, as above.
      FoldSums& f = per_fold[e.fold_slot];
      if (f.block != block) f.close(), f.block = block;
      f.block_pos += pos, f.block_neg += neg;
    }
  };
  if (weight.empty())
    sweep([](const Entry&) { return std::int64_t{1}; });
  else
    sweep([&weight](const Entry& e) { return static_cast<std::int64_t>(weight[e.customer]); });
  close_block();

  Metrics m;
  const std::int64_t negatives = n - cum_pos;
  m.roc_auc = cum_pos == 0 || negatives == 0 ? kNaN : wins / (static_cast<double>(cum_pos) * static_cast<double>(negatives));
  for (std::size_t c = 0; c < cuts; ++c) m.top.push_back(top_share_of(fractions[c], selected[c], in_top[c], cum_pos, n));
  if (folds_ > 0) {
    double sum = 0;
    for (FoldSums& f : per_fold) {
      f.close();
      if (f.pos == 0 || f.neg == 0) continue;
      sum += f.wins / (static_cast<double>(f.pos) * static_cast<double>(f.neg));
      ++m.fold_auc.folds;
    }
    m.fold_auc.mean = m.fold_auc.folds > 0 ? sum / static_cast<double>(m.fold_auc.folds) : kNaN;
  }
  return m;
}

}  // namespace reinforcer
