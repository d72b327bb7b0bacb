#pragma once
// Whether the customers can support an analysis at all. Every command asks these questions of
// its data in one place, so that data too thin for a result is refused (InputError, one line:
// what is lacking, in which file, how to fix it) or warned about -- never turned into a table
// of meaningless numbers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"

namespace reinforcer {

// Refuses customers (positions in table) that nothing can be learned from: fewer than two, or
// not one subscriber among them. `file` names the file they came from; `who` says which
// customers they are, e.g. "dated customers" or "fitting customers (--fit-on train)".
void require_learnable(const CustomerTable& table, const std::vector<std::size_t>& customers, const std::string& file,
                       const std::string& who);
// The same over every dated customer of the table.
void require_learnable(const CustomerTable& table, const std::string& file);

// Held-out subscribers of each cross-validation fold (dated prospects at t0, as the
// evaluation holds them out); folds = the table's highest fold + 1 when not given (0).
std::vector<std::int64_t> fold_subscribers(const CustomerTable& table, int folds = 0);

// Refuses cross-validation when a fold holds out no subscriber: its AUC and log-likelihood
// would be undefined, and every figure pooled over folds would hide it.
void require_fold_subscribers(const CustomerTable& table, const std::string& file);

// What the data can support, as warnings (empty when all is well): no subscriber at all, a
// cohort with customers but no subscriber, folds that hold out no subscriber.
std::vector<std::string> data_support_warnings(const CustomerTable& table, int folds, const std::string& file);

}  // namespace reinforcer
