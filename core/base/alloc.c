// The one door to the heap: every allocation in the core goes through here, so a
// build can swap the allocator and a test can make any single allocation fail.
#include "mg_internal.h"

#if MG_ENABLE_ALLOC_FAULTS
#include <malloc.h>  // malloc_usable_size: tells a shrinking realloc from a growing one

// Allocations that can fail so far, and the number of the one that will (0 = none)
static long alloc_count, alloc_fail_at;
static bool (*alloc_fail_when)(void);  // A runner's own choice, when set

void mg_alloc_fail_after(long n) {
  alloc_fail_at = n > 0 ? alloc_count + n : 0;
}

long mg_alloc_count(void) {
  return alloc_count;
}

void mg_alloc_fail_when(bool (*should_fail)(void)) {
  alloc_fail_when = should_fail;
}

// Counts one allocation; true when it is the one chosen to fail
static bool alloc_should_fail(void) {
  alloc_count++;
  if (alloc_fail_when != NULL) return alloc_fail_when();
  return alloc_count == alloc_fail_at;
}
#endif

void *mg_calloc(size_t count, size_t size) {
#if MG_ENABLE_ALLOC_FAULTS
  if (alloc_should_fail()) return NULL;
#endif
  return calloc(count, size);
}

void mg_free(void *ptr) {
  free(ptr);
}

void *mg_realloc(void *ptr, size_t size) {
  if (size == 0) {  // Giving memory back never fails, and never returns a live pointer
    free(ptr);
    return NULL;
  }
#if MG_ENABLE_ALLOC_FAULTS
  // Shrinking never fails (callers give memory back on error paths)
  if ((ptr == NULL || size > malloc_usable_size(ptr)) && alloc_should_fail()) return NULL;
#endif
  return realloc(ptr, size);
}
