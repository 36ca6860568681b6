/*  clock - wall and monotonic time in the units the wire format uses

    Event times on the wire are UTC milliseconds; send and origin stamps are
    microseconds so that one-hop latencies stay measurable.                   */

#ifndef TXW_CLOCK_H
#define TXW_CLOCK_H

#include <pthread.h>
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

/*  The monotonic time ms from now, as a deadline for txw_cond_wait_until. */
static inline struct timespec
txw_mono_deadline (int64_t ms)
{
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    return until;
}

/*  Waits on cond (lock held) until signalled or the monotonic deadline
    until. Returns 0, or ETIMEDOUT. The clock is named at the call, so the
    wait never follows the wall clock, whatever the condition variable was
    made with (pthread_cond_clockwait, glibc 2.30).                          */
static inline int
txw_cond_wait_until (pthread_cond_t *cond, pthread_mutex_t *lock,
                     const struct timespec *until)
{
    return pthread_cond_clockwait (cond, lock, CLOCK_MONOTONIC, until);
}

#endif
