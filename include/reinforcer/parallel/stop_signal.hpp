#pragma once
// SIGTERM and SIGUSR1 (what SLURM sends before a time limit) ask a long run to stop at the
// end of the current sync round, after writing a checkpoint.
namespace reinforcer {

void install_stop_signal_handlers();
bool stop_signal_received();
void reset_stop_signal();  // for tests

}  // namespace reinforcer
