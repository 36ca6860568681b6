/*  service - what every txwatch process has: options, logs, admin, signals

    A service's main () parses its option table (which embeds
    TXW_SERVICE_OPTIONS), calls txw_service_new, starts its admin port with a
    readiness callback, runs its loop until svc->stop is set, drains, and
    destroys everything in reverse order. Signal handlers only set flags:
    SIGTERM/SIGINT set stop, SIGHUP sets reload; SIGPIPE is ignored.          */

#ifndef TXW_SERVICE_H
#define TXW_SERVICE_H

#include "admin.h"
#include "codec.h"
#include "log.h"
#include "metrics.h"
#include "options.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t admin_port;
    const char *admin_address;  //  the interface the admin port listens on
    const char *log_level;
    const char *id;             //  source id in envelopes
    int64_t hwm;                //  high-water mark of work sockets, in batches
    int64_t linger_ms;          //  how long a partial batch may wait
    int64_t resolve_s;          //  how often connect endpoint names are resolved again
    const char *curve_secret_key;   //  CURVE: the server certificate (secret) its bound sockets use
    const char *curve_client_key;   //  CURVE: its role's certificate (secret) it connects with
    const char *curve_server_key;   //  CURVE: public certificate of the servers it connects to
    const char *curve_allowed;      //  CURVE: directory of client certificates it admits, by role
    const char *pseudonym_key_file; //  the key of the pseudonyms of ids (common/pii.h)
} txw_service_config_t;

#define TXW_SERVICE_OPTIONS(cfg, admin_port_default)                                   \
    { "admin-port", TXW_OPT_INT, admin_port_default,                                   \
      "admin HTTP port for /healthz, /readyz and /metrics (0: none)",                  \
      &(cfg).admin_port, 0, 65535 },                                                   \
    { "admin-address", TXW_OPT_STRING, "127.0.0.1",                                    \
      "address the admin port listens on: this machine only by default; 0.0.0.0 in a " \
      "pod, where probes and scrapes come over the pod network",                       \
      &(cfg).admin_address, 0, 0 },                                                    \
    { "log-level", TXW_OPT_STRING, "info", "debug, info, warn or error",               \
      &(cfg).log_level, 0, 0 },                                                        \
    { "id", TXW_OPT_STRING, "", "source id stamped on messages (default: name@hostname)", \
      &(cfg).id, 0, 0 },                                                               \
    { "hwm", TXW_OPT_INT, "256", "high-water mark of work sockets, in batches",        \
      &(cfg).hwm, 1, 1000000 },                                                        \
    { "linger-ms", TXW_OPT_INT, "1", "longest wait before a partial batch is sent",    \
      &(cfg).linger_ms, 0, 10000 },                                                    \
    { "resolve-s", TXW_OPT_INT, "5",                                                   \
      "seconds between resolutions of host names in connect endpoints; a name with "   \
      "several addresses connects to all (keyed shards: one); 0: leave names to libzmq", \
      &(cfg).resolve_s, 0, 86400 },                                                    \
    { "curve-secret-key", TXW_OPT_STRING, "",                                          \
      "CURVE server certificate the sockets this process binds serve with "            \
      "(cluster.key_secret from txw-keygen), also its client one without "             \
      "--curve-client-key; turns CURVE on for every ZeroMQ socket",                     \
      &(cfg).curve_secret_key, 0, 0 },                                                 \
    { "curve-client-key", TXW_OPT_STRING, "",                                          \
      "CURVE certificate of this process's role that it connects with "                \
      "(ROLE.key_secret from txw-keygen); turns CURVE on for every ZeroMQ socket",     \
      &(cfg).curve_client_key, 0, 0 },                                                 \
    { "curve-server-key", TXW_OPT_STRING, "",                                          \
      "CURVE public certificate (cluster.key) of the servers this process connects to", \
      &(cfg).curve_server_key, 0, 0 },                                                 \
    { "curve-allowed", TXW_OPT_STRING, "",                                             \
      "directory of the CURVE public certificates of the clients, ROLE.key or "        \
      "ROLE-NAME.key; each bound socket admits the roles of its hop (empty with "      \
      "CURVE on: any key, no role checked)", &(cfg).curve_allowed, 0, 0 },             \
    { "pseudonym-key-file", TXW_OPT_STRING, "",                                        \
      "file holding the secret key of the pseudonyms that replace account and device " \
      "ids in alerts, dead letters and logs (txw-keygen --pseudonym-key); every "      \
      "service needs the same one (empty: a random key, pseudonyms then match no "     \
      "other service's and change at every restart)", &(cfg).pseudonym_key_file, 0, 0 }

typedef struct {
    const char *name;
    char id [64];
    volatile int stop;          //  set by SIGTERM / SIGINT
    volatile int reload;        //  set by SIGHUP
    txw_admin_t *admin;
    char admin_address [64];    //  --admin-address
    //  Metrics every service reports.
    txw_counter_t *records_in;
    txw_counter_t *records_out;
    txw_counter_t *batches_in;
    txw_counter_t *batches_out;
    txw_counter_t *malformed;
    txw_counter_t *gaps;
    txw_counter_t *errors;
    txw_histogram_t *latency;   //  batch processing time
    txw_log_limiter_t malformed_log;
} txw_service_t;

//  Sets up logging, the pseudonym key, signals, the standard metrics and the
//  transport (resolution interval, CURVE). Returns NULL (with a message on
//  stderr) if the log level is bad, the pseudonym key file cannot be read or
//  holds no key, or a CURVE certificate cannot be loaded.
txw_service_t *txw_service_new (const char *name, const txw_service_config_t *cfg);

//  Starts the admin port. Returns -1 if it cannot listen.
int txw_service_admin (txw_service_t *self, int port, txw_ready_fn *ready, void *arg);

void txw_service_destroy (txw_service_t **self_p);

//  Counts one received batch of which records were applied, processed
//  since started_us (txw_mono_us): batches_in, records_in and latency.
void txw_service_batch_in (txw_service_t *self, uint64_t records, int64_t started_us);

//  Counts dropped records of a received message as malformed and logs why,
//  at most once a second. env is NULL for a frame that was not an envelope
//  (counted as one). The one place every receive loop reports bad input.
void txw_service_malformed (txw_service_t *self, const txw_envelope_t *env,
                            uint32_t dropped, const char *why);

//  --- The stage skeleton ----------------------------------------------------------
//  A service's main () parses its option table and hands its class to
//  txw_service_main, which owns the lifecycle every service shares.

typedef void *(txw_stage_new_fn) (const void *config, txw_service_t *svc);
typedef int (txw_stage_run_fn) (void *self);
typedef void (txw_stage_destroy_fn) (void **self_p);

typedef struct {
    txw_stage_new_fn *create;       //  NULL (logged) if it cannot start
    txw_stage_run_fn *run;          //  until the stop flag; returns the exit code
    txw_stage_destroy_fn *destroy;
} txw_stage_t;

//  The class of a service module prefix_new / prefix_run / prefix_destroy
//  on prefix_t, as a txw_stage_t named s_<prefix>_stage.
#define TXW_STAGE(prefix, config_type)                                          \
    static void *s_##prefix##_create (const void *config, txw_service_t *svc)  \
        { return prefix##_new ((const config_type *) config, svc); }           \
    static int s_##prefix##_run (void *self)                                    \
        { return prefix##_run ((prefix##_t *) self); }                          \
    static void s_##prefix##_destroy (void **self_p)                            \
    {                                                                           \
        prefix##_t *self = *self_p;                                             \
        prefix##_destroy (&self);                                               \
        *self_p = self;                                                         \
    }                                                                           \
    static const txw_stage_t s_##prefix##_stage = {                             \
        s_##prefix##_create, s_##prefix##_run, s_##prefix##_destroy             \
    };

//  Starts the service called name (logs, signals, standard metrics,
//  transport), creates the stage from config, runs it until it stops, and
//  destroys both in reverse order. Returns the process's exit code: 2 for a
//  bad setting, 1 if the stage cannot start, else what run returned.
int txw_service_main (const char *name, const txw_service_config_t *service_config,
                      const txw_stage_t *stage, const void *config);

//  Runs the option parser and exits for --help, --version or a bad option.
//  Wraps txw_options_parse so that every main () handles it the same way.
void txw_service_options (const txw_option_t *table, int argc, char **argv,
                          const char *program, const char *summary);

#endif
