#pragma once
// The cleaned customers, one row per CRM row, with the fields the contract derives.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/data/civil_date.hpp"
#include "reinforcer/data/crm_schema.hpp"

namespace reinforcer {

struct Customer {
  std::int64_t id = 0;
  std::int64_t sheet_row = 0;
  std::int32_t country = -1;      // index into CustomerTable::countries; -1 unknown
  std::uint8_t education = 0;     // 1..30 = B1..B30; 0 unknown
  std::uint8_t status = 0;        // index into kStatusValues
  std::uint8_t stage = 0;         // index into kStageValues
  bool platform_signup_declined = false;  // an explicit "No"
  Day first_contact = kNoDay;
  Day last_contact = kNoDay;
  std::array<Day, kMilestones> milestone{kNoDay, kNoDay, kNoDay, kNoDay, kNoDay, kNoDay};
  bool subscribed = false;  // the label
  Cohort cohort = Cohort::undated;
  Day t0 = kNoDay;          // decision time
  Split split = Split::none;
  std::int8_t fold = -1;    // -1: not in any fold (undated)
};

// Subscribed on or before the decision time (a valid Subscribed date <= t0): no prospect then.
// Such a customer keeps its label and its place in descriptive tables and in the hazards, but
// is set aside from targeting, training starts and the call list (CONTRACT.md).
inline bool subscribed_by_t0(const Customer& c) {
  const Day sub = c.milestone[static_cast<std::size_t>(Milestone::subscribed)];
  return c.t0 != kNoDay && sub != kNoDay && sub <= c.t0;
}

// A categorical column of the export that the user declared known at decision time
// (`prepare --attributes`), kept beside the customers so Customer stays 64 bytes.
struct Attribute {
  std::string name;                 // the export's column header, as written there
  std::vector<std::string> levels;  // cleaned level names; rare ones pooled into kPooledLevel
  std::vector<std::int32_t> code;   // per customer: index into levels; -1 unknown (empty or rejected)
};
inline constexpr const char* kPooledLevel = "other";

struct CustomerTable {
  std::vector<Customer> customers;
  std::vector<std::string> countries;  // cleaned names, in order of first appearance
  std::vector<Attribute> attributes;   // declared decision-time attributes, in the order declared
};

// The attributes' names, in table order (what feature masks name them by).
std::vector<std::string> attribute_names(const CustomerTable& table);

std::string education_name(std::uint8_t code);  // "B7"; "" for unknown

}  // namespace reinforcer
