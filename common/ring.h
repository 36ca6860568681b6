/*  ring - growing a ring buffer of fixed-size elements

    Several queues here are rings (head, count, capacity) over a plain
    array: the acknowledgements a stage owes, a producer's journal, the
    aggregator's durability marks. When one is full it doubles, unrolled so
    its oldest element is first again; this is that one step.               */

#ifndef TXW_RING_H
#define TXW_RING_H

#include <stddef.h>

//  Grows the ring *items (elem bytes each, *capacity of them, count held
//  from *head) to twice its capacity, or to first when it has none. Returns
//  0 with *items, *head (0) and *capacity updated, or -1 (out of memory,
//  nothing changed).
int txw_ring_grow (void **items, size_t elem, size_t *head, size_t count,
                   size_t *capacity, size_t first);

#endif
