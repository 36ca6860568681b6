/*  profiles - per-account rolling state that the fraud rules read          */

#include "profiles.h"
#include "pii.h"
#include "tzcountry.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert (sizeof (profiles_account_t) <= 256, "account record grew: check the budget");

//  An index slot holds (entry index + 1) in the low 32 bits and the top 32
//  bits of the account hash above them, so most probes that miss never touch
//  the entry itself. 0 is an empty slot.
struct _profiles_t {
    uint64_t *index;
    uint64_t index_mask;
    profiles_account_t *entries;    //  max_accounts records, touched lazily
    uint32_t max_accounts;
    uint32_t used_top;              //  entries handed out so far
    uint32_t free_head;             //  recycled entries, by lru_next; index + 1
    uint32_t lru_head, lru_tail;    //  most / least recently seen; index + 1
    size_t size;
    int64_t idle_ms;
    uint64_t evicted_cap;
    uint64_t evicted_idle;
    uint32_t collect_next;          //  entry where profiles_collect_dirty goes on
};

//  FNV-1a 32, for branch and region names (not personal data). Account and
//  device ids get keyed hashes (txw_keyed_hash128), which are also
//  independent of the FNV hash that picked this shard.
static uint32_t
s_fnv32 (const char *id, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) id [i]) * 16777619u;
    return h;
}

static uint32_t
s_name_hash (const char *name)
{
    size_t len = strlen (name);
    uint32_t h = len? s_fnv32 (name, len): 0;
    return h? h: (len? 1: 0);
}

static uint16_t
s_region_hash (const char *region)
{
    uint32_t h = s_name_hash (region);
    uint16_t folded = (uint16_t) (h ^ (h >> 16));
    return folded? folded: (h? 1: 0);
}

static inline uint64_t
s_slot_value (uint64_t hash, uint32_t entry)
{
    return (hash & 0xffffffff00000000ULL) | (uint64_t) (entry + 1);
}

profiles_t *
profiles_new (uint32_t max_accounts, int64_t idle_ms)
{
    if (max_accounts == 0 || max_accounts > (1u << 30))
        return NULL;
    profiles_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    //  At most half full, so linear probes stay short.
    uint64_t slots = 16;
    while (slots < (uint64_t) max_accounts * 2)
        slots <<= 1;
    self->index = calloc (slots, sizeof (uint64_t));
    self->entries = calloc (max_accounts, sizeof (profiles_account_t));
    if (!self->index || !self->entries) {
        profiles_destroy (&self);
        return NULL;
    }
    self->index_mask = slots - 1;
    self->max_accounts = max_accounts;
    self->idle_ms = idle_ms;
    return self;
}

void
profiles_destroy (profiles_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    profiles_t *self = *self_p;
    free (self->index);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

//  --- Least-recently-seen list (indices are entry + 1, 0 = none) -------------

static void
s_lru_unlink (profiles_t *self, uint32_t e)
{
    profiles_account_t *a = &self->entries [e];
    if (a->lru_prev)
        self->entries [a->lru_prev - 1].lru_next = a->lru_next;
    else
        self->lru_head = a->lru_next;
    if (a->lru_next)
        self->entries [a->lru_next - 1].lru_prev = a->lru_prev;
    else
        self->lru_tail = a->lru_prev;
    a->lru_prev = a->lru_next = 0;
}

static void
s_lru_push_head (profiles_t *self, uint32_t e)
{
    profiles_account_t *a = &self->entries [e];
    a->lru_prev = 0;
    a->lru_next = self->lru_head;
    if (self->lru_head)
        self->entries [self->lru_head - 1].lru_prev = e + 1;
    else
        self->lru_tail = e + 1;
    self->lru_head = e + 1;
}

//  --- Index ---------------------------------------------------------------------

//  Removes entry e from the index and shifts the following run back so no
//  probe sequence is broken.
static void
s_index_remove (profiles_t *self, uint32_t e)
{
    uint64_t mask = self->index_mask;
    uint64_t want = s_slot_value (self->entries [e].hash, e);
    uint64_t i = self->entries [e].hash & mask;
    while (self->index [i] != want) {
        assert (self->index [i] != 0);
        i = (i + 1) & mask;
    }
    uint64_t hole = i;
    for (;;) {
        i = (i + 1) & mask;
        uint64_t v = self->index [i];
        if (v == 0)
            break;
        uint64_t home = self->entries [(uint32_t) v - 1].hash & mask;
        //  v may move into the hole only if its home is not in (hole, i].
        bool stays = hole <= i? (home > hole && home <= i): (home > hole || home <= i);
        if (!stays) {
            self->index [hole] = v;
            hole = i;
        }
    }
    self->index [hole] = 0;
}

static void
s_evict (profiles_t *self, uint32_t e)
{
    s_index_remove (self, e);
    s_lru_unlink (self, e);
    profiles_account_t *a = &self->entries [e];
    a->hash = 0;
    a->lru_next = self->free_head;
    self->free_head = e + 1;
    self->size--;
}

//  An account back after more than the idle limit (in its own event time)
//  starts afresh: what it did then says little about now. Judged by the
//  account's own times, not by the newest event of the shard, so a file
//  sorted by account (each account's whole history in turn) scores exactly
//  as the same rows in time order. The table's bound is max_accounts; the
//  least recently seen account makes room.
static void
s_forget_if_idle (profiles_t *self, profiles_account_t *a, int64_t now_ms)
{
    if (self->idle_ms <= 0 || now_ms - a->last_ms <= self->idle_ms)
        return;
    uint64_t hash = a->hash;
    uint32_t check = a->id_check, prev = a->lru_prev, next = a->lru_next;
    memset (a, 0, sizeof *a);
    a->hash = hash;
    a->id_check = check;
    a->lru_prev = prev;
    a->lru_next = next;
    a->last_ms = now_ms;
    a->dirty = 1;
    self->evicted_idle++;
}

int
profiles_key (const char *id, size_t len, profiles_key_t *key)
{
    if (len == 0 || len > TXW_ID_MAX) {
        *key = (profiles_key_t) { 0, 0 };
        return -1;
    }
    uint64_t keyed [2];
    txw_keyed_hash128 (id, len, keyed);
    key->hash = keyed [0]? keyed [0]: 1;
    key->check = (uint32_t) keyed [1];
    return 0;
}

void
profiles_prefetch (const profiles_t *self, const profiles_key_t *key)
{
    __builtin_prefetch (self->index + (key->hash & self->index_mask));
}

profiles_account_t *
profiles_get (profiles_t *self, const char *id, size_t len, int64_t now_ms)
{
    profiles_key_t key;
    return profiles_key (id, len, &key)? NULL: profiles_get_keyed (self, &key, now_ms);
}

profiles_account_t *
profiles_get_keyed (profiles_t *self, const profiles_key_t *key, int64_t now_ms)
{
    assert (self);
    if (!key->hash)
        return NULL;
    //  Bounded so that differences of event times cannot overflow.
    if (now_ms < 0)
        now_ms = 0;
    if (now_ms > PROFILES_MAX_MS)
        now_ms = PROFILES_MAX_MS;

    uint64_t hash = key->hash;
    uint32_t check = key->check;
    uint64_t mask = self->index_mask;
    uint64_t i = hash & mask;
    for (;;) {
        uint64_t v = self->index [i];
        if (v == 0)
            break;
        if ((v >> 32) == (hash >> 32)) {
            uint32_t e = (uint32_t) v - 1;
            profiles_account_t *a = &self->entries [e];
            if (a->hash == hash && a->id_check == check) {
                if (self->lru_head != e + 1) {
                    s_lru_unlink (self, e);
                    s_lru_push_head (self, e);
                }
                s_forget_if_idle (self, a, now_ms);
                return a;
            }
        }
        i = (i + 1) & mask;
    }
    //  Not held: take a free entry, or the least recently seen one.
    uint32_t e;
    if (self->free_head) {
        e = self->free_head - 1;
        self->free_head = self->entries [e].lru_next;
    }
    else
    if (self->used_top < self->max_accounts)
        e = self->used_top++;
    else {
        e = self->lru_tail - 1;
        s_evict (self, e);
        self->evicted_cap++;
        //  s_evict put it on the free list; take it back.
        self->free_head = self->entries [e].lru_next;
    }
    //  The eviction may have shifted the run we were probing: find the
    //  first free slot again.
    i = hash & mask;
    while (self->index [i])
        i = (i + 1) & mask;
    profiles_account_t *a = &self->entries [e];
    memset (a, 0, sizeof *a);
    a->hash = hash;
    a->id_check = check;
    a->last_ms = now_ms;
    self->index [i] = s_slot_value (hash, e);
    s_lru_push_head (self, e);
    self->size++;
    return a;
}

uint16_t
profiles_country_code (const char *country)
{
    if (!country [0] || !country [1] || country [2])
        return 0;
    return TZCOUNTRY_CODE (country [0], country [1]);
}

uint32_t
profiles_device_hash (const char *device_id)
{
    size_t len = strlen (device_id);
    if (len == 0)
        return 0;
    uint64_t keyed [2];
    txw_keyed_hash128 (device_id, len, keyed);
    uint32_t h = (uint32_t) (keyed [0] >> 32);
    return h? h: 1;
}

//  Buckets are indexed by (event second / 300) % 12; bucket_last is the
//  newest bucket written, and a bucket more than an hour older than it is
//  stale and cleared before reuse.
static void
s_bucket_add (profiles_account_t *acct, int64_t ts_s)
{
    uint32_t b = (uint32_t) ((ts_s < 0? 0: ts_s) / PROFILES_BUCKET_S);
    if (acct->count == 1 || b > acct->bucket_last) {
        uint32_t from = acct->count == 1? b - PROFILES_BUCKETS + 1: acct->bucket_last + 1;
        if (b - from >= PROFILES_BUCKETS)
            from = b - PROFILES_BUCKETS + 1;
        for (uint32_t k = from; k != b + 1; k++)
            acct->buckets [k % PROFILES_BUCKETS] = 0;
        acct->bucket_last = b;
    }
    else
    if (acct->bucket_last - b >= PROFILES_BUCKETS)
        return;                 //  older than an hour before the newest: not kept
    uint8_t *n = &acct->buckets [b % PROFILES_BUCKETS];
    if (*n < UINT8_MAX)
        (*n)++;
}

uint32_t
profiles_count_hour (const profiles_account_t *acct, int64_t now_ms)
{
    if (acct->count == 0)
        return 0;
    int64_t now_b = (now_ms < 0? 0: now_ms / 1000) / PROFILES_BUCKET_S;
    uint32_t count = 0;
    for (uint32_t k = 0; k < PROFILES_BUCKETS; k++) {
        int64_t b = (int64_t) acct->bucket_last - k;
        if (b < 0)
            break;
        if (b <= now_b && b > now_b - PROFILES_BUCKETS)
            count += acct->buckets [b % PROFILES_BUCKETS];
    }
    return count;
}

//  The hash of tx's order (never 0), or 0 for none. An order id is its
//  merchant's: the same id at another merchant is another purchase, so a
//  sender cannot fold payments at several merchants into one "order" to
//  stay under the velocity counts.
static uint32_t
s_order_hash (const txw_tx_t *tx)
{
    if (!*tx->order_id)
        return 0;
    uint32_t hash = profiles_tx_hash (tx->order_id)
                  ^ profiles_tx_hash (tx->merchant_id) * 0x9E3779B1u;
    return hash? hash: 1;
}

bool
profiles_same_order (const profiles_account_t *acct, const txw_tx_t *tx)
{
    //  The line items of one checkout come together: an order id seen
    //  again much later is another purchase.
    return acct && acct->count && acct->last_order
        && acct->last_order == s_order_hash (tx)
        && llabs (tx->ts_ms - acct->last_ms) <= PROFILES_ORDER_MS;
}

int64_t
profiles_before_latest_ms (const profiles_account_t *acct)
{
    if (acct->ring_used < 2)
        return -1;
    return (int64_t) acct->ring [(acct->ring_head + PROFILES_RING - 2) % PROFILES_RING] * 1000;
}

//  One purchase's vote on the home country (profiles_home_country).
static void
s_home_vote (profiles_account_t *acct, uint16_t country)
{
    if (!country || acct->home_votes >= PROFILES_HOME_SURE)
        return;
    if (acct->home_votes == 0)
        acct->home_country = country;
    if (country == acct->home_country)
        acct->home_votes++;
    else
        acct->home_votes--;
}

uint16_t
profiles_home_country (const profiles_account_t *acct, const txw_tx_t *tx)
{
    return acct && acct->home_country? acct->home_country: profiles_country_code (tx->country);
}

void
profiles_update (profiles_account_t *acct, const txw_tx_t *tx, double log_amount,
                 unsigned flags)
{
    bool first = acct->count == 0;
    //  What an account shows in its first transactions is its home: a
    //  country or device only counts as fresh once there is some history.
    bool settled = acct->count >= 2;
    bool line_item = profiles_same_order (acct, tx);
    if (!first && !line_item) {
        //  A moving mean of the log gap: how often this account usually
        //  buys, so a busy account's pace is not read as a burst. Gaps are
        //  bounded to 1 s .. 30 days.
        double gap_s = (double) (tx->ts_ms - acct->last_ms) / 1000.0;
        double log_gap = log (gap_s < 1? 1: gap_s > 2592000? 2592000: gap_s);
        acct->log_gap = acct->count == 1? (float) log_gap
                      : (float) (acct->log_gap + PROFILES_GAP_ALPHA * (log_gap - acct->log_gap));
    }
    //  Welford's running mean and sum of squares, on a log scale so one
    //  huge purchase does not drown the account's usual spread.
    acct->count++;
    double delta = log_amount - acct->log_mean;
    acct->log_mean += (float) (delta / acct->count);
    acct->log_m2 += (float) (delta * (log_amount - acct->log_mean));

    //  A further line item of the latest order lands in that order's entry.
    uint8_t slot = line_item? (uint8_t) ((acct->ring_head + PROFILES_RING - 1) % PROFILES_RING)
                            : acct->ring_head;
    if (!line_item) {
        int64_t ts_s = tx->ts_ms / 1000;
        acct->ring [slot] = ts_s < 0? 0: ts_s > UINT32_MAX? UINT32_MAX: (uint32_t) ts_s;
        uint16_t bit = (uint16_t) (1u << slot);
        acct->small_mask = (flags & PROFILES_SMALL)? acct->small_mask | bit
                                                   : acct->small_mask & ~bit;
        acct->decline_mask = tx->status == TXW_STATUS_DECLINED?
            acct->decline_mask | bit: acct->decline_mask & ~bit;
        acct->near_mask = (flags & PROFILES_NEAR_LIMIT)? acct->near_mask | bit
                                                       : acct->near_mask & ~bit;
        acct->ring_head = (uint8_t) ((slot + 1) % PROFILES_RING);
        if (acct->ring_used < PROFILES_RING)
            acct->ring_used++;
        if (tx->ts_ms > acct->last_ms && tx->ts_ms <= PROFILES_MAX_MS)
            acct->last_ms = tx->ts_ms;
        s_bucket_add (acct, ts_s);
        acct->last_order = s_order_hash (tx);
    }
    if (!line_item)
        s_home_vote (acct, profiles_country_code (tx->country));
    if (!acct->home_branch)
        acct->home_branch = s_name_hash (tx->branch_id);
    if (!acct->home_region)
        acct->home_region = s_region_hash (tx->region);
    acct->dirty = 1;

    uint16_t country = profiles_country_code (tx->country);
    if (country) {
        if (!profiles_country_seen (acct, tx->country)) {
            acct->countries [acct->country_next] = country;
            acct->country_next = (uint8_t) ((acct->country_next + 1) % PROFILES_SEEN);
            if (settled) {
                acct->fresh_country = country;
                acct->fresh_country_s = acct->ring [slot];
            }
        }
        acct->last_country = country;
    }
    uint32_t device = profiles_device_hash (tx->device_id);
    if (device) {
        if (!profiles_device_seen (acct, tx->device_id)) {
            acct->devices [acct->device_next] = device;
            acct->device_next = (uint8_t) ((acct->device_next + 1) % PROFILES_SEEN);
            if (settled) {
                acct->fresh_device = device;
                acct->fresh_device_s = acct->ring [slot];
            }
        }
        acct->last_device = device;
    }
}

bool
profiles_branch_away (const profiles_account_t *acct, const char *branch_id)
{
    uint32_t h = s_name_hash (branch_id);
    return acct->home_branch && h && h != acct->home_branch;
}

bool
profiles_region_away (const profiles_account_t *acct, const char *region)
{
    uint16_t h = s_region_hash (region);
    return acct->home_region && h && h != acct->home_region;
}

//  The ring entries of a kind, as a bit set.
static inline uint32_t
s_mask (const profiles_account_t *acct, profiles_which_t which)
{
    switch (which) {
        case PROFILES_SMALL_ONLY:       return acct->small_mask;
        case PROFILES_DECLINED_ONLY:    return acct->decline_mask;
        case PROFILES_NEAR_LIMIT_ONLY:  return acct->near_mask;
        default:                        return 0xffff;
    }
}

uint32_t
profiles_count_within (const profiles_account_t *acct, int64_t now_ms,
                       int64_t window_ms, profiles_which_t which)
{
    //  Seconds resolution. An entry counts if it is less than window_ms
    //  away from now in either direction: with reordered input a late
    //  event has neighbours that are newer than itself.
    uint32_t mask = s_mask (acct, which);
    if (!mask)
        return 0;               //  most accounts, for the rarer kinds
    int64_t now_s = now_ms / 1000;
    int64_t window_s = window_ms / 1000;
    uint32_t count = 0;
    for (uint8_t i = 0; i < acct->ring_used; i++)
        if (mask & (1u << i)) {
            int64_t age = now_s - (int64_t) acct->ring [i];
            if (age < window_s && age > -window_s)
                count++;
        }
    return count;
}

uint32_t
profiles_count_last (const profiles_account_t *acct, uint32_t n, profiles_which_t which)
{
    uint32_t mask = s_mask (acct, which);
    if (n > acct->ring_used)
        n = acct->ring_used;
    uint32_t count = 0;
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t slot = (acct->ring_head + PROFILES_RING - k) % PROFILES_RING;
        count += (mask >> slot) & 1;
    }
    return count;
}

double
profiles_expected_within (const profiles_account_t *acct, int64_t window_ms)
{
    if (acct->count < 2)
        return 0;
    return (double) window_ms / 1000.0 / exp (acct->log_gap);
}

double
profiles_log_std (const profiles_account_t *acct)
{
    if (acct->count < 2)
        return 0;
    double var = acct->log_m2 / (acct->count - 1);
    return var > 0? sqrt (var): 0;
}

bool
profiles_country_seen (const profiles_account_t *acct, const char *country)
{
    uint16_t code = profiles_country_code (country);
    if (!code)
        return true;            //  unknown country: never "new"
    for (int i = 0; i < PROFILES_SEEN; i++)
        if (acct->countries [i] == code)
            return true;
    return false;
}

bool
profiles_device_seen (const profiles_account_t *acct, const char *device_id)
{
    uint32_t h = profiles_device_hash (device_id);
    if (!h)
        return true;            //  no device: never "new"
    for (int i = 0; i < PROFILES_SEEN; i++)
        if (acct->devices [i] == h)
            return true;
    return false;
}

//  Whether an event at now_ms is within fresh_ms of one at first_s (seconds).
static bool
s_fresh (uint32_t first_s, int64_t now_ms, int64_t fresh_ms)
{
    int64_t age_ms = now_ms - (int64_t) first_s * 1000;
    return age_ms < fresh_ms && age_ms > -fresh_ms;
}

bool
profiles_country_new (const profiles_account_t *acct, const char *country,
                      int64_t now_ms, int64_t fresh_ms)
{
    if (!profiles_country_seen (acct, country))
        return true;
    return acct->fresh_country
        && acct->fresh_country == profiles_country_code (country)
        && s_fresh (acct->fresh_country_s, now_ms, fresh_ms);
}

bool
profiles_device_new (const profiles_account_t *acct, const char *device_id,
                     int64_t now_ms, int64_t fresh_ms)
{
    if (!profiles_device_seen (acct, device_id))
        return true;
    return acct->fresh_device
        && acct->fresh_device == profiles_device_hash (device_id)
        && s_fresh (acct->fresh_device_s, now_ms, fresh_ms);
}

size_t
profiles_collect_dirty (profiles_t *self, profiles_account_t *out, size_t max)
{
    size_t n = 0;
    uint32_t scanned = 0;
    while (n < max && scanned < self->used_top) {
        if (self->collect_next >= self->used_top)
            self->collect_next = 0;
        profiles_account_t *a = &self->entries [self->collect_next++];
        scanned++;
        if (a->hash && a->dirty) {
            a->dirty = 0;
            out [n] = *a;
            out [n].lru_prev = out [n].lru_next = 0;
            n++;
        }
    }
    return n;
}

uint32_t
profiles_tx_hash (const char *tx_id)
{
    uint64_t h = txw_hash (tx_id, strnlen (tx_id, TXW_ID_MAX + 1));
    uint32_t folded = (uint32_t) (h ^ (h >> 32));
    return folded? folded: 1;
}

bool
profiles_has_tx (const profiles_account_t *acct, uint32_t tx_hash)
{
    for (int i = 0; i < PROFILES_TX_SEEN; i++)
        if (acct->tx_seen [i] == tx_hash)
            return true;
    return false;
}

void
profiles_note_tx (profiles_account_t *acct, uint32_t tx_hash)
{
    uint8_t slot = acct->tx_seen_head % PROFILES_TX_SEEN;
    acct->tx_seen [slot] = tx_hash;
    acct->tx_seen_head = (uint8_t) ((slot + 1) % PROFILES_TX_SEEN);
}

int
profiles_restore (profiles_t *self, const profiles_account_t *record)
{
    if (!record->hash || record->count == 0 || record->ring_used > PROFILES_RING
    ||  record->ring_head >= PROFILES_RING || record->tx_seen_head >= PROFILES_TX_SEEN
    ||  record->country_next >= PROFILES_SEEN
    ||  record->device_next >= PROFILES_SEEN || record->home_votes > PROFILES_HOME_SURE
    ||  record->last_ms < 0
    ||  record->last_ms > PROFILES_MAX_MS)
        return -1;
    if (self->free_head || self->used_top >= self->max_accounts)
        return -1;              //  only into a fresh table, never evicting
    uint64_t mask = self->index_mask;
    uint64_t i = record->hash & mask;
    for (uint64_t v; (v = self->index [i]); i = (i + 1) & mask) {
        const profiles_account_t *a = &self->entries [(uint32_t) v - 1];
        if (a->hash == record->hash && a->id_check == record->id_check)
            return -1;
    }
    uint32_t e = self->used_top++;
    profiles_account_t *a = &self->entries [e];
    *a = *record;
    a->lru_prev = a->lru_next = 0;
    a->dirty = 0;
    self->index [i] = s_slot_value (a->hash, e);
    s_lru_push_head (self, e);
    self->size++;
    return 0;
}

int
profiles_upgrade (profiles_account_t *record, int layout)
{
    switch (layout) {
        case PROFILES_LAYOUT:
            return 0;
        case PROFILES_LAYOUT_NO_HOME:
            record->home_country = 0;
            record->home_votes = 0;
            /* fall through */
        case PROFILES_LAYOUT_TX16:
            //  The sixteenth id slot is near_mask and spare now: the
            //  fifteen others keep their ids, and the next one written
            //  goes where the head pointed unless that was the sixteenth.
            record->near_mask = 0;
            record->spare = 0;
            if (record->tx_seen_head >= PROFILES_TX_SEEN)
                record->tx_seen_head = 0;
            return 0;
        default:
            return -1;
    }
}

size_t
profiles_size (const profiles_t *self)
{
    return self->size;
}

uint64_t
profiles_evicted_cap (const profiles_t *self)
{
    return self->evicted_cap;
}

uint64_t
profiles_evicted_idle (const profiles_t *self)
{
    return self->evicted_idle;
}
