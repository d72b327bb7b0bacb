#include "reinforcer/data/data_support.hpp"

#include <algorithm>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/quality_report_text.hpp"

namespace reinforcer {
namespace {

// "1,932 dated customers", "1 dated customer": `who` names customers in the plural.
std::string customers_text(std::int64_t n, std::string who) {
  const auto at = who.find("customers");
  if (n == 1 && at != std::string::npos) who.erase(at + 8, 1);
  return with_thousands(n) + " " + who;
}

bool held_out_subscriber(const Customer& c) {
  return c.subscribed && c.cohort != Cohort::undated && !subscribed_by_t0(c);
}

}  // namespace

void require_learnable(const CustomerTable& table, const std::vector<std::size_t>& customers, const std::string& file,
                       const std::string& who) {
  const auto n = static_cast<std::int64_t>(customers.size());
  std::int64_t subscribers = 0;
  for (std::size_t i : customers) subscribers += table.customers[i].subscribed;
  if (n < 2)
    throw InputError(file + " holds " + customers_text(n, who) +
                     ": no funnel, fold or interval can be estimated from fewer than two customers; prepare the whole export");
  if (subscribers == 0)
    throw InputError(file + " holds 0 subscribers among " + customers_text(n, who) +
                     ": nothing to learn a subscription from; prepare an export that includes subscribed customers");
  if (subscribers == n)
    throw InputError(file + ": every one of its " + customers_text(n, who) +
                     " subscribed: nothing tells a subscriber from anyone else; prepare an export that includes the "
                     "customers who did not subscribe");
}

void require_learnable(const CustomerTable& table, const std::string& file) {
  std::vector<std::size_t> dated;
  for (std::size_t i = 0; i < table.customers.size(); ++i)
    if (table.customers[i].cohort != Cohort::undated) dated.push_back(i);
  require_learnable(table, dated, file, "dated customers");
}

std::vector<std::int64_t> fold_subscribers(const CustomerTable& table, int folds) {
  if (folds <= 0)
    for (const Customer& c : table.customers) folds = std::max(folds, c.fold + 1);
  std::vector<std::int64_t> per_fold(static_cast<std::size_t>(std::max(folds, 0)), 0);
  for (const Customer& c : table.customers)
    if (c.fold >= 0 && c.fold < folds && held_out_subscriber(c)) ++per_fold[static_cast<std::size_t>(c.fold)];
  return per_fold;
}

void require_fold_subscribers(const CustomerTable& table, const std::string& file) {
  const std::vector<std::int64_t> per_fold = fold_subscribers(table);
  if (per_fold.empty())
    throw InputError(file + ": the customers have no cross-validation folds; prepare with --folds 5");
  std::int64_t total = 0;
  for (auto n : per_fold) total += n;
  const auto empty = std::find(per_fold.begin(), per_fold.end(), 0);
  if (empty == per_fold.end()) return;
  const std::string fix = total >= 2 ? "prepare again with --folds " + std::to_string(total) + " or fewer"
                                     : "cross-validation needs at least 2 subscribers; prepare an export that includes more";
  throw InputError(file + ": fold " + std::to_string(empty - per_fold.begin()) + " of " + std::to_string(per_fold.size()) +
                   " holds out no subscriber (" + std::to_string(total) + (total == 1 ? " held-out subscriber for " : " held-out subscribers for ") +
                   std::to_string(per_fold.size()) + " folds), so its AUC and log-likelihood say nothing; " + fix);
}

std::vector<std::string> data_support_warnings(const CustomerTable& table, int folds, const std::string& file) {
  std::vector<std::string> w;
  std::int64_t dated = 0, subscribers = 0;
  std::int64_t cohort_customers[3] = {0, 0, 0}, cohort_subscribers[3] = {0, 0, 0};
  for (const Customer& c : table.customers) {
    const auto k = static_cast<std::size_t>(c.cohort);
    if (k < 3) ++cohort_customers[k], cohort_subscribers[k] += c.subscribed;
    if (c.cohort == Cohort::undated) continue;
    ++dated;
    subscribers += c.subscribed;
  }
  if (dated < 2) {
    w.push_back(file + " holds " + with_thousands(dated) + " dated customer" + (dated == 1 ? "" : "s") +
                ": train, evaluate and select-features need at least two, and a subscriber among them");
    return w;
  }
  if (subscribers == 0 || subscribers == dated) {
    w.push_back(file + (subscribers == 0 ? " holds 0 subscribers among " + with_thousands(dated) +
                                               " dated customers: there is nothing to learn a subscription from"
                                         : ": every one of its " + with_thousands(dated) +
                                               " dated customers subscribed: nothing tells a subscriber from anyone else") +
                " (train, evaluate and select-features will refuse it); prepare an export that includes " +
                (subscribers == 0 ? "subscribed customers" : "the customers who did not subscribe"));
    return w;
  }
  for (Cohort cohort : {Cohort::outbound, Cohort::inbound}) {
    const auto k = static_cast<std::size_t>(cohort);
    if (cohort_customers[k] > 0 && cohort_subscribers[k] == 0)
      w.push_back(file + ": the " + std::string(kCohortNames[k]) + " cohort holds " + customers_text(cohort_customers[k], "customers") +
                  " and no subscriber: its targeting figures are not available (n/a) and its model borrows "
                  "every subscription rate from the other cohort");
  }
  const std::vector<std::int64_t> per_fold = fold_subscribers(table, folds);
  std::int64_t without = 0;
  for (auto n : per_fold) without += n == 0;
  if (without > 0)
    w.push_back(file + ": " + std::to_string(without) + " of " + std::to_string(per_fold.size()) +
                " cross-validation folds hold out no subscriber (" + std::to_string(subscribers) +
                " dated subscribers): evaluate and select-features will refuse them; prepare with --folds " +
                std::to_string(std::max<std::int64_t>(2, std::min<std::int64_t>(subscribers, 100))) + " or fewer");
  return w;
}

}  // namespace reinforcer
