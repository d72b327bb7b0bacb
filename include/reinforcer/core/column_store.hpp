#pragma once
// A [rows, columns] matrix of doubles filled a whole column at a time and read a block of rows
// at a time: in memory, or in an unnamed scratch file so that a matrix larger than the memory
// it deserves (the call list's refit scores: 757 MB at 1M customers, 7.6 GB at 10M) never has
// to be resident. Columns are stored one after another, so writing one is a single write.
#include <cstddef>
#include <string>
#include <vector>

namespace reinforcer {

class ColumnStore {
 public:
  ColumnStore() = default;
  // In memory when `directory` is empty; else in a file created there without a name (Linux's
  // O_TMPFILE; elsewhere created and unlinked at once): nothing is left behind, whatever ends
  // the process. PathError if it cannot be created, or if the directory's file system has less
  // free space than the whole matrix may take (rows x columns doubles), before any is written.
  ColumnStore(std::size_t rows, std::size_t columns, const std::string& directory);
  ~ColumnStore();
  ColumnStore(ColumnStore&& other) noexcept;
  ColumnStore& operator=(ColumnStore&& other) noexcept;
  ColumnStore(const ColumnStore&) = delete;
  ColumnStore& operator=(const ColumnStore&) = delete;

  std::size_t rows() const { return rows_; }
  std::size_t columns() const { return columns_; }
  bool spilled() const { return fd_ >= 0; }

  // Column c from `values` (rows() of them). Threads may put different columns at once.
  // A column never put reads as NaN.
  void put_column(std::size_t c, const double* values) const;
  void get_column(std::size_t c, double* values) const;
  // Rows [first, first + count) of columns [c0, c0 + n), row-major into out (count x n).
  void get_rows(std::size_t first, std::size_t count, std::size_t c0, std::size_t n, double* out) const;

 private:
  // Writes data (never changed) or reads into it.
  void transfer(bool write, std::size_t offset, char* data, std::size_t bytes) const;
  std::size_t rows_ = 0, columns_ = 0;
  mutable std::vector<double> memory_;  // columns one after another, when not spilled
  mutable std::vector<unsigned char> written_;  // per column: put yet
  int fd_ = -1;
  std::string directory_;  // for error messages
};

}  // namespace reinforcer
