/*  config - the producer's options: one table that parses and documents   */

#include "config.h"
#include "catalogue.h"
#include "rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_fail (const char *message)
{
    fprintf (stderr, "error: %s (see --help)\n", message);
    exit (2);
}

void
config_parse (producer_config_t *self, int argc, char **argv)
{
    memset (self, 0, sizeof *self);
    self->event_rate = -1;              //  unset: follows --rate
    self->rate = -1;                    //  unset: 200 generated, flat out from a file
    txw_option_t table [] = {
        TXW_SERVICE_OPTIONS (self->svc, "9100"),
        { "validator-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7001",
          "validators to PUSH to, comma-separated (connects to every one)",
          &self->validator_endpoints, 0, 0 },
        { "seed", TXW_OPT_INT, "1", "seed of the generator: same seed, same records",
          &self->seed, 0, 1e18 },
        { "run", TXW_OPT_INT, "0",
          "run number, in every generated tx_id (T<seed>.<run>-<n>; 0: T<seed>-<n>), so a "
          "generator started again with the same seed makes new transactions, not copies of "
          "the ones it stored before", &self->run, 0, 1e9 },
        { "rate", TXW_OPT_DOUBLE, NULL,
          "records per second sent (times the --shape weight in live mode); "
          "0: as fast as possible (default: 200 generated, 0 for --file: a file "
          "is sent flat out unless paced on purpose)", &self->rate, 0, 1e8 },
        { "count", TXW_OPT_INT, "0", "stop after this many records (0: no limit)",
          &self->count, 0, 1e15 },
        { "duration", TXW_OPT_INT, "0", "stop after this many seconds (0: no limit)",
          &self->duration, 0, 1e9 },
        { "accounts", TXW_OPT_INT, "10000", "synthetic accounts",
          &self->accounts, 1, 10000000 },
        { "merchants", TXW_OPT_INT, "2000", "synthetic merchants",
          &self->merchants, 1, 1000000 },
        { "branches", TXW_OPT_INT, "50", "bank branches", &self->branches, 1, 100000 },
        { "regions", TXW_OPT_INT, "8", "regions (branches and accounts belong to one)",
          &self->regions, 1, 1000 },
        { "fraud-rate", TXW_OPT_DOUBLE, "0.01",
          "share of records that are labelled fraud (eleven patterns, generator.h)",
          &self->fraud_rate, 0, 1 },
        { "invalid-rate", TXW_OPT_DOUBLE, "0",
          "share of records broken on purpose, labelled with the dead-letter code",
          &self->invalid_rate, 0, 1 },
        { "late-rate", TXW_OPT_DOUBLE, "0",
          "share of records 70-180 s behind the event clock (simulated clock only)",
          &self->late_rate, 0, 1 },
        { "degraded-region", TXW_OPT_STRING, "",
          "a region (R0, R1, ...) with an outage: many declines and failures there",
          &self->degraded_region, 0, 0 },
        { "degraded-share", TXW_OPT_DOUBLE, "0.3",
          "share of the degraded region's transactions declined or failed",
          &self->degraded_share, 0, 1 },
        { "start", TXW_OPT_STRING, "now",
          "\"now\": event time is the wall clock; an RFC 3339 time: a simulated "
          "event clock starting there", &self->start, 0, 0 },
        { "shape", TXW_OPT_STRING, "daily",
          "traffic and fraud mix over time: \"daily\" follows the hour of day and "
          "the weekday of each account's home country (quiet at night, night "
          "bursts 01-04 h local); \"flat\": every "
          "hour alike, so a run does not depend on when it starts (tests, benchmarks)",
          &self->shape, 0, 0 },
        { "event-rate", TXW_OPT_DOUBLE, NULL,
          "simulated records per event-second (default: --rate, or 200 if --rate is 0)",
          &self->event_rate, 1e-6, 1e9 },
        { "products", TXW_OPT_INT, "0",
          "a catalogue of this many products, made from the seed: online shoppers "
          "then buy baskets of them (line items sharing an order_id; 0: no catalogue)",
          &self->products, 0, CATALOGUE_MAX },
        { "catalogue-out", TXW_OPT_STRING, "",
          "write the --products catalogue to this CSV file (- for stdout) and exit, "
          "for `txwctl products load`", &self->catalogue_out, 0, 0 },
        { "csv-out", TXW_OPT_STRING, "",
          "write records with their labels to this CSV file (- for stdout) instead of sending",
          &self->csv_out, 0, 0 },
        { "file", TXW_OPT_STRING, "",
          "ingest this CSV file (- for stdin) instead of generating",
          &self->file, 0, 0 },
        { "drain-timeout-ms", TXW_OPT_INT, "30000",
          "at exit, how long queued batches may take to reach a validator, and "
          "with --ack-endpoints how long to wait without any acknowledgement arriving "
          "(records still unacknowledged then make the exit status 1)",
          &self->drain_timeout_ms, 0, 3600000 },
        { "ack-endpoints", TXW_OPT_STRING, "",
          "PUB endpoints of the aggregators and validators, comma-separated: keep "
          "every batch until they acknowledge its records as stored and send again "
          "what they do not acknowledge in time (\"\": fire and forget)",
          &self->ack_endpoints, 0, 0 },
        { "ack-timeout-ms", TXW_OPT_INT, "5000",
          "send a batch again when its records are not all acknowledged by then "
          "(doubling at every try, up to a minute)", &self->ack_timeout_ms, 10, 3600000 },
        { "max-unacked", TXW_OPT_INT, "200000",
          "records sent and not yet acknowledged at most; then input waits",
          &self->max_unacked, 1, 100000000 },
        { "position-file", TXW_OPT_STRING, "",
          "with --file and --ack-endpoints: where the first line not yet acknowledged "
          "is kept, so the same command resumes there (default: the file's name plus "
          "\".position\"; \"none\": not kept)", &self->position_file, 0, 0 },
        { "from-start", TXW_OPT_BOOL, "false",
          "send the file from its first line, whatever its position file says",
          &self->from_start, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (table, argc, argv, "txw-producer",
                         "Generates synthetic transactions with labelled fraud, or ingests a "
                         "CSV file,\nand pushes them to the validators.");

    if (self->fraud_rate + self->invalid_rate + self->late_rate > 0.9)
        s_fail ("--fraud-rate, --invalid-rate and --late-rate add up to more than 0.9");
    if (strcmp (self->start, "now") == 0)
        self->simulated = false;
    else
    if (rfc3339_parse (self->start, strlen (self->start), &self->start_ms) == 0)
        self->simulated = true;
    else
        s_fail ("--start must be \"now\" or an RFC 3339 time such as 2026-01-05T00:00:00Z");
    if (strcmp (self->shape, "flat") == 0)
        self->flat = true;
    else
    if (strcmp (self->shape, "daily") != 0)
        s_fail ("--shape must be \"daily\" or \"flat\"");
    if (*self->degraded_region) {
        char *end;
        long r = strncmp (self->degraded_region, "R", 1) == 0
               ? strtol (self->degraded_region + 1, &end, 10): -1;
        if (r < 0 || r >= self->regions || end == self->degraded_region + 1 || *end)
            s_fail ("--degraded-region must name one of the regions, R0 to R<regions - 1>");
    }
    if (self->rate < 0)
        self->rate = *self->file? 0: 200;
    if (*self->catalogue_out && self->products == 0)
        s_fail ("--catalogue-out needs --products: the size of the catalogue to write");
    if (*self->ack_endpoints && *self->csv_out)
        s_fail ("--ack-endpoints needs the validators as output, not --csv-out");
    if (self->event_rate < 0)
        self->event_rate = self->rate > 0? self->rate: 200;
}
