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
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument("top_share: fraction " + std::to_string(fraction) + " is not in [0, 1]");
  TopShare t;
  t.fraction = fraction;
  t.selected = selected_count(fraction, n_);
  t.positives_selected = positives_in_top(t.selected);
  if (positives_ == 0) {
    t.lift = t.captured = kNaN;
    return t;
  }
  const double all_pos = static_cast<double>(positives_);
  t.captured = t.positives_selected / all_pos;
  t.lift = t.selected == 0 ? kNaN
                           : (t.positives_selected / static_cast<double>(t.selected)) / (all_pos / static_cast<double>(n_));
  return t;
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

}  // namespace reinforcer
