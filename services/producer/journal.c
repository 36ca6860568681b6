/*  journal - the batches a producer sent that are not yet acknowledged

    See journal.h. One ring of entries per message type, in sequence
    order, so an acknowledgement finds its batch by subtraction. A fully
    acknowledged entry frees its frame at once and leaves the ring when it
    reaches the front.                                                       */

#include "journal.h"
#include "codec.h"
#include "ring.h"

#include <stdlib.h>
#include <string.h>

#define S_MAX_TIMEOUT_MS    60000

typedef struct {
    uint64_t seq;
    uint8_t *frame;             //  NULL once every record is acknowledged
    size_t size;
    uint32_t records;
    uint32_t unacked;
    uint8_t *acked;             //  one bit per record
    uint64_t first_line;
    int64_t due_ms;
    int64_t timeout_ms;
} s_entry_t;

typedef struct {
    s_entry_t *items;
    size_t head, count, capacity;
} s_ring_t;

struct _journal_t {
    s_ring_t rings [TXW_MSG_TYPE_MAX + 1];
    size_t max_records;
    size_t unacked;
    int64_t timeout_ms;
};

journal_t *
journal_new (size_t max_records, int64_t timeout_ms)
{
    journal_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->max_records = max_records? max_records: 1;
    self->timeout_ms = timeout_ms > 0? timeout_ms: 1;
    return self;
}

static void
s_entry_free (s_entry_t *e)
{
    free (e->frame);
    free (e->acked);
    e->frame = NULL;
    e->acked = NULL;
}

void
journal_destroy (journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    journal_t *self = *self_p;
    for (int t = 0; t <= TXW_MSG_TYPE_MAX; t++) {
        s_ring_t *ring = &self->rings [t];
        for (size_t i = 0; i < ring->count; i++)
            s_entry_free (&ring->items [(ring->head + i) % ring->capacity]);
        free (ring->items);
    }
    free (self);
    *self_p = NULL;
}

static s_entry_t *
s_at (s_ring_t *ring, size_t i)
{
    return &ring->items [(ring->head + i) % ring->capacity];
}

//  Drops acknowledged entries from the front.
static void
s_trim (s_ring_t *ring)
{
    while (ring->count && s_at (ring, 0)->frame == NULL) {
        ring->head = (ring->head + 1) % ring->capacity;
        ring->count--;
    }
}

//  Appends an entry to a ring. Returns it, or NULL if out of memory.
static s_entry_t *
s_push (s_ring_t *ring, uint64_t seq)
{
    if (ring->count == ring->capacity
    &&  txw_ring_grow ((void **) &ring->items, sizeof *ring->items, &ring->head, ring->count,
                       &ring->capacity, 64))
        return NULL;
    s_entry_t *e = s_at (ring, ring->count++);
    memset (e, 0, sizeof *e);
    e->seq = seq;
    return e;
}

int
journal_add (journal_t *self, uint32_t type, uint64_t seq, const void *frame,
             size_t size, uint32_t records, uint64_t first_line, int64_t now_ms)
{
    if (type > TXW_MSG_TYPE_MAX || records == 0)
        return -1;
    s_ring_t *ring = &self->rings [type];
    if (ring->count && s_at (ring, ring->count - 1)->seq >= seq)
        return -1;              //  not in sequence order
    //  A batch that could not be kept earlier leaves a hole: an empty
    //  entry, so a sequence number still finds its entry by subtraction.
    while (ring->count && s_at (ring, ring->count - 1)->seq + 1 < seq)
        if (!s_push (ring, s_at (ring, ring->count - 1)->seq + 1))
            return -1;
    s_entry_t *e = s_push (ring, seq);
    if (!e)
        return -1;
    e->frame = malloc (size);
    e->acked = calloc ((records + 7) / 8, 1);
    if (!e->frame || !e->acked) {
        s_entry_free (e);
        s_trim (ring);
        return -1;
    }
    memcpy (e->frame, frame, size);
    e->size = size;
    e->records = e->unacked = records;
    e->first_line = first_line;
    e->timeout_ms = self->timeout_ms;
    e->due_ms = now_ms + self->timeout_ms;
    self->unacked += records;
    return 0;
}

bool
journal_ack (journal_t *self, uint64_t ref)
{
    uint32_t type = txw_origin_ref_type (ref);
    if (type > TXW_MSG_TYPE_MAX)
        return false;
    s_ring_t *ring = &self->rings [type];
    if (ring->count == 0)
        return false;
    uint64_t seq = txw_origin_ref_seq (ref);
    uint64_t first = s_at (ring, 0)->seq;
    if (seq < first || seq - first >= ring->count)
        return false;           //  acknowledged in full before, or not ours
    s_entry_t *e = s_at (ring, (size_t) (seq - first));
    uint32_t index = txw_origin_ref_index (ref);
    if (!e->frame || index >= e->records || (e->acked [index / 8] & (1u << (index % 8))))
        return false;
    e->acked [index / 8] |= (uint8_t) (1u << (index % 8));
    e->unacked--;
    self->unacked--;
    if (e->unacked == 0) {
        s_entry_free (e);
        s_trim (ring);
    }
    return true;
}

size_t
journal_resend_due (journal_t *self, int64_t now_ms, journal_send_fn *send, void *arg)
{
    size_t sent = 0;
    for (int t = 0; t <= TXW_MSG_TYPE_MAX; t++) {
        s_ring_t *ring = &self->rings [t];
        for (size_t i = 0; i < ring->count; i++) {
            s_entry_t *e = s_at (ring, i);
            if (!e->frame || e->due_ms > now_ms)
                continue;
            if (send (arg, e->frame, e->size, e->records))
                return sent;
            sent++;
            e->timeout_ms = e->timeout_ms * 2 > S_MAX_TIMEOUT_MS? S_MAX_TIMEOUT_MS
                          : e->timeout_ms * 2;
            e->due_ms = now_ms + e->timeout_ms;
        }
    }
    return sent;
}

int64_t
journal_due_ms (journal_t *self, int64_t now_ms)
{
    int64_t due = -1;
    for (int t = 0; t <= TXW_MSG_TYPE_MAX; t++) {
        s_ring_t *ring = &self->rings [t];
        for (size_t i = 0; i < ring->count; i++) {
            s_entry_t *e = s_at (ring, i);
            if (!e->frame)
                continue;
            int64_t left = e->due_ms > now_ms? e->due_ms - now_ms: 0;
            if (due < 0 || left < due)
                due = left;
        }
    }
    return due;
}

size_t
journal_unacked (const journal_t *self)
{
    return self->unacked;
}

bool
journal_full (const journal_t *self)
{
    return self->unacked >= self->max_records;
}

uint64_t
journal_first_line (const journal_t *self)
{
    uint64_t line = 0;
    for (int t = 0; t <= TXW_MSG_TYPE_MAX; t++) {
        const s_ring_t *ring = &self->rings [t];
        for (size_t i = 0; i < ring->count; i++) {
            const s_entry_t *e = &ring->items [(ring->head + i) % ring->capacity];
            if (e->frame && e->first_line && (line == 0 || e->first_line < line))
                line = e->first_line;
        }
    }
    return line;
}
