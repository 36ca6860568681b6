/*  txset - the transactions seen lately, to count each tx_id once          */

#include "txset.h"

#include <stdlib.h>
#include <string.h>

struct _txw_txset_t {
    uint64_t *ring;             //  hashes in insertion order
    size_t capacity;
    size_t size;
    size_t oldest;              //  ring position of the oldest
    uint32_t *index;            //  ring position + 1; 0 = empty slot
    size_t mask;                //  index slots - 1 (a power of two, >= 2 * capacity)
};

txw_txset_t *
txw_txset_new (size_t capacity)
{
    if (capacity < 1 || capacity > ((size_t) 1 << 30))
        return NULL;
    txw_txset_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t slots = 16;
    while (slots < capacity * 2)
        slots *= 2;
    self->capacity = capacity;
    self->mask = slots - 1;
    self->ring = malloc (capacity * sizeof *self->ring);
    self->index = calloc (slots, sizeof *self->index);
    if (!self->ring || !self->index)
        txw_txset_destroy (&self);
    return self;
}

void
txw_txset_destroy (txw_txset_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->ring);
    free ((*self_p)->index);
    free (*self_p);
    *self_p = NULL;
}

//  --- SipHash-2-4 (Aumasson and Bernstein), 64-bit output ---------------------

#define S_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define S_ROUND(v0, v1, v2, v3)                                         \
    do {                                                                \
        v0 += v1; v1 = S_ROTL (v1, 13); v1 ^= v0; v0 = S_ROTL (v0, 32); \
        v2 += v3; v3 = S_ROTL (v3, 16); v3 ^= v2;                       \
        v0 += v3; v3 = S_ROTL (v3, 21); v3 ^= v0;                       \
        v2 += v1; v1 = S_ROTL (v1, 17); v1 ^= v2; v2 = S_ROTL (v2, 32); \
    } while (0)

static uint64_t
s_load64 (const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p [i];
    return v;
}

uint64_t
txw_txset_hash (uint64_t k0, uint64_t k1, const char *id, size_t len)
{
    const unsigned char *p = (const unsigned char *) id;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    size_t whole = len & ~(size_t) 7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = s_load64 (p + i);
        v3 ^= m;
        S_ROUND (v0, v1, v2, v3);
        S_ROUND (v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = (uint64_t) (len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t) p [whole + i] << (8 * i);
    v3 ^= last;
    S_ROUND (v0, v1, v2, v3);
    S_ROUND (v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        S_ROUND (v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

//  --- The set ---------------------------------------------------------------

//  The index slot holding hash, or the empty slot where it would go.
static size_t
s_slot (const txw_txset_t *self, uint64_t hash)
{
    size_t i = (size_t) (hash ^ (hash >> 29)) & self->mask;
    while (self->index [i] && self->ring [self->index [i] - 1] != hash)
        i = (i + 1) & self->mask;
    return i;
}

bool
txw_txset_has (const txw_txset_t *self, uint64_t hash)
{
    return self->index [s_slot (self, hash)] != 0;
}

//  Removes index slot i, shifting back the entries of its run that would
//  no longer be found (linear probing without tombstones).
static void
s_remove (txw_txset_t *self, size_t i)
{
    size_t hole = i;
    for (size_t j = (i + 1) & self->mask; self->index [j]; j = (j + 1) & self->mask) {
        uint64_t h = self->ring [self->index [j] - 1];
        size_t home = (size_t) (h ^ (h >> 29)) & self->mask;
        //  j may move to the hole if its home is not in (hole, j].
        if (((j - home) & self->mask) >= ((j - hole) & self->mask)) {
            self->index [hole] = self->index [j];
            hole = j;
        }
    }
    self->index [hole] = 0;
}

bool
txw_txset_add (txw_txset_t *self, uint64_t hash)
{
    size_t i = s_slot (self, hash);
    if (self->index [i])
        return false;
    size_t at;
    if (self->size == self->capacity) {
        //  Full: the oldest makes room, and its ring position is reused.
        at = self->oldest;
        s_remove (self, s_slot (self, self->ring [at]));
        self->oldest = (self->oldest + 1) % self->capacity;
        self->size--;
        i = s_slot (self, hash);
    }
    else
        at = (self->oldest + self->size) % self->capacity;
    self->ring [at] = hash;
    self->index [i] = (uint32_t) at + 1;
    self->size++;
    return true;
}

size_t
txw_txset_size (const txw_txset_t *self)
{
    return self->size;
}

size_t
txw_txset_capacity (const txw_txset_t *self)
{
    return self->capacity;
}
