/*  config - the producer's options: one table that parses and documents

    Every setting is a flag, a TXW_* variable and a line of --help at once
    (common/options.h). config_parse also checks the settings that only make
    sense together (the injection rates, --start, --file with --csv-out), so
    the rest of the service can trust what it gets.                          */

#ifndef TXW_PRODUCER_CONFIG_H
#define TXW_PRODUCER_CONFIG_H

#include "service.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    txw_service_config_t svc;
    const char *validator_endpoints;
    int64_t seed;
    int64_t run;                //  in the tx_ids: T<seed>.<run>-<n> (0: T<seed>-<n>)
    double rate;                //  records per second, 0: as fast as possible
    int64_t count;              //  0: unlimited
    int64_t duration;           //  seconds, 0: unlimited
    int64_t accounts, merchants, branches, regions;
    double fraud_rate, invalid_rate, late_rate;
    const char *degraded_region;    //  "" for none
    double degraded_share;
    const char *start;          //  "now" or RFC 3339
    const char *shape;          //  "daily" or "flat"
    double event_rate;          //  simulated records per event-second
    int64_t products;           //  catalogue size, 0: none
    const char *catalogue_out;  //  "" for none
    const char *csv_out;        //  "" for none
    const char *file;           //  "" for none
    int64_t drain_timeout_ms;
    const char *ack_endpoints;  //  "" for none
    int64_t ack_timeout_ms;
    int64_t max_unacked;
    const char *position_file;  //  "" for the default, "none" for none
    bool from_start;
    //  Derived by config_parse.
    bool simulated;
    bool flat;                  //  --shape flat
    int64_t start_ms;
} producer_config_t;

//  Fills self from defaults, TXW_* variables and argv. Exits 0 after
//  --help or --version and 2 after a one-line error for a bad setting.
void config_parse (producer_config_t *self, int argc, char **argv);

#endif
