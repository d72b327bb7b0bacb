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

}  // namespace reinforcer
