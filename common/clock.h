/*  clock - wall and monotonic time in the units the wire format uses

    Event times on the wire are UTC milliseconds; send and origin stamps are
    microseconds so that one-hop latencies stay measurable.                   */

#ifndef TXW_CLOCK_H
#define TXW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
txw_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t
txw_now_ms (void)
{
    return txw_now_us () / 1000;
}

/*  Monotonic milliseconds, for timers and lingers that must not jump.      */
static inline int64_t
txw_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
txw_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
