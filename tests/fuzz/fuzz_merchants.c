/*  fuzz_merchants - the scorer's cross-account checkpoint records

    A row of txw_data.scorer_cross_state is read back at start-up into the
    merchant, device and visit tables (merchants_restore), so a damaged or
    hostile row must be refused or held safely. The first byte picks the
    kind, the rest is the record (padded or cut to the kind's size, so
    mutations reach the fields). A record that is restored must then take
    views, updates and fraud credits of transactions near its own times
    with every signal finite and not negative, the shares of the hour
    within [0, 1] and the counts within the rings' sizes, and be collected
    again as changed.                                                      */

#include "merchants.h"
#include "fuzz.h"
#include "pii.h"

#include <math.h>

#define S_RECORD_MAX    512     //  larger than any kind's record

_Static_assert (sizeof (merchants_merchant_t) < S_RECORD_MAX, "grow S_RECORD_MAX");

static size_t s_collected;

static void
s_collect (void *arg, merchants_kind_t kind, const void *record)
{
    (void) arg;
    (void) kind;
    (void) record;
    s_collected++;
}

static void
s_check (const merchants_view_t *v)
{
    const double all [] = { v->history, v->velocity, v->accounts_hour, v->small_share,
                            v->new_account_share, v->fraud_share, v->exposed_fraud_share,
                            v->device_accounts };
    for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
        FUZZ_CHECK (isfinite (all [i]) && all [i] >= 0, "signal %zu is %g", i, all [i]);
    FUZZ_CHECK (v->small_share <= 1 && v->new_account_share <= 1, "share over 1");
    FUZZ_CHECK (v->accounts_hour <= MERCHANTS_RING, "accounts %g", v->accounts_hour);
    FUZZ_CHECK (v->device_accounts <= MERCHANTS_DEVICE_RING + 1, "devices %g", v->device_accounts);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static bool keyed;
    if (!keyed) {
        static const uint8_t key [TXW_PSEUDONYM_KEY_BYTES] = { 1 };
        txw_pseudonym_key_set (key);
        keyed = true;
    }
    if (size < 1)
        return 0;
    merchants_kind_t kind = (merchants_kind_t) (data [0] % 4);
    uint8_t record [S_RECORD_MAX] = { 0 };
    size_t want = merchants_record_size (kind);
    memcpy (record, data + 1, size - 1 < sizeof record? size - 1: sizeof record);
    merchants_t *m = merchants_new (16, 16, 16, 80);
    FUZZ_CHECK (m, "no tables");
    int rc = merchants_restore (m, kind, record, want? want: 1);
    FUZZ_CHECK (rc == 0 || rc == -1, "restore returned %d", rc);
    FUZZ_CHECK (rc == -1 || want, "a record of no kind restored");
    if (rc == 0) {
        const merchants_key_t *key = (const merchants_key_t *) record;
        txw_tx_t tx;
        memset (&tx, 0, sizeof tx);
        snprintf (tx.merchant_id, sizeof tx.merchant_id, "shop");
        snprintf (tx.device_id, sizeof tx.device_id, "dev");
        for (int i = 0; i < 4; i++) {
            tx.ts_ms = ((int64_t) key->last_s + (i - 2) * 600) * 1000;
            merchants_tx_t keys;
            //  The restored record's own key in its own role, then others.
            merchants_tx (&tx, &keys);
            merchants_tx_account (&keys, kind == MERCHANTS_KIND_VISITS? key->hash: 7,
                                  kind == MERCHANTS_KIND_VISITS? key->check: 7, (uint32_t) i);
            keys.small = i & 1;
            if (kind == MERCHANTS_KIND_MERCHANT) {
                keys.merchant = key->hash;
                keys.merchant_check = key->check;
            }
            if (kind == MERCHANTS_KIND_DEVICE) {
                keys.device = key->hash;
                keys.device_check = key->check;
            }
            merchants_view_t view;
            merchants_view (m, &keys, &view);
            s_check (&view);
            merchants_fraud (m, &keys);
            merchants_update (m, &keys);
        }
        s_collected = 0;
        merchants_collect_dirty (m, s_collect, NULL);
        FUZZ_CHECK (s_collected >= 1, "nothing changed");
    }
    merchants_destroy (&m);
    return 0;
}
