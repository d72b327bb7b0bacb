#pragma once
// Handing freed heap memory back to the system.

namespace reinforcer {

// The executable keeps large blocks in the heap rather than in fresh mmap pages (main.cpp), and
// glibc keeps what threads freed in their arenas; so a large buffer freed in the middle of the
// heap stays resident. After freeing one (a rank's gathered results, the workers' copies) this
// returns the free pages to the system (glibc's malloc_trim; elsewhere nothing).
void release_freed_memory();

}  // namespace reinforcer
