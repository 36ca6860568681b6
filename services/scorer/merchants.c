/*  merchants - cross-account state: what a merchant and a device see      */

#include "merchants.h"
#include "pii.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

//  A set-associative table of fixed-size records that begin with a
//  merchants_key_t. The hashes of a set's records are also kept together
//  in tags, one cache line a set, so a look-up reads one line and then
//  the one record it wants, not every record of the set.
typedef struct {
    uint64_t *tags;                 //  MERCHANTS_WAYS a set; 0: free
    char *records;
    size_t tags_bytes, records_bytes;
    size_t stride;
    uint64_t set_mask;              //  sets - 1
    size_t size;
    uint64_t evicted;
} s_table_t;

//  Bits by merchant hash, set when a merchant is credited a fraud and
//  never cleared: most merchants never are, and the exposure of an account
//  to its merchants' fraud then costs no look-up of them.
#define S_FRAUD_BITS    (1u << 16)

struct _merchants_t {
    s_table_t tables [3];           //  by kind - 1
    int alert_threshold;
    uint64_t credited [S_FRAUD_BITS / 64];
};

static inline bool
s_maybe_credited (const merchants_t *self, uint64_t merchant)
{
    uint32_t bit = (uint32_t) (merchant >> 40) % S_FRAUD_BITS;
    return (self->credited [bit / 64] >> (bit % 64)) & 1;
}

static inline void
s_mark_credited (merchants_t *self, uint64_t merchant)
{
    uint32_t bit = (uint32_t) (merchant >> 40) % S_FRAUD_BITS;
    self->credited [bit / 64] |= UINT64_C (1) << (bit % 64);
}

//  Zeroed memory, touched lazily, in huge pages where the system allows:
//  keys are spread over the whole table, and with 4 KiB pages nearly every
//  look-up would also miss the TLB.
static void *
s_map (size_t bytes)
{
    void *p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise (p, bytes, MADV_HUGEPAGE);
    return p;
}

static int
s_table_init (s_table_t *t, uint32_t max_records, size_t stride)
{
    if (max_records > (1u << 30))
        return -1;
    uint64_t sets = 1;
    while (sets * MERCHANTS_WAYS < max_records)
        sets <<= 1;
    t->stride = stride;
    t->set_mask = sets - 1;
    t->tags_bytes = sets * MERCHANTS_WAYS * sizeof (uint64_t);
    t->records_bytes = sets * MERCHANTS_WAYS * stride;
    t->tags = s_map (t->tags_bytes);
    t->records = s_map (t->records_bytes);
    return t->tags && t->records? 0: -1;
}

static inline merchants_key_t *
s_record (const s_table_t *t, uint64_t i)
{
    return (merchants_key_t *) (t->records + i * t->stride);
}

//  The record of a key, or NULL.
static merchants_key_t *
s_find (const s_table_t *t, uint64_t hash, uint32_t check)
{
    uint64_t base = (hash & t->set_mask) * MERCHANTS_WAYS;
    for (uint64_t w = 0; w < MERCHANTS_WAYS; w++)
        if (t->tags [base + w] == hash) {
            merchants_key_t *key = s_record (t, base + w);
            if (key->check == check)
                return key;
        }
    return NULL;
}

//  The record of a key, made empty (but for its key) if it was not held:
//  in a free way of its set, or in place of the one whose latest event is
//  oldest.
static merchants_key_t *
s_take (s_table_t *t, uint64_t hash, uint32_t check, uint32_t now_s)
{
    merchants_key_t *key = s_find (t, hash, check);
    if (key)
        return key;
    uint64_t base = (hash & t->set_mask) * MERCHANTS_WAYS;
    merchants_key_t *victim = NULL;
    uint64_t way = 0;
    for (uint64_t w = 0; w < MERCHANTS_WAYS; w++) {
        key = s_record (t, base + w);
        if (!key->hash) {
            victim = key;
            way = w;
            break;
        }
        if (!victim || key->last_s < victim->last_s) {
            victim = key;
            way = w;
        }
    }
    t->tags [base + way] = hash;
    if (victim->hash)
        t->evicted++;
    else
        t->size++;
    memset (victim, 0, t->stride);
    victim->hash = hash;
    victim->check = check;
    victim->last_s = now_s;
    return victim;
}

merchants_t *
merchants_new (uint32_t max_merchants, uint32_t max_devices, uint32_t max_accounts,
               int alert_threshold)
{
    merchants_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->alert_threshold = alert_threshold;
    if (s_table_init (&self->tables [0], max_merchants, sizeof (merchants_merchant_t))
    ||  s_table_init (&self->tables [1], max_devices, sizeof (merchants_device_t))
    ||  s_table_init (&self->tables [2], max_accounts, sizeof (merchants_visits_t)))
        merchants_destroy (&self);
    return self;
}

int
merchants_populate (merchants_t *self)
{
    for (int k = 0; k < 3; k++) {
        s_table_t *t = &self->tables [k];
        if (madvise (t->tags, t->tags_bytes, MADV_POPULATE_WRITE)
        ||  madvise (t->records, t->records_bytes, MADV_POPULATE_WRITE))
            return -1;
    }
    return 0;
}

void
merchants_destroy (merchants_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    merchants_t *self = *self_p;
    for (int k = 0; k < 3; k++) {
        s_table_t *t = &self->tables [k];
        if (t->records)
            munmap (t->records, t->records_bytes);
        if (t->tags)
            munmap (t->tags, t->tags_bytes);
    }
    free (self);
    *self_p = NULL;
}

int
merchants_alert_threshold (const merchants_t *self)
{
    return self->alert_threshold;
}

void
merchants_set_alert_threshold (merchants_t *self, int alert_threshold)
{
    self->alert_threshold = alert_threshold;
}

//  The keyed hash and check of an id; hash 0 for an empty id.
static void
s_key (const char *id, size_t max, uint64_t *hash, uint32_t *check)
{
    size_t len = strnlen (id, max);
    *hash = 0;
    *check = 0;
    if (len == 0)
        return;
    uint64_t keyed [2];
    txw_keyed_hash128 (id, len, keyed);
    *hash = keyed [0]? keyed [0]: 1;
    *check = (uint32_t) keyed [1];
}

void
merchants_tx (const txw_tx_t *tx, merchants_tx_t *out)
{
    memset (out, 0, sizeof *out);
    s_key (tx->merchant_id, sizeof tx->merchant_id, &out->merchant, &out->merchant_check);
    //  In person the device is the shop's terminal or the bank's cash
    //  machine, which serves every customer: only a customer's own device
    //  (online, mobile) says anything by being shared.
    if (tx->channel != TXW_CHANNEL_POS && tx->channel != TXW_CHANNEL_ATM)
        s_key (tx->device_id, sizeof tx->device_id, &out->device, &out->device_check);
    int64_t ts_s = tx->ts_ms / 1000;
    out->ts_s = ts_s < 0? 0: ts_s > UINT32_MAX? UINT32_MAX: (uint32_t) ts_s;
}

void
merchants_tx_account (merchants_tx_t *tx, uint64_t account_hash, uint32_t account_check,
                      uint32_t history)
{
    tx->account = account_hash;
    tx->account_check = account_check;
    tx->history = history;
}

//  Starts reading the records tx's keys name in the tables from..to - 1,
//  once their tags are read.
static void
s_prefetch_records (const merchants_t *self, const merchants_tx_t *tx, int from, int to)
{
    const uint64_t keys [3] = { tx->merchant, tx->device, tx->account };
    for (int k = from; k < to; k++) {
        const s_table_t *t = &self->tables [k];
        uint64_t base = (keys [k] & t->set_mask) * MERCHANTS_WAYS;
        for (uint64_t w = 0; keys [k] && w < MERCHANTS_WAYS; w++)
            if (t->tags [base + w] == keys [k]) {
                const char *record = t->records + (base + w) * t->stride;
                for (size_t at = 0; at < t->stride; at += 64)
                    __builtin_prefetch (record + at);
                break;
            }
    }
}

void
merchants_prefetch (const merchants_t *self, const merchants_tx_t *tx, bool records)
{
    const uint64_t keys [3] = { tx->merchant, tx->device, tx->account };
    for (int k = records? 2: 0; k < 3; k++)
        if (keys [k]) {
            const s_table_t *t = &self->tables [k];
            __builtin_prefetch (t->tags + (keys [k] & t->set_mask) * MERCHANTS_WAYS);
        }
    //  The merchant's and the device's tags were asked for before the
    //  account's look-up: they are in by now.
    if (records)
        s_prefetch_records (self, tx, 0, 2);
}

//  The 32-bit account hash the rings hold (never 0).
static inline uint32_t
s_ring_hash (const merchants_tx_t *tx)
{
    uint32_t h = (uint32_t) tx->account ^ tx->account_check;
    return h? h: 1;
}

//  Whether a ring entry seen at seen_s is within window_s of now_s, either
//  side (input may come a little out of order).
static inline bool
s_recent (uint32_t seen_s, uint32_t now_s, uint32_t window_s)
{
    int64_t age = (int64_t) now_s - seen_s;
    return age < window_s && age > -(int64_t) window_s;
}

//  A count decayed with half-life half_s from the time it was at to now_s
//  (a count from the future stays as it is).
static inline double
s_decayed (double count, uint32_t at_s, uint32_t now_s, double half_s)
{
    return now_s > at_s? count * exp2 (-(double) (now_s - at_s) / half_s): count;
}

//  Events a second, from a count decayed with half-life half_s over age_s
//  of history: the count over the decayed length of that history, so a
//  young merchant is not read as a busy one.
static double
s_rate (double count, double age_s, double half_s)
{
    double span = half_s / M_LN2 * (1 - exp2 (-age_s / half_s));
    return count / (span > 1? span: 1);
}

//  The merchant record of a hash from an account's visits (which keep no
//  id check: the 64-bit hash picks the record alone), or NULL.
static merchants_merchant_t *
s_merchant (const merchants_t *self, uint64_t hash)
{
    const s_table_t *t = &self->tables [0];
    uint64_t base = (hash & t->set_mask) * MERCHANTS_WAYS;
    for (uint64_t w = 0; w < MERCHANTS_WAYS; w++)
        if (t->tags [base + w] == hash)
            return (merchants_merchant_t *) s_record (t, base + w);
    return NULL;
}

//  Credits over visits, both decayed to now_s, with a prior of visits
//  without fraud so that one unlucky customer of a small shop is not 100%.
static double
s_fraud_share (const merchants_merchant_t *m, uint32_t now_s)
{
    if (m->frauds <= 0)
        return 0;               //  most merchants: no decay to work out
    double frauds = s_decayed (m->frauds, m->key.last_s, now_s, MERCHANTS_SHARE_HALF_LIFE_S);
    double visits = s_decayed (m->visits, m->key.last_s, now_s, MERCHANTS_SHARE_HALF_LIFE_S);
    return frauds / (visits + MERCHANTS_SHARE_PRIOR);
}

void
merchants_view (const merchants_t *self, const merchants_tx_t *tx, merchants_view_t *out)
{
    s_prefetch_records (self, tx, 2, 3);
    memset (out, 0, sizeof *out);
    uint32_t me = s_ring_hash (tx);
    uint32_t now = tx->ts_s;
    if (tx->merchant) {
        const merchants_merchant_t *m = (const merchants_merchant_t *)
            s_find (&self->tables [0], tx->merchant, tx->merchant_check);
        //  This transaction first; then every other account of the hour.
        double accounts = 1, small = tx->small, fresh = tx->history < MERCHANTS_NEW_HISTORY;
        out->velocity = 1;
        if (m) {
            for (int i = 0; i < MERCHANTS_RING; i++)
                if (m->accounts [i] && m->accounts [i] != me
                &&  s_recent (m->seen_s [i], now, MERCHANTS_HOUR_S)) {
                    accounts++;
                    small += (m->small_mask >> i) & 1;
                    fresh += (m->new_mask >> i) & 1;
                }
            out->history = m->count;
            double age = now > m->first_s? now - m->first_s: 0;
            double fast = s_decayed (m->fast, m->key.last_s, now, MERCHANTS_FAST_S) + 1;
            double slow = s_decayed (m->slow, m->key.last_s, now, MERCHANTS_SLOW_S) + 1;
            out->velocity = s_rate (fast, age, MERCHANTS_FAST_S)
                          / s_rate (slow, age, MERCHANTS_SLOW_S);
            out->fraud_share = s_fraud_share (m, now);
        }
        //  The ring holds MERCHANTS_RING accounts: this one may be one more.
        out->accounts_hour = accounts < MERCHANTS_RING? accounts: MERCHANTS_RING;
        out->small_share = small / accounts;
        out->new_account_share = fresh / accounts;
    }
    const merchants_visits_t *v = tx->account? (const merchants_visits_t *)
        s_find (&self->tables [2], tx->account, tx->account_check): NULL;
    for (int i = 0; v && i < MERCHANTS_VISITS; i++) {
        if (!v->merchants [i] || v->visit_s [i] > now
        ||  now - v->visit_s [i] > MERCHANTS_FRAUD_LOOKBACK_S
        ||  !s_maybe_credited (self, v->merchants [i]))
            continue;
        const merchants_merchant_t *m = s_merchant (self, v->merchants [i]);
        double share = m? s_fraud_share (m, now): 0;
        if (share > out->exposed_fraud_share)
            out->exposed_fraud_share = share;
    }
    if (tx->device) {
        const merchants_device_t *d = (const merchants_device_t *)
            s_find (&self->tables [1], tx->device, tx->device_check);
        out->device_accounts = 1;
        for (int i = 0; d && i < MERCHANTS_DEVICE_RING; i++)
            if (d->accounts [i] && d->accounts [i] != me
            &&  s_recent (d->seen_s [i], now, MERCHANTS_DEVICE_S))
                out->device_accounts++;
    }
}

//  Puts the account into a ring of n (one entry an account): its entry is
//  refreshed, or it takes an empty one or the one seen longest ago.
//  Returns the slot, and whether the account was not there in *added.
static int
s_ring_put (uint32_t *accounts, uint32_t *seen_s, int n, uint32_t account, uint32_t now_s,
            bool *added)
{
    int slot = -1;
    for (int i = 0; i < n; i++) {
        if (accounts [i] == account) {
            if (now_s > seen_s [i])
                seen_s [i] = now_s;
            *added = false;
            return i;
        }
        if (slot < 0 || !accounts [i] || (accounts [slot] && seen_s [i] < seen_s [slot]))
            slot = i;
    }
    accounts [slot] = account;
    seen_s [slot] = now_s;
    *added = true;
    return slot;
}

static void
s_update_merchant (merchants_t *self, const merchants_tx_t *tx)
{
    merchants_merchant_t *m = (merchants_merchant_t *)
        s_take (&self->tables [0], tx->merchant, tx->merchant_check, tx->ts_s);
    uint32_t now = tx->ts_s;
    if (m->count == 0)
        m->first_s = now;
    //  Counts are kept at the latest event time; a late event adds to
    //  them without moving it back.
    if (now > m->key.last_s) {
        m->fast = (float) s_decayed (m->fast, m->key.last_s, now, MERCHANTS_FAST_S);
        m->slow = (float) s_decayed (m->slow, m->key.last_s, now, MERCHANTS_SLOW_S);
        m->visits = (float) s_decayed (m->visits, m->key.last_s, now,
                                       MERCHANTS_SHARE_HALF_LIFE_S);
        m->frauds = (float) s_decayed (m->frauds, m->key.last_s, now,
                                       MERCHANTS_SHARE_HALF_LIFE_S);
        m->key.last_s = now;
    }
    if (now < m->first_s)
        m->first_s = now;
    m->fast += 1;
    m->slow += 1;
    if (m->count < UINT32_MAX)
        m->count++;
    if (tx->account) {
        bool added;
        int i = s_ring_put (m->accounts, m->seen_s, MERCHANTS_RING, s_ring_hash (tx), now, &added);
        uint16_t bit = (uint16_t) (1u << i);
        m->small_mask = tx->small? m->small_mask | bit: m->small_mask & (uint16_t) ~bit;
        bool fresh = tx->history < MERCHANTS_NEW_HISTORY;
        m->new_mask = fresh? m->new_mask | bit: m->new_mask & (uint16_t) ~bit;
        if (added)
            m->visits += 1;
    }
    m->dirty = 1;
}

static void
s_update_device (merchants_t *self, const merchants_tx_t *tx)
{
    merchants_device_t *d = (merchants_device_t *)
        s_take (&self->tables [1], tx->device, tx->device_check, tx->ts_s);
    if (tx->ts_s > d->key.last_s)
        d->key.last_s = tx->ts_s;
    bool added;
    s_ring_put (d->accounts, d->seen_s, MERCHANTS_DEVICE_RING, s_ring_hash (tx), tx->ts_s,
                &added);
    d->dirty = 1;
}

static void
s_update_visits (merchants_t *self, const merchants_tx_t *tx)
{
    merchants_visits_t *v = (merchants_visits_t *)
        s_take (&self->tables [2], tx->account, tx->account_check, tx->ts_s);
    if (tx->ts_s > v->key.last_s)
        v->key.last_s = tx->ts_s;
    int slot = 0;
    for (int i = 0; i < MERCHANTS_VISITS; i++) {
        if (v->merchants [i] == tx->merchant) {
            slot = i;
            break;
        }
        if (!v->merchants [i] || (v->merchants [slot] && v->visit_s [i] < v->visit_s [slot]))
            slot = i;
    }
    if (v->merchants [slot] != tx->merchant) {
        v->merchants [slot] = tx->merchant;
        v->credited &= (uint8_t) ~(1u << slot);
        v->visit_s [slot] = tx->ts_s;
    }
    else
    if (tx->ts_s > v->visit_s [slot])
        v->visit_s [slot] = tx->ts_s;
    v->dirty = 1;
}

void
merchants_update (merchants_t *self, const merchants_tx_t *tx)
{
    if (tx->merchant)
        s_update_merchant (self, tx);
    if (tx->device && tx->account)
        s_update_device (self, tx);
    if (tx->merchant && tx->account)
        s_update_visits (self, tx);
}

int
merchants_fraud (merchants_t *self, const merchants_tx_t *tx)
{
    if (!tx->account)
        return 0;
    merchants_visits_t *v = (merchants_visits_t *)
        s_find (&self->tables [2], tx->account, tx->account_check);
    int credited = 0;
    for (int i = 0; v && i < MERCHANTS_VISITS; i++) {
        uint8_t bit = (uint8_t) (1u << i);
        if (!v->merchants [i] || (v->credited & bit) || v->visit_s [i] > tx->ts_s
        ||  tx->ts_s - v->visit_s [i] > MERCHANTS_FRAUD_LOOKBACK_S)
            continue;
        merchants_merchant_t *m = s_merchant (self, v->merchants [i]);
        if (m) {
            s_mark_credited (self, m->key.hash);
            m->frauds += 1;
            m->dirty = 1;
            v->credited |= bit;
            v->dirty = 1;
            credited++;
        }
    }
    return credited;
}

size_t
merchants_size (const merchants_t *self)
{
    return self->tables [0].size;
}

size_t
merchants_devices (const merchants_t *self)
{
    return self->tables [1].size;
}

uint64_t
merchants_evicted (const merchants_t *self)
{
    return self->tables [0].evicted + self->tables [1].evicted + self->tables [2].evicted;
}

size_t
merchants_record_size (merchants_kind_t kind)
{
    return kind == MERCHANTS_KIND_MERCHANT? sizeof (merchants_merchant_t):
           kind == MERCHANTS_KIND_DEVICE? sizeof (merchants_device_t):
           kind == MERCHANTS_KIND_VISITS? sizeof (merchants_visits_t): 0;
}

int
merchants_layout (merchants_kind_t kind)
{
    return 3000 + (int) merchants_record_size (kind);
}

//  The dirty mark of a record of a kind.
static uint8_t *
s_dirty (merchants_kind_t kind, merchants_key_t *key)
{
    return kind == MERCHANTS_KIND_MERCHANT? &((merchants_merchant_t *) key)->dirty:
           kind == MERCHANTS_KIND_DEVICE? &((merchants_device_t *) key)->dirty:
           &((merchants_visits_t *) key)->dirty;
}

size_t
merchants_collect_dirty (merchants_t *self, merchants_collect_fn *fn, void *arg)
{
    size_t n = 0;
    for (merchants_kind_t kind = MERCHANTS_KIND_MERCHANT; kind <= MERCHANTS_KIND_VISITS; kind++) {
        const s_table_t *t = &self->tables [kind - 1];
        uint64_t records = (t->set_mask + 1) * MERCHANTS_WAYS;
        for (uint64_t i = 0; i < records; i++) {
            merchants_key_t *key = s_record (t, i);
            uint8_t *dirty = s_dirty (kind, key);
            if (key->hash && *dirty) {
                *dirty = 0;
                fn (arg, kind, key);
                n++;
            }
        }
    }
    return n;
}

//  Whether a checkpointed record's own fields are in range.
static bool
s_valid (merchants_kind_t kind, const void *record)
{
    if (kind == MERCHANTS_KIND_MERCHANT) {
        const merchants_merchant_t *m = record;
        return m->count > 0 && isfinite (m->fast) && isfinite (m->slow)
            && isfinite (m->visits) && isfinite (m->frauds)
            && m->fast >= 0 && m->slow >= 0 && m->visits >= 0 && m->frauds >= 0;
    }
    return kind == MERCHANTS_KIND_DEVICE || kind == MERCHANTS_KIND_VISITS;
}

int
merchants_restore (merchants_t *self, merchants_kind_t kind, const void *record, size_t size)
{
    size_t stride = merchants_record_size (kind);
    if (!stride || size != stride || !s_valid (kind, record))
        return -1;
    const merchants_key_t *from = record;
    s_table_t *t = &self->tables [kind - 1];
    if (!from->hash || s_find (t, from->hash, from->check))
        return -1;
    merchants_key_t *key = s_take (t, from->hash, from->check, from->last_s);
    memcpy (key, record, stride);
    *s_dirty (kind, key) = 0;
    if (kind == MERCHANTS_KIND_MERCHANT && ((const merchants_merchant_t *) record)->frauds > 0)
        s_mark_credited (self, from->hash);
    return 0;
}
