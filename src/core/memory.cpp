#include "reinforcer/core/memory.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc systems, tested below
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace reinforcer {

void release_freed_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void release_freed_memory_over(std::size_t bytes) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  if (mallinfo2().fordblks > bytes) malloc_trim(0);
#else
  (void)bytes;
  release_freed_memory();
#endif
}

}  // namespace reinforcer
