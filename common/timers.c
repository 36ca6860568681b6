/*  timers - the repeating jobs of a service's loop, in one list            */

#include "timers.h"
#include "clock.h"

void
txw_timers_init (txw_timers_t *self)
{
    self->count = 0;
}

int
txw_timers_add (txw_timers_t *self, int64_t interval_ms, txw_timer_fn *fn, void *arg)
{
    if (self->count == TXW_TIMERS_MAX || interval_ms <= 0)
        return -1;
    int id = self->count++;
    self->timer [id].interval_ms = interval_ms;
    self->timer [id].due_ms = txw_mono_ms () + interval_ms;
    self->timer [id].fn = fn;
    self->timer [id].arg = arg;
    return id;
}

void
txw_timers_fire (txw_timers_t *self, int id)
{
    if (id < 0 || id >= self->count)
        return;
    self->timer [id].fn (self->timer [id].arg);
    self->timer [id].due_ms = txw_mono_ms () + self->timer [id].interval_ms;
}

int
txw_timers_wait_ms (const txw_timers_t *self, int max_ms)
{
    int64_t now = txw_mono_ms ();
    int64_t wait = max_ms;
    for (int id = 0; id < self->count; id++) {
        int64_t left = self->timer [id].due_ms - now;
        if (left < wait)
            wait = left < 0? 0: left;
    }
    return (int) wait;
}

void
txw_timers_run (txw_timers_t *self)
{
    for (int id = 0; id < self->count; id++) {
        int64_t now = txw_mono_ms ();
        if (now < self->timer [id].due_ms)
            continue;
        self->timer [id].fn (self->timer [id].arg);
        self->timer [id].due_ms += self->timer [id].interval_ms;
        if (self->timer [id].due_ms <= now)
            self->timer [id].due_ms = now + self->timer [id].interval_ms;
    }
}
