#include "reinforcer/eval/ranking_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace reinforcer {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Scored {
  double score;
  bool positive;
};

// (score, positive) pairs, checked, sorted by score descending (order within ties is
// irrelevant to everything computed from it).
std::vector<Scored> sorted_descending(const std::vector<double>& score, const std::vector<std::uint8_t>& label,
                                      const char* who) {
  if (score.size() != label.size())
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(score.size()) + " scores but " +
                                std::to_string(label.size()) + " labels");
  std::vector<Scored> v(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (std::isnan(score[i])) throw std::invalid_argument(std::string(who) + ": score " + std::to_string(i) + " is NaN");
    v[i] = Scored{score[i], label[i] != 0};
  }
  std::sort(v.begin(), v.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
  return v;
}

// Blocks of equal scores in the descending order: block b covers positions
// [end[b-1], end[b]) and cum_pos[b] positives lie in blocks 0..b.
struct Blocks {
  std::vector<std::int64_t> end;
  std::vector<std::int64_t> cum_pos;
  std::int64_t n = 0;
  std::int64_t positives = 0;

  explicit Blocks(const std::vector<Scored>& v) : n(static_cast<std::int64_t>(v.size())) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      positives += v[i].positive;
      if (i + 1 == v.size() || v[i + 1].score != v[i].score) {
        end.push_back(static_cast<std::int64_t>(i + 1));
        cum_pos.push_back(positives);
      }
    }
  }

  // Expected positives among the top k (0 <= k <= n), a straddling block counted pro rata.
  double positives_in_top(std::int64_t k) const {
    if (k <= 0) return 0.0;
    const auto b = static_cast<std::size_t>(std::lower_bound(end.begin(), end.end(), k) - end.begin());
    const std::int64_t start = b == 0 ? 0 : end[b - 1];
    const std::int64_t before = b == 0 ? 0 : cum_pos[b - 1];
    if (k == end[b]) return static_cast<double>(cum_pos[b]);
    const std::int64_t block_pos = cum_pos[b] - before;
    return static_cast<double>(before) +
           static_cast<double>(block_pos) * static_cast<double>(k - start) / static_cast<double>(end[b] - start);
  }
};

// ceil(fraction * n), a product within 1e-9 (relative) of an integer taken as that integer.
std::int64_t selected_count(double fraction, std::int64_t n) {
  const double x = fraction * static_cast<double>(n);
  const double r = std::round(x);
  const double k = std::abs(x - r) <= 1e-9 * std::max(1.0, r) ? r : std::ceil(x);
  return std::clamp(static_cast<std::int64_t>(k), std::int64_t{0}, n);
}

}  // namespace

double roc_auc(const std::vector<double>& score, const std::vector<std::uint8_t>& label) {
  const std::vector<Scored> v = sorted_descending(score, label, "roc_auc");
  // Walk from the top: each positive beats every negative in a later block and ties the
  // negatives of its own block. Sums of whole and half counts are exact in a double.
  double wins = 0.0;
  std::int64_t pos_total = 0, neg_total = 0;
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t j = i;
    std::int64_t p = 0, q = 0;
    for (; j < v.size() && v[j].score == v[i].score; ++j) (v[j].positive ? p : q) += 1;
    // Positives seen so far (above this block) beat this block's negatives.
    wins += static_cast<double>(pos_total) * static_cast<double>(q) + 0.5 * static_cast<double>(p) * static_cast<double>(q);
    pos_total += p;
    neg_total += q;
    i = j;
  }
  if (pos_total == 0 || neg_total == 0) return kNaN;
  return wins / (static_cast<double>(pos_total) * static_cast<double>(neg_total));
}

TopShare top_share(const std::vector<double>& score, const std::vector<std::uint8_t>& label, double fraction) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument("top_share: fraction " + std::to_string(fraction) + " is not in [0, 1]");
  const Blocks blocks(sorted_descending(score, label, "top_share"));
  TopShare t;
  t.fraction = fraction;
  t.selected = selected_count(fraction, blocks.n);
  t.positives_selected = blocks.positives_in_top(t.selected);
  if (blocks.positives == 0) {
    t.lift = t.captured = kNaN;
    return t;
  }
  const double all_pos = static_cast<double>(blocks.positives);
  t.captured = t.positives_selected / all_pos;
  t.lift = t.selected == 0 ? kNaN
                           : (t.positives_selected / static_cast<double>(t.selected)) / (all_pos / static_cast<double>(blocks.n));
  return t;
}

std::vector<std::pair<double, double>> lift_curve(const std::vector<double>& score,
                                                  const std::vector<std::uint8_t>& label, int points) {
  if (points < 1) throw std::invalid_argument("lift_curve: points must be at least 1, not " + std::to_string(points));
  const Blocks blocks(sorted_descending(score, label, "lift_curve"));
  std::vector<std::pair<double, double>> curve;
  if (blocks.n == 0) return curve;
  curve.reserve(static_cast<std::size_t>(points));
  for (int i = 1; i <= points; ++i) {
    const double f = i == points ? 1.0 : static_cast<double>(i) / static_cast<double>(points);
    const std::int64_t k = selected_count(f, blocks.n);
    const double captured = blocks.positives == 0 ? kNaN : blocks.positives_in_top(k) / static_cast<double>(blocks.positives);
    curve.emplace_back(static_cast<double>(k) / static_cast<double>(blocks.n), captured);
  }
  return curve;
}

}  // namespace reinforcer
