#include "reinforcer/data/crm_schema.hpp"

namespace reinforcer {

std::string cell_excerpt(std::string_view cell) {
  constexpr std::size_t kShown = 40;
  if (cell.size() <= kMaxCellChars) return std::string(cell);
  std::size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(cell[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  std::string count = std::to_string(cell.size());
  for (std::size_t k = count.size(); k > 3; k -= 3) count.insert(k - 3, ",");
  return std::string(cell.substr(0, cut)) + "... (" + count + " characters)";
}

}  // namespace reinforcer
