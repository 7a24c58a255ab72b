/* The unit tests' failing allocator (included, not compiled apart): fails
 * every allocation from the n-th on and counts live blocks, so an
 * out-of-memory sweep can check that each failure path frees what it took. */
#ifndef PARLEY_TEST_FAILING_ALLOC_H
#define PARLEY_TEST_FAILING_ALLOC_H

#include <stdlib.h>

#include "parley/common.h"

static long alloc_count, alloc_fail_at = -1, alloc_live;

static int alloc_should_fail(void)
{
    return alloc_fail_at >= 0 && alloc_count++ >= alloc_fail_at;
}
static void *t_malloc(size_t n)
{
    void *p = alloc_should_fail() ? NULL : malloc(n);
    alloc_live += p != NULL;
    return p;
}
static void *t_calloc(size_t a, size_t b)
{
    void *p = alloc_should_fail() ? NULL : calloc(a, b);
    alloc_live += p != NULL;
    return p;
}
static void *t_realloc(void *old, size_t n)
{
    void *p = alloc_should_fail() ? NULL : realloc(old, n);
    alloc_live += p && !old;
    return p;
}
static void t_free(void *p)
{
    alloc_live -= p != NULL;
    free(p);
}

/* Installs the allocator, failing from allocation `n` (0: the first). */
static void failing_alloc_start(long n)
{
    alloc_count = 0;
    alloc_fail_at = n;
    alloc_live = 0;
    parley_set_allocator(t_malloc, t_realloc, t_calloc, t_free);
}

/* Puts the default allocator back; returns the blocks still live. */
static long failing_alloc_stop(void)
{
    parley_set_allocator(NULL, NULL, NULL, NULL);
    alloc_fail_at = -1;
    return alloc_live;
}

#endif
