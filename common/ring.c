/*  ring - growing a ring buffer of fixed-size elements                      */

#include "ring.h"

#include <stdlib.h>
#include <string.h>

int
txw_ring_grow (void **items, size_t elem, size_t *head, size_t count,
               size_t *capacity, size_t first)
{
    size_t grown = *capacity? *capacity * 2: first;
    char *to = malloc (grown * elem);
    if (!to)
        return -1;
    //  The elements from head to the end of the array, then those that
    //  wrapped to its start.
    const char *from = *items;
    size_t tail = count < *capacity - *head? count: *capacity - *head;
    if (count) {
        memcpy (to, from + *head * elem, tail * elem);
        memcpy (to + tail * elem, from, (count - tail) * elem);
    }
    free (*items);
    *items = to;
    *capacity = grown;
    *head = 0;
    return 0;
}
