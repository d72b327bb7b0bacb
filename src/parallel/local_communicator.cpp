#include <functional>
#include <string>
#include <utility>

#include "reinforcer/parallel/communicator.hpp"

namespace reinforcer {
namespace {

class LocalCommunicator final : public CommunicatorImpl {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "local"; }
  void sum_in_place(std::int64_t*, std::size_t) const override {}
  void sum_in_place(double*, std::size_t) const override {}
  void max_in_place(std::int64_t*, std::size_t) const override {}
  void or_in_place(std::uint64_t*, std::size_t) const override {}
  void broadcast(std::string&, int) const override {}
  void gather_each(const std::string& bytes, int, const std::function<void(int, std::string&)>& take) const override {
    std::string part = bytes;
    take(0, part);
  }
  void barrier() const override {}
  std::shared_ptr<const CommunicatorImpl> split(int) const override { return std::make_shared<LocalCommunicator>(); }
  std::shared_ptr<SharedCounterImpl> shared_counter(std::int64_t start) const override {
    struct Local final : SharedCounterImpl {
      std::int64_t value;
      explicit Local(std::int64_t v) : value(v) {}
      std::int64_t fetch_add(std::int64_t n) override { return std::exchange(value, value + n); }
    };
    return std::make_shared<Local>(start);
  }
};

}  // namespace

Communicator local_communicator() { return Communicator(std::make_shared<LocalCommunicator>()); }

}  // namespace reinforcer
