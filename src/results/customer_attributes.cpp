#include "customer_attributes.hpp"

#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/attributes.hpp"

namespace reinforcer {

void write_customer_attributes(const h5::Group& root, const CustomerTable& table,
                               const std::vector<AttributePooling>& pooling) {
  if (table.attributes.empty()) return;
  const h5::Group g = root.create_group(kCustomerAttributesGroup);
  g.set_attribute("count", static_cast<std::int64_t>(table.attributes.size()));
  g.set_attribute("pooling_rule", "a level held by fewer than max(" + std::to_string(kPoolMinCustomers) + ", " +
                                      std::to_string(kPoolShare * 100).substr(0, 3) +
                                      "% of dated customers) dated customers is pooled into '" + kPooledLevel + "'");
  for (std::size_t k = 0; k < table.attributes.size(); ++k) {
    const Attribute& a = table.attributes[k];
    if (a.code.size() != table.customers.size())
      throw std::logic_error("attribute " + a.name + ": " + std::to_string(a.code.size()) + " codes for " +
                             std::to_string(table.customers.size()) + " customers");
    const h5::Group ga = g.create_group(std::to_string(k));
    ga.set_attribute("name", a.name);
    ga.write_strings("levels", a.levels);
    ga.write_vector("code", a.code);
    if (k < pooling.size()) {
      ga.set_attribute("levels_pooled", pooling[k].levels_pooled);
      ga.set_attribute("customers_pooled", pooling[k].customers_pooled);
      ga.set_attribute("pooling_threshold", pooling[k].threshold);
    }
  }
}

void read_customer_attributes(const h5::Group& root, const std::string& path, CustomerTable& table) {
  table.attributes.clear();
  if (!root.exists(kCustomerAttributesGroup)) return;
  const h5::Group g = root.open_group(kCustomerAttributesGroup);
  const std::int64_t count = g.int_attribute("count");
  for (std::int64_t k = 0; k < count; ++k) {
    const std::string where = path + ": " + kCustomerAttributesGroup + "/" + std::to_string(k);
    if (!g.exists(std::to_string(k))) throw InputError(where + " is missing (count says " + std::to_string(count) + ")");
    const h5::Group ga = g.open_group(std::to_string(k));
    Attribute a;
    a.name = ga.string_attribute("name");
    a.levels = ga.read_strings("levels");
    a.code = ga.read_int32_vector("code");
    if (a.code.size() != table.customers.size())
      throw InputError(where + ": " + std::to_string(a.code.size()) + " codes for " +
                       std::to_string(table.customers.size()) + " customers");
    for (std::int32_t c : a.code)
      if (c < -1 || c >= static_cast<std::int32_t>(a.levels.size()))
        throw InputError(where + ": code " + std::to_string(c) + " is not -1 or a level index (0.." +
                         std::to_string(a.levels.size()) + ")");
    table.attributes.push_back(std::move(a));
  }
}

}  // namespace reinforcer
