/*  txw-producer - synthetic transactions and CSV ingest for txwatch

    Parses the options and hands the producer to the service skeleton
    (common/service.h), which runs and tears it down. The work is in
    producer.c (loop), generator.c (synthetic data), csv.c (ingest and
    --csv-out) and sender.c (ZeroMQ).                                       */

#include "config.h"
#include "producer.h"
#include "service.h"

TXW_STAGE (producer, producer_config_t)

int
main (int argc, char **argv)
{
    producer_config_t config;
    config_parse (&config, argc, argv);
    //  --catalogue-out writes the catalogue the generator sells from, and
    //  nothing is generated or sent.
    if (*config.catalogue_out)
        return producer_catalogue_out (&config);
    return txw_service_main ("producer", &config.svc, &s_producer_stage, &config);
}
