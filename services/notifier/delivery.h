/*  delivery - posts queued alerts to every webhook URL, with retries

    The ZeroMQ side must never wait for a receiver, so alerts are handed to
    a bounded queue and delivered by one thread running a libcurl multi
    handle: every transfer is non-blocking, each URL has its own lists and
    its own limit of transfers in flight, so one slow or dead receiver only
    delays its own deliveries. Every alert goes to every URL; an alert stays
    in the queue (and counts against --queue) until each URL has it or has
    given up on it. policy.h decides what an answer means. With a signer,
    every attempt is signed as it starts (signature.h).                      */

#ifndef TXW_NOTIFIER_DELIVERY_H
#define TXW_NOTIFIER_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signature.h"

#define NT_MAX_URLS 16

typedef struct {
    const char *urls [NT_MAX_URLS];
    int url_count;
    const char *header;         //  extra "Name: value" header, or NULL
    const nt_signer_t *signer;  //  signs every attempt, or NULL: unsigned (kept by the caller)
    int64_t timeout_ms;         //  per attempt
    int64_t max_attempts;
    int64_t backoff_ms;
    int64_t backoff_max_ms;
    int64_t queue_max;          //  alerts accepted and not finished
    int64_t concurrency;        //  transfers in flight per URL
} nt_delivery_config_t;

typedef struct _nt_delivery_t nt_delivery_t;

//  Registers the metrics and starts the delivery thread. Returns NULL
//  (logged) if libcurl or the thread cannot be set up.
nt_delivery_t *nt_delivery_new (const nt_delivery_config_t *cfg);

//  Hands one alert over: key is copied, the body (malloc'ed JSON) is taken
//  and *body_p nulled. Returns 0, or -1 when the queue is full or the
//  service is stopping (the alert is dropped: counted and logged here).
int nt_delivery_submit (nt_delivery_t *self, const char *key, char **body_p);

//  Calls fn with the key of every alert finished for every URL (delivered,
//  or given up by the retry policy) since the last call, and forgets them.
//  An alert left undone at exit never finishes. Returns how many.
typedef void (nt_finished_fn) (void *arg, const char *key);
size_t nt_delivery_take_finished (nt_delivery_t *self, nt_finished_fn *fn, void *arg);

//  Alerts accepted and not yet finished for every URL.
int64_t nt_delivery_pending (nt_delivery_t *self);

//  Stops taking alerts, keeps delivering what is queued for up to
//  deadline_ms, then logs every delivery left undone and stops the thread.
//  Returns the number of deliveries left undone.
uint64_t nt_delivery_drain (nt_delivery_t *self, int64_t deadline_ms);

//  Drains with no deadline left if nt_delivery_drain was not called, and
//  frees everything.
void nt_delivery_destroy (nt_delivery_t **self_p);

#endif
