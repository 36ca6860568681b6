/*  features - per-account rolling state that the fraud rules read          */

#include "features.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

_Static_assert (sizeof (features_account_t) <= 216, "account record grew: check the budget");

//  An index slot holds (entry index + 1) in the low 32 bits and the top 32
//  bits of the account hash above them, so most probes that miss never touch
//  the entry itself. 0 is an empty slot.
struct _features_t {
    uint64_t *index;
    uint64_t index_mask;
    features_account_t *entries;    //  max_accounts records, touched lazily
    uint32_t max_accounts;
    uint32_t used_top;              //  entries handed out so far
    uint32_t free_head;             //  recycled entries, by lru_next; index + 1
    uint32_t lru_head, lru_tail;    //  most / least recently seen; index + 1
    size_t size;
    int64_t idle_ms;
    int64_t clock_ms;               //  newest event time seen
    uint64_t evicted_cap;
    uint64_t evicted_idle;
};

//  Every scorer shard only holds accounts with txw_hash (id) % shards equal
//  to its shard number, so the low bits of the raw FNV hash are the same
//  for all of them; a finaliser spreads them before they pick a slot.
static uint64_t
s_mix (uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h? h: 1;
}

static inline uint64_t
s_slot_value (uint64_t hash, uint32_t entry)
{
    return (hash & 0xffffffff00000000ULL) | (uint64_t) (entry + 1);
}

features_t *
features_new (uint32_t max_accounts, int64_t idle_ms)
{
    if (max_accounts == 0 || max_accounts > (1u << 30))
        return NULL;
    features_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    //  At most half full, so linear probes stay short.
    uint64_t slots = 16;
    while (slots < (uint64_t) max_accounts * 2)
        slots <<= 1;
    self->index = calloc (slots, sizeof (uint64_t));
    self->entries = calloc (max_accounts, sizeof (features_account_t));
    if (!self->index || !self->entries) {
        features_destroy (&self);
        return NULL;
    }
    self->index_mask = slots - 1;
    self->max_accounts = max_accounts;
    self->idle_ms = idle_ms;
    self->clock_ms = 0;
    return self;
}

void
features_destroy (features_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    features_t *self = *self_p;
    free (self->index);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

//  --- Least-recently-seen list (indices are entry + 1, 0 = none) -------------

static void
s_lru_unlink (features_t *self, uint32_t e)
{
    features_account_t *a = &self->entries [e];
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
s_lru_push_head (features_t *self, uint32_t e)
{
    features_account_t *a = &self->entries [e];
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
s_index_remove (features_t *self, uint32_t e)
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
s_evict (features_t *self, uint32_t e)
{
    s_index_remove (self, e);
    s_lru_unlink (self, e);
    features_account_t *a = &self->entries [e];
    a->hash = 0;
    a->lru_next = self->free_head;
    self->free_head = e + 1;
    self->size--;
}

//  Evicts idle accounts from the cold end of the list. The list is in order
//  of arrival, which is event order give or take reordering, so stopping at
//  the first account that is not idle is close enough and bounded per call.
static void
s_expire_idle (features_t *self)
{
    if (self->idle_ms <= 0)
        return;
    for (int n = 0; n < 4 && self->lru_tail; n++) {
        uint32_t e = self->lru_tail - 1;
        if (self->clock_ms - self->entries [e].last_ms <= self->idle_ms)
            break;
        s_evict (self, e);
        self->evicted_idle++;
    }
}

features_account_t *
features_get (features_t *self, const char *id, size_t len, int64_t now_ms)
{
    assert (self);
    if (len == 0 || len > TXW_ID_MAX)
        return NULL;
    //  Bounded so that differences of event times cannot overflow.
    if (now_ms < 0)
        now_ms = 0;
    if (now_ms > FEATURES_MAX_MS)
        now_ms = FEATURES_MAX_MS;
    if (now_ms > self->clock_ms)
        self->clock_ms = now_ms;
    s_expire_idle (self);

    uint64_t hash = s_mix (txw_hash (id, len));
    uint64_t mask = self->index_mask;
    uint64_t i = hash & mask;
    for (;;) {
        uint64_t v = self->index [i];
        if (v == 0)
            break;
        if ((v >> 32) == (hash >> 32)) {
            uint32_t e = (uint32_t) v - 1;
            features_account_t *a = &self->entries [e];
            if (a->hash == hash && a->id_len == len && memcmp (a->id, id, len) == 0) {
                if (self->lru_head != e + 1) {
                    s_lru_unlink (self, e);
                    s_lru_push_head (self, e);
                }
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
    features_account_t *a = &self->entries [e];
    memset (a, 0, sizeof *a);
    a->hash = hash;
    a->id_len = (uint8_t) len;
    memcpy (a->id, id, len);
    a->last_ms = now_ms;
    self->index [i] = s_slot_value (hash, e);
    s_lru_push_head (self, e);
    self->size++;
    return a;
}

uint16_t
features_country_code (const char *country)
{
    if (!country [0] || !country [1] || country [2])
        return 0;
    return (uint16_t) ((uint8_t) country [0] << 8 | (uint8_t) country [1]);
}

uint32_t
features_device_hash (const char *device_id)
{
    size_t len = strlen (device_id);
    if (len == 0)
        return 0;
    uint32_t h = (uint32_t) (txw_hash (device_id, len) >> 32);
    return h? h: 1;
}

void
features_update (features_account_t *acct, const txw_tx_t *tx, unsigned flags)
{
    //  Welford's running mean and sum of squares, on the log of the amount
    //  so one huge purchase does not drown the account's usual spread.
    int64_t amount = tx->amount_rep_minor > 0? tx->amount_rep_minor: tx->amount_minor;
    double x = log1p (amount > 0? (double) amount: 0.0);
    acct->count++;
    double delta = x - acct->log_mean;
    acct->log_mean += (float) (delta / acct->count);
    acct->log_m2 += (float) (delta * (x - acct->log_mean));

    uint8_t slot = acct->ring_head;
    int64_t ts_s = tx->ts_ms / 1000;
    acct->ring [slot] = ts_s < 0? 0: ts_s > UINT32_MAX? UINT32_MAX: (uint32_t) ts_s;
    uint16_t bit = (uint16_t) (1u << slot);
    acct->small_mask = (flags & FEATURES_SMALL)? acct->small_mask | bit: acct->small_mask & ~bit;
    acct->decline_mask = tx->status == TXW_STATUS_DECLINED?
        acct->decline_mask | bit: acct->decline_mask & ~bit;
    acct->ring_head = (uint8_t) ((slot + 1) % FEATURES_RING);
    if (acct->ring_used < FEATURES_RING)
        acct->ring_used++;

    if (tx->ts_ms > acct->last_ms && tx->ts_ms <= FEATURES_MAX_MS)
        acct->last_ms = tx->ts_ms;

    uint16_t country = features_country_code (tx->country);
    if (country) {
        if (!features_country_seen (acct, tx->country)) {
            acct->countries [acct->country_next] = country;
            acct->country_next = (uint8_t) ((acct->country_next + 1) % FEATURES_SEEN);
        }
        acct->last_country = country;
    }
    uint32_t device = features_device_hash (tx->device_id);
    if (device) {
        if (!features_device_seen (acct, tx->device_id)) {
            acct->devices [acct->device_next] = device;
            acct->device_next = (uint8_t) ((acct->device_next + 1) % FEATURES_SEEN);
        }
        acct->last_device = device;
    }
}

uint32_t
features_count_within (const features_account_t *acct, int64_t now_ms,
                       int64_t window_ms, features_which_t which)
{
    //  Seconds resolution: an entry counts if it is less than window_ms old
    //  (or newer than now, which reordered input can give).
    uint32_t mask = which == FEATURES_SMALL_ONLY? acct->small_mask:
                    which == FEATURES_DECLINED_ONLY? acct->decline_mask: 0xffff;
    int64_t now_s = now_ms / 1000;
    int64_t window_s = window_ms / 1000;
    uint32_t count = 0;
    for (uint8_t i = 0; i < acct->ring_used; i++)
        if ((mask & (1u << i)) && now_s - (int64_t) acct->ring [i] < window_s)
            count++;
    return count;
}

double
features_log_std (const features_account_t *acct)
{
    if (acct->count < 2)
        return 0;
    double var = acct->log_m2 / (acct->count - 1);
    return var > 0? sqrt (var): 0;
}

bool
features_country_seen (const features_account_t *acct, const char *country)
{
    uint16_t code = features_country_code (country);
    if (!code)
        return true;            //  unknown country: never "new"
    for (int i = 0; i < FEATURES_SEEN; i++)
        if (acct->countries [i] == code)
            return true;
    return false;
}

bool
features_device_seen (const features_account_t *acct, const char *device_id)
{
    uint32_t h = features_device_hash (device_id);
    if (!h)
        return true;            //  no device: never "new"
    for (int i = 0; i < FEATURES_SEEN; i++)
        if (acct->devices [i] == h)
            return true;
    return false;
}

size_t
features_size (const features_t *self)
{
    return self->size;
}

uint64_t
features_evicted_cap (const features_t *self)
{
    return self->evicted_cap;
}

uint64_t
features_evicted_idle (const features_t *self)
{
    return self->evicted_idle;
}
