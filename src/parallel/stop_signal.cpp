#include "reinforcer/parallel/stop_signal.hpp"

#include <csignal>
#include <initializer_list>

namespace reinforcer {
namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }
}  // namespace

void install_stop_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  // SIGINT too: Ctrl-C on a long run keeps its work (a checkpoint, exit 75), as a time limit does.
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) sigaction(sig, &sa, nullptr);
}

bool stop_signal_received() { return g_stop != 0; }
void reset_stop_signal() { g_stop = 0; }

}  // namespace reinforcer
