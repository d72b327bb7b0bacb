#pragma once
// Ranking quality of a score: ROC AUC, lift and share captured in the top of the ranking.
//
// Conventions shared by every function here:
// - score[i] and label[i] describe customer i; a label is positive when it is non-zero.
// - Higher scores rank first.
// - Ties are never broken by input order, so every result is a function of the multiset
//   of (score, label) pairs: shuffling the customers changes nothing.
// - score and label must have the same length and no score may be NaN
//   (std::invalid_argument otherwise).
#include <cstdint>
#include <utility>
#include <vector>

namespace reinforcer {

// ROC AUC as the Mann-Whitney statistic: the share of (positive, negative) pairs in which the
// positive scores higher, a tied pair counting 1/2 (equivalently, average ranks for ties).
// O(n log n). NaN when there are no positives or no negatives.
double roc_auc(const std::vector<double>& score, const std::vector<std::uint8_t>& label);

// The mean over folds of the AUC within each fold, over the folds holding both classes
// (`folds` of them; NaN when none). Scores of different folds come from different models and
// are never compared: a score constant within each fold scores exactly 0.5, where pooling the
// folds can score it anywhere.
struct FoldAuc {
  double mean = 0;
  std::int64_t folds = 0;
};
FoldAuc fold_stratified_auc(const std::vector<double>& score, const std::vector<std::uint8_t>& label,
                            const std::vector<std::int32_t>& fold);

// The top `fraction` of customers by score.
//
// selected = ceil(fraction * n) customers (a product within 1e-9 of an integer counts as
// that integer, so 0.7 * 10 selects 7, not 8). fraction must be in [0, 1].
//
// Tie rule: when a block of equal scores straddles the cut-off, so that only m of its g
// customers fit, the block contributes (m / g) x (its positives) -- the expected count under
// a random order within the block. positives_selected is therefore fractional in that case,
// and lift and captured are computed from it; nothing depends on the input order.
//
//   lift     = (positives_selected / selected) / (all positives / n)   (NaN: no positives or
//                                                                        nothing selected)
//   captured = positives_selected / all positives                      (NaN: no positives)
struct TopShare {
  double fraction = 0.0;            // as requested
  double lift = 0.0;
  double captured = 0.0;
  std::int64_t selected = 0;        // ceil(fraction * n)
  double positives_selected = 0.0;  // expected positives among the selected (tie rule above)
};
TopShare top_share(const std::vector<double>& score, const std::vector<std::uint8_t>& label, double fraction);

// Cumulative gains curve at `points` (>= 1) evenly spaced requested fractions f = i / points,
// i = 1..points. Each pair is (selected / n, captured) for the top ceil(f * n) customers with
// the tie rule of top_share; the first member is the share actually contacted, which equals
// f whenever f * n is a whole number. The last pair is (1, 1) when there are positives.
// Empty input gives an empty curve; no positives gives NaN shares captured.
std::vector<std::pair<double, double>> lift_curve(const std::vector<double>& score,
                                                  const std::vector<std::uint8_t>& label, int points);

// The customers ranked once, for several metrics of the same scores (each function above
// ranks afresh: a bootstrap replicate asks for nine metrics of one resample). Same
// conventions and results; `caller` names the caller in the constructor's errors.
class Ranking {
 public:
  Ranking(const std::vector<double>& score, const std::vector<std::uint8_t>& label, const char* caller = "ranking");
  double roc_auc() const;
  TopShare top_share(double fraction) const;
  std::vector<std::pair<double, double>> lift_curve(int points) const;

 private:
  // Expected positives among the top k (0 <= k <= n), a block straddling k counted pro rata.
  double positives_in_top(std::int64_t k) const;

  // Blocks of equal scores, highest first: block b covers positions [end_[b-1], end_[b]) of
  // the ranking and cum_pos_[b] positives lie in blocks 0..b.
  std::vector<std::int64_t> end_;
  std::vector<std::int64_t> cum_pos_;
  std::int64_t n_ = 0;
  std::int64_t positives_ = 0;
};

// The customers ranked once by score, for the metrics of many resamples of them. A resample
// is a multiplicity per customer (how often it was drawn; 0: not drawn), so its metrics come
// from one sweep over the ranking -- linear in customers -- instead of ranking the resample
// afresh. Every metric equals, bit for bit, what Ranking and fold_stratified_auc give on the
// materialised resample (each customer repeated as often as it was drawn): the tie blocks are
// the same, only their sizes and positives are weighted, and the sums run in the same order.
class RankedCustomers {
 public:
  // fold may be empty (no fold-stratified AUC) or hold each customer's fold; at most 65,536
  // distinct folds. Same argument checks as Ranking.
  RankedCustomers(const std::vector<double>& score, const std::vector<std::uint8_t>& label,
                  const std::vector<std::int32_t>& fold, const char* caller = "ranking");

  struct Metrics {
    double roc_auc = 0.0;
    std::vector<TopShare> top;  // one per requested fraction, in the order asked
    FoldAuc fold_auc;           // {0, 0} when constructed without folds
  };
  // weight: the multiplicity of each customer in input order (every customer once when empty).
  // fractions must lie in [0, 1]. Allocates only the per-fold sums and the result.
  Metrics metrics(const std::vector<std::uint32_t>& weight, const std::vector<double>& fractions) const;
  // Ranking::lift_curve of these customers, each once (the same pairs, bit for bit).
  std::vector<std::pair<double, double>> lift_curve(int points) const;
  // The customers at input positions `members` (increasing) ranked on their own, without a new
  // sort: input position k of the result is members[k]. Every metric equals, bit for bit, that
  // of a RankedCustomers constructed from their scores, labels and folds.
  RankedCustomers subset(const std::vector<std::uint32_t>& members) const;
  std::size_t size() const { return ranked_.size(); }

 private:
  struct Entry {
    std::uint32_t customer;    // input position
    std::uint16_t fold_slot;   // rank of the customer's fold among the distinct folds
    std::uint8_t positive;
    std::uint8_t block_start;  // 1: its score differs from the previous entry's (a new tie block)
  };
  RankedCustomers() = default;
  std::vector<Entry> ranked_;  // highest score first
  std::size_t folds_ = 0;      // distinct folds (0: none given)
};

}  // namespace reinforcer
