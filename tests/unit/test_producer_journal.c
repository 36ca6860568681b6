/*  test_producer_journal - the producer's journal of unacknowledged batches,
    and the acknowledgement FIFO of the stages that send them back          */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acks.h"
#include "codec.h"
#include "journal.h"
#include "ring.h"

typedef struct {
    int calls;
    uint32_t records [16];
    char first [16];            //  the frame's first byte, to tell them apart
    int fail_at;                //  the call that returns -1 (0: none)
} s_sent_t;

static int
s_send (void *arg, const void *frame, size_t size, uint32_t records)
{
    s_sent_t *sent = arg;
    (void) size;
    if (sent->fail_at && sent->calls + 1 == sent->fail_at)
        return -1;
    sent->records [sent->calls] = records;
    sent->first [sent->calls] = *(const char *) frame;
    sent->calls++;
    return 0;
}

static uint64_t
s_ref (uint64_t seq, uint32_t index)
{
    return txw_origin_ref (TXW_MSG_RAW_TX, seq, index);
}

static void
test_origin_ref_round_trip (void **state)
{
    (void) state;
    uint64_t ref = txw_origin_ref (TXW_MSG_REJECT, 0xFFFFFFFFFFull, 65535);
    assert_int_equal (txw_origin_ref_type (ref), TXW_MSG_REJECT);
    assert_true (txw_origin_ref_seq (ref) == 0xFFFFFFFFFFull);
    assert_int_equal (txw_origin_ref_index (ref), 65535);
    //  Same source, another epoch: another life.
    assert_true (txw_origin_id ("p", 1, 1) != txw_origin_id ("p", 1, 2));
    assert_true (txw_origin_id ("p", 1, 1) != 0);
}

static void
test_ack_frees_and_bounds (void **state)
{
    (void) state;
    journal_t *j = journal_new (5, 1000);
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 1, "a", 1, 3, 2, 0), 0);
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 2, "b", 1, 2, 5, 0), 0);
    assert_int_equal (journal_unacked (j), 5);
    assert_true (journal_full (j));
    assert_int_equal (journal_first_line (j), 2);
    //  The second batch whole, out of order: the first still holds line 2.
    assert_true (journal_ack (j, s_ref (2, 1)));
    assert_false (journal_ack (j, s_ref (2, 1)));          //  twice: once
    assert_true (journal_ack (j, s_ref (2, 0)));
    assert_int_equal (journal_unacked (j), 3);
    assert_false (journal_full (j));
    assert_int_equal (journal_first_line (j), 2);
    //  Not ours: an index past the batch, a sequence never sent, another type.
    assert_false (journal_ack (j, s_ref (1, 3)));
    assert_false (journal_ack (j, s_ref (9, 0)));
    assert_false (journal_ack (j, txw_origin_ref (TXW_MSG_REJECT, 1, 0)));
    for (uint32_t i = 0; i < 3; i++)
        assert_true (journal_ack (j, s_ref (1, i)));
    assert_int_equal (journal_unacked (j), 0);
    assert_int_equal (journal_first_line (j), 0);
    assert_int_equal (journal_due_ms (j, 0), -1);
    //  Acknowledged in full and trimmed: a late copy changes nothing.
    assert_false (journal_ack (j, s_ref (1, 0)));
    journal_destroy (&j);
    assert_null (j);
}

static void
test_resend_after_timeout_with_backoff (void **state)
{
    (void) state;
    journal_t *j = journal_new (100, 1000);
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 1, "a", 1, 2, 0, 0), 0);
    assert_int_equal (journal_add (j, TXW_MSG_REJECT, 1, "r", 1, 1, 0, 500), 0);
    s_sent_t sent = { 0 };
    assert_int_equal (journal_resend_due (j, 999, s_send, &sent), 0);
    assert_int_equal (journal_due_ms (j, 999), 1);
    assert_int_equal (journal_resend_due (j, 1000, s_send, &sent), 1);
    assert_int_equal (sent.first [0], 'a');
    assert_int_equal (sent.records [0], 2);
    //  The timeout doubles: the copy is due 2000 ms later, not 1000.
    assert_int_equal (journal_resend_due (j, 2500, s_send, &sent), 1);
    assert_int_equal (sent.first [1], 'r');
    assert_int_equal (journal_resend_due (j, 2999, s_send, &sent), 0);
    assert_int_equal (journal_resend_due (j, 3000, s_send, &sent), 1);
    //  A batch partly acknowledged still goes whole; acknowledged, never.
    assert_true (journal_ack (j, txw_origin_ref (TXW_MSG_REJECT, 1, 0)));
    assert_true (journal_ack (j, s_ref (1, 0)));
    assert_int_equal (journal_resend_due (j, 7000, s_send, &sent), 1);
    assert_int_equal (sent.records [3], 2);
    assert_true (journal_ack (j, s_ref (1, 1)));
    assert_int_equal (journal_resend_due (j, 1000000, s_send, &sent), 0);
    //  A send that gives up (shutdown) stops the round.
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 2, "c", 1, 1, 0, 0), 0);
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 3, "d", 1, 1, 0, 0), 0);
    s_sent_t failing = { .fail_at = 2 };
    assert_int_equal (journal_resend_due (j, 5000, s_send, &failing), 1);
    journal_destroy (&j);
}

static void
test_holes_and_order (void **state)
{
    (void) state;
    journal_t *j = journal_new (100, 1000);
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 1, "a", 1, 1, 10, 0), 0);
    //  Batch 2 was never kept (out of memory): 3 still finds its entry.
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 3, "c", 1, 1, 30, 0), 0);
    //  Out of order is refused.
    assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, 3, "x", 1, 1, 40, 0), -1);
    assert_false (journal_ack (j, s_ref (2, 0)));
    assert_true (journal_ack (j, s_ref (1, 0)));
    assert_int_equal (journal_first_line (j), 30);
    assert_true (journal_ack (j, s_ref (3, 0)));
    assert_int_equal (journal_unacked (j), 0);
    //  Thousands of batches: the ring grows and keeps its order.
    for (uint64_t seq = 4; seq < 3004; seq++)
        assert_int_equal (journal_add (j, TXW_MSG_RAW_TX, seq, "z", 1, 1, seq, 0), 0);
    for (uint64_t seq = 3003; seq >= 1004; seq--)
        assert_true (journal_ack (j, s_ref (seq, 0)));
    assert_int_equal (journal_unacked (j), 1000);
    assert_int_equal (journal_first_line (j), 4);
    journal_destroy (&j);
}

static void
test_acks_fifo (void **state)
{
    (void) state;
    txw_acks_t acks;
    txw_acks_init (&acks);
    for (uint64_t i = 0; i < 3000; i++)
        assert_int_equal (txw_acks_note (&acks, i % 3, i), 0);     //  every third: no origin
    assert_int_equal (txw_acks_count (&acks), 3000);
    txw_out_t *pub = txw_out_new (TXW_OUT_PUB, "inproc://acks-test", "t", 1000, 1);
    assert_non_null (pub);
    txw_acks_publish (&acks, pub, 1500);
    assert_int_equal (txw_acks_count (&acks), 1500);
    assert_int_equal (acks.published, 1000);            //  the origin-less are skipped
    txw_acks_publish (&acks, pub, 99999);
    assert_int_equal (txw_acks_count (&acks), 0);
    assert_int_equal (acks.published, 2000);
    txw_out_destroy (&pub);
    txw_acks_fini (&acks);
}

//  A wrapped ring grows into one whose oldest element is first.
static void
test_ring_grow_unrolls (void **state)
{
    (void) state;
    size_t capacity = 0, head = 0;
    int *items = NULL;
    assert_int_equal (txw_ring_grow ((void **) &items, sizeof *items, &head, 0, &capacity, 4), 0);
    assert_int_equal (capacity, 4);
    //  Holding 12, 13, 10, 11 with the oldest (10) at index 2.
    items [2] = 10; items [3] = 11; items [0] = 12; items [1] = 13;
    head = 2;
    assert_int_equal (txw_ring_grow ((void **) &items, sizeof *items, &head, 4, &capacity, 4), 0);
    assert_int_equal (capacity, 8);
    assert_int_equal (head, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal (items [i], 10 + i);
    free (items);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_origin_ref_round_trip),
        cmocka_unit_test (test_ack_frees_and_bounds),
        cmocka_unit_test (test_resend_after_timeout_with_backoff),
        cmocka_unit_test (test_holes_and_order),
        cmocka_unit_test (test_acks_fifo),
        cmocka_unit_test (test_ring_grow_unrolls),
    };
    return cmocka_run_group_tests_name ("producer journal", tests, NULL, NULL);
}
