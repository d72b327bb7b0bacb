#pragma once
// Handing freed heap memory back to the system.
#include <cstddef>

namespace reinforcer {

// The executable keeps large blocks in the heap rather than in fresh mmap pages (main.cpp), and
// glibc keeps what threads freed in their arenas; so a large buffer freed in the middle of the
// heap stays resident. After freeing one (a rank's gathered results, the workers' copies) this
// returns the free pages to the system (glibc's malloc_trim; elsewhere nothing).
void release_freed_memory();
// The same, only when the heap holds more than `bytes` freed (a walk of the free lists, far
// cheaper than the trim): after each of many tasks, of which few free much.
void release_freed_memory_over(std::size_t bytes);

}  // namespace reinforcer
