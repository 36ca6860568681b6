/*  transport - configuration of the transport modules as a whole

    See transport.h. Configuring starts from a clean state (a shutdown
    first), then sets the resolver and CURVE; a CURVE error undoes both.   */

#include "transport_internal.h"

int
txw_transport_configure (const txw_transport_config_t *cfg)
{
    txw_transport_shutdown ();
    txw_resolver_configure (cfg->resolve_ms);
    if (txw_curve_configure (cfg)) {
        txw_transport_shutdown ();
        return -1;
    }
    return 0;
}

void
txw_transport_shutdown (void)
{
    txw_resolver_shutdown ();
    txw_curve_shutdown ();
}
