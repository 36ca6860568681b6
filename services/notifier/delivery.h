/*  delivery - sends queued alerts to their channels, with retries

    The ZeroMQ side must never wait for a receiver, so alerts are handed to
    a bounded queue and delivered by one thread running a libcurl multi
    handle: every transfer is non-blocking, each channel entry (a target:
    one URL, or one SMTP server) has its own lists, its own limit of
    transfers in flight and its own retry state, so one slow or dead
    receiver only delays its own deliveries. An alert comes with one body
    per target it is routed to (channels.h); it stays in the queue (and
    counts against --queue) until each of them has it or has given up on
    it. HTTP targets get a POST of their JSON body, email targets an SMTP
    transaction (MAIL FROM, RCPT TO each recipient, DATA). policy.h decides
    what an answer means. A webhook with a signer has every attempt signed
    as it starts (signature.h). Deliveries are counted per channel
    (txw_notifier_deliveries_total{channel,result}).                        */

#ifndef TXW_NOTIFIER_DELIVERY_H
#define TXW_NOTIFIER_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channels.h"

typedef struct {
    const nt_channels_t *channels;  //  one target per entry (kept by the caller)
    int64_t timeout_ms;         //  per attempt
    int64_t max_attempts;
    int64_t backoff_ms;
    int64_t backoff_max_ms;
    int64_t queue_max;          //  alerts accepted and not finished
    int64_t concurrency;        //  transfers in flight per target
} nt_delivery_config_t;

typedef struct _nt_delivery_t nt_delivery_t;

//  Registers the metrics and starts the delivery thread. Returns NULL
//  (logged) if libcurl or the thread cannot be set up.
nt_delivery_t *nt_delivery_new (const nt_delivery_config_t *cfg);

//  Hands one alert over: key is copied; bodies has one entry per channel
//  entry, the malloc'ed body for those the alert is routed to and NULL for
//  the others; the bodies are taken and nulled. Returns 0, or -1 when the
//  queue is full or the service is stopping (the alert is dropped: counted
//  and logged here) or no body was given.
int nt_delivery_submit (nt_delivery_t *self, const char *key, char **bodies);

//  Calls fn with the key of every alert finished for every target (delivered,
//  or given up by the retry policy) since the last call, and forgets them.
//  An alert left undone at exit never finishes. Returns how many.
typedef void (nt_finished_fn) (void *arg, const char *key);
size_t nt_delivery_take_finished (nt_delivery_t *self, nt_finished_fn *fn, void *arg);

//  Alerts accepted and not yet finished for every target.
int64_t nt_delivery_pending (nt_delivery_t *self);

//  Stops taking alerts, keeps delivering what is queued for up to
//  deadline_ms, then logs every delivery left undone and stops the thread.
//  Returns the number of deliveries left undone.
uint64_t nt_delivery_drain (nt_delivery_t *self, int64_t deadline_ms);

//  Drains with no deadline left if nt_delivery_drain was not called, and
//  frees everything.
void nt_delivery_destroy (nt_delivery_t **self_p);

#endif
