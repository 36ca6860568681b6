/*  ingest - txw-ingest, the HTTP way in: configuration and the service

    POST /api/v1/transactions takes transactions as JSON or NDJSON
    (body.h), judges every row with the validator's own checks
    (services/validator/checks.c, with the same rates and limits), and
    answers once the accepted rows are in the journal (journal.h): a 202 is
    a promise kept through crashes. The rows then go to the validators as
    a producer sends them (raw_tx batches under this process's source id
    and epoch) and stay in the journal until the pipeline acknowledges them
    (acks.h); a row not acknowledged within its lease is sent again by
    whichever replica claims it first. PATCH /api/v1/transactions/{tx_id}
    is a correction of a stored transaction, journaled and sent the same
    way as a correction record.

    Threads: civetweb's workers parse, check and wait; one loop thread
    (ingest_run) owns both database connections and every ZeroMQ socket:
    it journals what the workers queued, all of it in one statement (so
    concurrent requests share a commit), wakes them, sends, applies
    acknowledgements and claims what is due. server.c is the HTTP side.   */

#ifndef TXW_INGEST_H
#define TXW_INGEST_H

#include "journal.h"
#include "service.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    txw_service_config_t svc;
    const char *listen;
    const char *database_url;
    const char *validator_endpoints;
    const char *ack_endpoints;
    int64_t ack_timeout_ms;
    int64_t horizon_h;
    int64_t max_body_bytes;
    int64_t max_rows;
    int64_t threads;
    int64_t request_timeout_ms;
    //  the validator's checks, with its options' names and defaults
    const char *rates;
    const char *reporting_currency;
    int64_t max_future_ms;
    const char *min_ts;
    const char *max_amount;
    //  callers
    int64_t key_cache_ms;
    double rate_per_key;
    int64_t burst_per_key;
    double rate_per_client;
    int64_t burst_per_client;
    int64_t rate_limit_entries;
    int64_t statement_timeout_ms;
    bool migrate;
} ingest_config_t;

typedef struct _ingest_t ingest_t;

//  Starts the loop's sockets and the HTTP listener. Returns NULL (logged)
//  on a bad option, an endpoint or a port that cannot be used.
ingest_t *ingest_new (const ingest_config_t *cfg, txw_service_t *svc);
//  Runs the loop until svc->stop; returns the exit code.
int ingest_run (ingest_t *self);
void ingest_destroy (ingest_t **self_p);

//  --- What server.c asks of the loop -----------------------------------------

//  One request's records to journal. The worker fills entries, submits,
//  and waits; the loop sets each outcome, or failed.
typedef struct _ingest_job_t ingest_job_t;
struct _ingest_job_t {
    ingest_entry_t *entries;
    size_t count;
    bool done;
    bool failed;                //  the database could not journal them
    ingest_job_t *next;
};

//  Journals job's entries in the loop and waits for it. Returns 0 when
//  the job was done (see job->failed), -1 when the loop did not take it
//  within the request timeout (then nothing was journaled).
int ingest_submit (ingest_t *self, ingest_job_t *job);

#endif
