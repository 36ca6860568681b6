/*  timers - the repeating jobs of a service's loop, in one list

    A stage's loop waits on its sockets and, between messages, runs a few
    jobs every so often: the aggregator ticks its windows every second and
    flushes every half second, the gateway pushes stats, the scorer saves
    checkpoints and looks at its rule files. Each used to keep its own
    next_* time and compute its own poll timeout; this list does it once,
    in the manner of Redis's ae timers: the loop asks how long it may wait
    (txw_timers_wait_ms, the poll timeout), waits, then runs what is due
    (txw_timers_run). Times are on the monotonic clock.

    A timer keeps a fixed rate (due, due + interval, ...) so a job that
    takes a while does not drift; one that falls a whole interval behind
    (a long stall) is rescheduled from now instead of running again and
    again to catch up. A timer runs on the loop's thread: no locking.         */

#ifndef TXW_TIMERS_H
#define TXW_TIMERS_H

#include <stdint.h>

#define TXW_TIMERS_MAX 8

typedef void (txw_timer_fn) (void *arg);

typedef struct {
    int count;
    struct {
        int64_t interval_ms;
        int64_t due_ms;
        txw_timer_fn *fn;
        void *arg;
    } timer [TXW_TIMERS_MAX];
} txw_timers_t;

//  Empties the list.
void txw_timers_init (txw_timers_t *self);

//  Adds a job that runs every interval_ms (> 0), first one interval from
//  now. Returns its id, or -1 if the list is full (a programming error).
int txw_timers_add (txw_timers_t *self, int64_t interval_ms, txw_timer_fn *fn, void *arg);

//  Runs timer id now and starts its interval again from now (the
//  aggregator flushes early when its queue is long).
void txw_timers_fire (txw_timers_t *self, int id);

//  Milliseconds until the next job is due (0 if one is), at most max_ms.
int txw_timers_wait_ms (const txw_timers_t *self, int max_ms);

//  Runs every job that is due, each once.
void txw_timers_run (txw_timers_t *self);

#endif
