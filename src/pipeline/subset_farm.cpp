// The search space, farming subsets out over the ranks, and the memo of scores.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include "reinforcer/pipeline/subset_search.hpp"
#include "reinforcer/core/bytes.hpp"

namespace reinforcer {

int subset_size(ElementSet subset) { return __builtin_popcount(subset); }

void SearchSpace::check() const {
  if (elements < 1 || elements > kMaxSearchElements)
    throw std::invalid_argument("subset search: " + std::to_string(elements) + " elements; the search takes 1 to " +
                                std::to_string(kMaxSearchElements));
  if (names.size() != static_cast<std::size_t>(elements))
    throw std::invalid_argument("subset search: " + std::to_string(names.size()) + " names for " +
                                std::to_string(elements) + " elements");
  if (!std::isfinite(element_cost))
    throw std::invalid_argument("subset search: the cost per element is not a finite number");
}

double SearchSpace::net(ElementSet subset, double score) const {
  return score - element_cost * static_cast<double>(subset_size(subset));
}

std::string SearchSpace::describe(ElementSet subset) const {
  std::string text = "{";
  for (int i = 0; i < elements; ++i) {
    if (!(subset >> i & 1U)) continue;
    if (text.size() > 1) text += ", ";
    text += static_cast<std::size_t>(i) < names.size() ? names[static_cast<std::size_t>(i)] : std::to_string(i);
  }
  return text + "}";
}

std::vector<std::vector<double>> score_subsets(const Communicator& comm, const std::vector<ElementSet>& subsets,
                                               const std::vector<int>& replicates, const BatchScorer& scorer,
                                               const FarmSettings& farm) {
  const auto per_replicate = static_cast<std::int64_t>(subsets.size());
  const auto total = per_replicate * static_cast<std::int64_t>(replicates.size());
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  if (total == 0) return std::vector<std::vector<double>>(replicates.size());
  const std::int64_t chunk =
      farm.chunk > 0 ? farm.chunk : std::clamp<std::int64_t>(total / (16 * std::int64_t{comm.size()}), 1, 256);
  // Work items: chunks of one replicate's subsets, every replicate's in turn, so the refits
  // of a bootstrap spread over all ranks together.
  const std::int64_t chunks = (per_replicate + chunk - 1) / chunk;
  const std::int64_t items = chunks * static_cast<std::int64_t>(replicates.size());
  const auto range = [&](std::int64_t item) {
    const std::int64_t begin = (item % chunks) * chunk;
    return std::make_pair(begin, std::min(per_replicate, begin + chunk));
  };

  // What this rank scored: per item, its number then its scores.
  std::string mine;
  std::vector<ElementSet> batch;
  std::int64_t done = 0;
  const auto score_item = [&](std::int64_t item) {
    const auto [begin, end] = range(item);
    batch.assign(subsets.begin() + begin, subsets.begin() + end);
    const std::vector<double> scores = scorer(batch, replicates[static_cast<std::size_t>(item / chunks)]);
    if (scores.size() != batch.size())
      throw std::logic_error("subset scorer returned " + std::to_string(scores.size()) + " scores for " +
                             std::to_string(batch.size()) + " subsets");
    ByteWriter w(mine);
    w.put(item);
    w.put_values(scores);
    // Rank 0 sees the items handed out so far (its own and the others'): the job's progress.
    done = std::max(done, (item / chunks) * per_replicate + end);
    if (comm.is_root() && farm.progress) farm.progress({done, total, seconds()});
  };
  if (items <= comm.size()) {
    // No more items than ranks (a Q-learning step): one each, without a shared counter's
    // collective set-up.
    if (comm.rank() < items) score_item(comm.rank());
  } else {
    Communicator::Counter counter = comm.shared_counter(0);  // collective; let go together below
    for (std::int64_t item = counter.next(); item < items; item = counter.next()) score_item(item);
  }
  // Gather and broadcast the bytes (not a sum of zero-filled vectors, which would turn -0.0
  // into +0.0 on some rank counts only).
  std::string all;
  const std::vector<std::string> parts = comm.gather(mine, 0);
  if (comm.is_root()) {
    std::vector<double> scores(static_cast<std::size_t>(total), 0.0);
    std::vector<char> seen(static_cast<std::size_t>(items), 0);
    for (const std::string& part : parts) {
      ByteReader in(part, "a rank's subset scores");
      while (!in.done()) {
        const auto item = in.get<std::int64_t>();
        if (item < 0 || item >= items) throw std::logic_error("score_subsets: work item " + std::to_string(item) + " out of range");
        const auto [begin, end] = range(item);
        in.get_values(scores.data() + (item / chunks) * per_replicate + begin, static_cast<std::size_t>(end - begin));
        seen[static_cast<std::size_t>(item)] = 1;
      }
    }
    if (std::count(seen.begin(), seen.end(), 0) != 0) throw std::logic_error("score_subsets: a work item was lost");
    all = bytes_of(scores);
  }
  comm.broadcast(all, 0);
  if (all.size() != static_cast<std::size_t>(total) * sizeof(double)) throw std::logic_error("score_subsets: broadcast size mismatch");
  std::vector<std::vector<double>> out;
  ByteReader in(all, "the subset scores");
  for (std::size_t r = 0; r < replicates.size(); ++r) out.push_back(in.get_vector<double>(static_cast<std::size_t>(per_replicate)));
  if (comm.is_root() && farm.progress) farm.progress({total, total, seconds()});
  return out;
}

std::vector<double> score_subsets(const Communicator& comm, const std::vector<ElementSet>& subsets, int replicate,
                                  const BatchScorer& scorer, const FarmSettings& farm) {
  return std::move(score_subsets(comm, subsets, std::vector<int>{replicate}, scorer, farm).front());
}

double ScoreMemo::at(ElementSet subset) const {
  const auto it = index_.find(subset);
  if (it == index_.end()) throw std::logic_error("ScoreMemo: subset " + std::to_string(subset) + " not scored yet");
  return order_[it->second].second;
}

void ScoreMemo::score_missing(const Communicator& comm, const std::vector<ElementSet>& subsets,
                              const BatchScorer& scorer, const FarmSettings& farm) {
  std::vector<ElementSet> missing;
  std::unordered_set<ElementSet> listed;
  for (ElementSet s : subsets)
    if (!contains(s) && listed.insert(s).second) missing.push_back(s);
  if (missing.empty()) return;
  const std::vector<double> scores = score_subsets(comm, missing, -1, scorer, farm);
  for (std::size_t k = 0; k < missing.size(); ++k) {
    if (!std::isfinite(scores[k]))
      throw std::logic_error("subset scorer returned a non-finite main-fit score for subset " +
                             std::to_string(missing[k]));
    index_.emplace(missing[k], order_.size());
    order_.emplace_back(missing[k], scores[k]);
  }
}

}  // namespace reinforcer
