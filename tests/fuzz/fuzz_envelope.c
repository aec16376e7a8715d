/* fuzz_envelope: libFuzzer target for the first code every network byte meets — the
 * envelope decoder and its framing checks. Beyond "no crash, no leak, no UB", it checks
 * the round trip: a decoded envelope packs, and decoding that packing gives the same
 * message (compared by packing it again: protobuf-c packs deterministically).
 * CI replays the committed corpus (tests/fuzz/corpus/envelope); a long run:
 *   build/test/tests/fuzz_envelope -runs=10000000 tests/fuzz/corpus/envelope */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

static void check_round_trip(const Arrears__Envelope *env)
{
    size_t len = arrears__envelope__get_packed_size(env);
    uint8_t *first = malloc(len ? len : 1), *second = malloc(len ? len : 1);
    if (!first || !second)
        abort();
    if (arrears__envelope__pack(env, first) != len)
        abort();
    Arrears__Envelope *again = arrears__envelope__unpack(NULL, len, first);
    if (!again)
        abort();   /* what we packed must decode */
    if (arrears__envelope__get_packed_size(again) != len || arrears__envelope__pack(again, second) != len
        || memcmp(first, second, len) != 0)
        abort();   /* decode -> encode -> decode changed the message */
    arrears__envelope__free_unpacked(again, NULL);
    free(first);
    free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Arrears__Envelope *env = NULL;
    envelope_kind_t kind;
    reject_t reject;
    if (envelope_decode(data, size, &env, &kind, &reject) != 0) {
        if (reject.seq != 0 || reject.reason[0] == 0)
            abort();   /* an undecodable frame is refused on seq 0, with a reason */
        return 0;
    }
    check_round_trip(env);
    uint8_t reply[ENVELOPE_REPLY_MAX_BYTES];
    reject_set(&reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED, "x", "%s", "fuzz");
    if (envelope_pack_reject(env->stream_id, env->request_id, &reject, reply, sizeof reply) == 0)
        abort();
    envelope_free(&env);
    return 0;
}
