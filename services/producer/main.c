/*  txw-producer - synthetic transactions and CSV ingest for txwatch

    Parses the options, starts the service (logs, signals, admin port),
    runs the producer loop and tears down in reverse order. The work is in
    producer.c (loop), generator.c (synthetic data), csv.c (ingest and
    --csv-out) and sender.c (ZeroMQ).                                       */

#include "config.h"
#include "producer.h"
#include "service.h"

int
main (int argc, char **argv)
{
    producer_config_t config;
    config_parse (&config, argc, argv);
    txw_service_t *svc = txw_service_new ("producer", &config.svc);
    if (!svc)
        return 2;
    int rc = 1;
    producer_t *producer = producer_new (&config, svc);
    if (producer
    &&  txw_service_admin (svc, (int) config.svc.admin_port, producer_ready, producer) == 0)
        rc = producer_run (producer);
    producer_destroy (&producer);
    txw_service_destroy (&svc);
    return rc;
}
