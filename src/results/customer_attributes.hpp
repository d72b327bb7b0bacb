#pragma once
// /customer_attributes: the declared decision-time attributes beside /customers (schema:
// docs/HDF5_SCHEMA.md). Files written before attributes existed lack the group: no attributes.
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/data/quality_report.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

inline const std::string kCustomerAttributesGroup = "customer_attributes";

// `pooling` (one per attribute, or empty) adds how the rare levels were pooled.
void write_customer_attributes(const h5::Group& root, const CustomerTable& table,
                               const std::vector<AttributePooling>& pooling);
// Reads the group into table.attributes (table.customers already read); InputError naming
// `path` if a code is out of range or the lengths disagree.
void read_customer_attributes(const h5::Group& root, const std::string& path, CustomerTable& table);

}  // namespace reinforcer
