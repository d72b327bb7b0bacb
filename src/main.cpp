// The reinforcer executable: a thin shell over the library's command line.
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#include "reinforcer/cli/command.hpp"

int main(int argc, char** argv) {
#ifdef M_MMAP_THRESHOLD
  // Model fits allocate and free tables of tens of MB many times over (a subset search refits
  // thousands of models): served by mmap, each one is fresh zeroed pages from the kernel (a
  // quarter of select-features' CPU time went to page faults). Kept in the heap, they are reused.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  return reinforcer::run_cli(argc, argv);
}
