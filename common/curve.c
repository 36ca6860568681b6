/*  curve - CURVE security of the transport's sockets

    See transport_internal.h (the calls) and transport.h (how CURVE is
    configured and where the certificates come from). One process-wide
    state: this process's certificate, the servers' public key and the
    zauth actor that checks clients against the allowed directory.          */

#include "transport_internal.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

//  An all-zero key is what zcert reports for a certificate file without a
//  secret part.
#define S_ZERO_KEY "0000000000000000000000000000000000000000"

static struct {
    zcert_t *cert;              //  this process's certificate, with its secret key
    char server_key [41];       //  Z85 public key of the servers we connect to
    zactor_t *auth;
} s_curve;

static zcert_t *
s_cert_load (const char *option, const char *file, bool need_secret)
{
    zcert_t *cert = zcert_load (file);
    if (!cert) {
        log_error ("--%s: cannot load a certificate from '%s'", option, file);
        return NULL;
    }
    if (need_secret && streq (zcert_secret_txt (cert), S_ZERO_KEY)) {
        log_error ("--%s: '%s' holds no secret key (give the NAME.key_secret file)",
                   option, file);
        zcert_destroy (&cert);
    }
    return cert;
}

static bool
s_is_set (const char *text)
{
    return text && *text;
}

int
txw_curve_configure (const txw_transport_config_t *cfg)
{
    if (!s_is_set (cfg->curve_secret_key)) {
        if (s_is_set (cfg->curve_server_key) || s_is_set (cfg->curve_allowed)) {
            log_error ("--curve-server-key and --curve-allowed need --curve-secret-key");
            return -1;
        }
        return 0;
    }
    s_curve.cert = s_cert_load ("curve-secret-key", cfg->curve_secret_key, true);
    if (!s_curve.cert)
        return -1;
    if (s_is_set (cfg->curve_server_key)) {
        zcert_t *server = s_cert_load ("curve-server-key", cfg->curve_server_key, false);
        if (!server)
            return -1;
        snprintf (s_curve.server_key, sizeof s_curve.server_key, "%s",
                  zcert_public_txt (server));
        zcert_destroy (&server);
    }
    if (s_is_set (cfg->curve_allowed)) {
        DIR *dir = opendir (cfg->curve_allowed);
        if (!dir) {
            log_error ("--curve-allowed: cannot open directory '%s': %s",
                       cfg->curve_allowed, strerror (errno));
            return -1;
        }
        closedir (dir);
        s_curve.auth = zactor_new (zauth, NULL);
        if (!s_curve.auth
        ||  zstr_sendx (s_curve.auth, "CURVE", cfg->curve_allowed, NULL)
        ||  zsock_wait (s_curve.auth) != 0) {
            log_error ("cannot start the CURVE authenticator");
            return -1;
        }
    }
    else
        log_warn ("CURVE without --curve-allowed: traffic is encrypted, but any client "
                  "key may connect to this process");
    log_info ("CURVE on: public key %s, %s", zcert_public_txt (s_curve.cert),
              s_curve.auth? "clients checked against the allowed directory": "any client");
    return 0;
}

void
txw_curve_server (zsock_t *sock)
{
    if (!s_curve.cert)
        return;
    zcert_apply (s_curve.cert, sock);
    zsock_set_zap_domain (sock, "txw");
    zsock_set_curve_server (sock, 1);
}

int
txw_curve_client (zsock_t *sock)
{
    if (!s_curve.cert)
        return 0;
    if (!*s_curve.server_key) {
        log_error ("CURVE is on but --curve-server-key is not set: cannot connect");
        return -1;
    }
    zcert_apply (s_curve.cert, sock);
    zsock_set_curve_serverkey (sock, s_curve.server_key);
    return 0;
}

void
txw_curve_shutdown (void)
{
    zactor_destroy (&s_curve.auth);
    zcert_destroy (&s_curve.cert);
    s_curve.server_key [0] = 0;
}
