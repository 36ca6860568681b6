/*  garbage - sends hostile frames to a service's input socket

    Used by tests/e2e/garbage.sh: random bytes, truncated envelopes, forged
    lengths, wrong types, deep nesting, multipart and empty frames, each kind
    in turn. The service must count them, keep running and keep serving.

    Usage: txw-garbage ENDPOINT TYPE COUNT [SEED]
      TYPE is the message type the service accepts (1 raw_tx, 2 tx, 3 scored_tx);
      envelopes of that type carry records that are wrong inside.            */

#include "codec.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t s_state;

static uint32_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return (uint32_t) s_state;
}

//  An envelope of type `type` whose record array is `records` bytes long.
static void
s_envelope (msgpack_sbuffer *buf, uint32_t type, uint32_t count,
            const void *records, size_t size)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, buf, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 7);
    msgpack_pack_uint8 (&pk, TXW_PROTO_VERSION);
    msgpack_pack_uint8 (&pk, (uint8_t) type);
    msgpack_pack_str (&pk, 7);
    msgpack_pack_str_body (&pk, "garbage", 7);
    msgpack_pack_uint64 (&pk, 1);
    msgpack_pack_uint64 (&pk, s_rand ());
    msgpack_pack_int64 (&pk, 0);
    msgpack_pack_array (&pk, count);
    msgpack_sbuffer_write (buf, records, size);
}

int
main (int argc, char **argv)
{
    if (argc < 4) {
        fprintf (stderr, "usage: %s ENDPOINT TYPE COUNT [SEED]\n", argv [0]);
        return 2;
    }
    uint32_t type = (uint32_t) atoi (argv [2]);
    int count = atoi (argv [3]);
    s_state = argc > 4? strtoull (argv [4], NULL, 10): 88172645463325252ULL;
    zsock_t *push = zsock_new_push (argv [1]);
    if (!push)
        return 1;
    zsock_set_sndtimeo (push, 2000);
    void *handle = zsock_resolve (push);
    int sent = 0;
    char random [4096];
    for (int i = 0; i < count; i++) {
        msgpack_sbuffer buf;
        msgpack_sbuffer_init (&buf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        int kind = i % 9;
        switch (kind) {
            case 0: {           //  random bytes
                size_t n = 1 + s_rand () % sizeof random;
                for (size_t k = 0; k < n; k++)
                    random [k] = (char) s_rand ();
                msgpack_sbuffer_write (&buf, random, n);
                break;
            }
            case 1: {           //  a record that is an integer, then a string
                msgpack_sbuffer rec;
                msgpack_sbuffer_init (&rec);
                msgpack_packer rp;
                msgpack_packer_init (&rp, &rec, msgpack_sbuffer_write);
                msgpack_pack_int (&rp, 42);
                msgpack_pack_str (&rp, 3);
                msgpack_pack_str_body (&rp, "abc", 3);
                s_envelope (&buf, type, 2, rec.data, rec.size);
                msgpack_sbuffer_destroy (&rec);
                break;
            }
            case 2: {           //  records whose fields all have the wrong type
                msgpack_sbuffer rec;
                msgpack_sbuffer_init (&rec);
                msgpack_packer rp;
                msgpack_packer_init (&rp, &rec, msgpack_sbuffer_write);
                for (int r = 0; r < 3; r++) {
                    msgpack_pack_array (&rp, 21);
                    for (int f = 0; f < 21; f++)
                        if (f % 2)
                            msgpack_pack_double (&rp, 1.5);
                        else
                            msgpack_pack_map (&rp, 0);
                }
                s_envelope (&buf, type, 3, rec.data, rec.size);
                msgpack_sbuffer_destroy (&rec);
                break;
            }
            case 3: {           //  forged huge array in the records
                unsigned char forged [] = { 0xDD, 0xFF, 0xFF, 0xFF, 0xF0, 0x01 };
                s_envelope (&buf, type, 1, forged, sizeof forged);
                break;
            }
            case 4: {           //  the record count says more than there is
                unsigned char rec [] = { 0x90 };
                s_envelope (&buf, type, 60000, rec, sizeof rec);
                break;
            }
            case 5: {           //  deep nesting
                unsigned char deep [200];
                memset (deep, 0x91, sizeof deep);
                s_envelope (&buf, type, 1, deep, sizeof deep);
                break;
            }
            case 6: {           //  a truncated envelope
                unsigned char rec [] = { 0x92, 0xA1, 'x' };
                s_envelope (&buf, type, 1, rec, sizeof rec);
                buf.size -= 1 + s_rand () % 8;
                break;
            }
            case 7: {           //  a valid envelope of a type not accepted here
                s_envelope (&buf, type == TXW_MSG_WINDOW? TXW_MSG_TX: TXW_MSG_WINDOW, 0, "", 0);
                break;
            }
            case 8:             //  an empty frame, then a multipart message
                zmq_send (handle, "", 0, 0);
                zmq_send (handle, "a", 1, ZMQ_SNDMORE);
                msgpack_sbuffer_write (&buf, "b", 1);
                break;
        }
        if (zmq_send (handle, buf.data, buf.size, 0) >= 0)
            sent++;
        msgpack_sbuffer_destroy (&buf);
    }
    zsock_set_linger (push, 5000);
    zsock_destroy (&push);
    printf ("%d\n", sent);
    return 0;
}
