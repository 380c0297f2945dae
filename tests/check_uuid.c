/*
 * UUIDs: the text form both ways, and UUIDv7 generation (layout, timestamp,
 * strict monotonicity in one thread and across four).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckrun.h"
#include "clinickv/error.h"
#include "uuid.h"

#define S(lit) lit, sizeof(lit) - 1

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_parse_format_known)
{
    /* A version-1 id as MariaDB's UUID() writes it, and its bytes. */
    static const uint8_t want[16] = {0x6c, 0xcd, 0x78, 0x0c, 0xba, 0xba, 0x10, 0x26,
                                     0x95, 0x64, 0x5b, 0x8c, 0x65, 0x60, 0x24, 0xdb};
    uint8_t id[16];
    ck_assert_int_eq(ck_uuid_parse(S("6ccd780c-baba-1026-9564-5b8c656024db"), id), 0);
    ck_assert_mem_eq(id, want, 16);
    memset(id, 0, sizeof id);
    ck_assert_int_eq(ck_uuid_parse(S("6CCD780C-BABA-1026-9564-5B8C656024DB"), id), 0);
    ck_assert_mem_eq(id, want, 16);
    memset(id, 0, sizeof id);
    ck_assert_int_eq(ck_uuid_parse(S("6cCd780C-bAbA-1026-9564-5b8C656024Db"), id), 0);
    ck_assert_mem_eq(id, want, 16);

    char out[37];
    ck_uuid_format(want, out);
    ck_assert_str_eq(out, "6ccd780c-baba-1026-9564-5b8c656024db");
    ck_assert_uint_eq(strlen(out), CK_UUID_STRLEN);
    static const uint8_t zero[16] = {0},
                         ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ck_uuid_format(zero, out);
    ck_assert_str_eq(out, "00000000-0000-0000-0000-000000000000");
    ck_uuid_format(ones, out);
    ck_assert_str_eq(out, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}
END_TEST

START_TEST(test_round_trip_random)
{
    uint64_t st = 99;
    for (int i = 0; i < 100000; i++) {
        uint8_t id[16], back[16];
        for (int k = 0; k < 16; k++) {
            st = st * UINT64_C(6364136223846793005) + 1442695040888963407u;
            id[k] = (uint8_t)(st >> 56);
        }
        char txt[37], upper[37];
        ck_uuid_format(id, txt);
        ck_assert_int_eq(ck_uuid_parse(txt, CK_UUID_STRLEN, back), 0);
        ck_assert_mem_eq(id, back, 16);
        for (int k = 0; k < 37; k++)
            upper[k] = (char)(txt[k] >= 'a' && txt[k] <= 'f' ? txt[k] - 32 : txt[k]);
        memset(back, 0, sizeof back);
        ck_assert_int_eq(ck_uuid_parse(upper, CK_UUID_STRLEN, back), 0);
        ck_assert_mem_eq(id, back, 16);
    }
}
END_TEST

START_TEST(test_malformed)
{
    static const char *const bad[] = {
        "",
        "6ccd780c-baba-1026-9564-5b8c656024d",   /* 35 */
        "6ccd780c-baba-1026-9564-5b8c656024dbb", /* 37 */
        "6ccd780c0baba010260956405b8c656024db",  /* no dashes, 36 */
        "6ccd780c-baba-1026-95645-b8c656024db",  /* dash moved */
        "6ccd780-cbaba-1026-9564-5b8c656024db",
        "6ccd780c_baba_1026_9564_5b8c656024db",
        "6ccd780g-baba-1026-9564-5b8c656024db", /* g */
        "6ccd780c-baba-1026-9564-5b8c656024d ",
        " 6ccd780c-baba-1026-9564-5b8c656024d",
        "{6ccd780c-baba-1026-9564-5b8c656024d}",
        "urn:uuid:6ccd780c-baba-1026-9564-5b8c",
        "6ccd780c-baba-1026-9564-5b8c656024dx",
        "+ccd780c-baba-1026-9564-5b8c656024db",
        "6ccd780c-baba-1026-9564-5b8c6560\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t id[16];
        memset(id, 0xab, sizeof id);
        ck_assert_msg(ck_uuid_parse(bad[i], strlen(bad[i]), id) == -CK_EINVAL, "accepted '%s'",
                      bad[i]);
        for (int k = 0; k < 16; k++)
            ck_assert_uint_eq(id[k], 0xab);
    }
    uint8_t id[16];
    ck_assert_int_eq(ck_uuid_parse("6ccd780c-baba-1026-9564-5b8c656024d\0", 36, id), -CK_EINVAL);
    ck_assert_int_eq(ck_uuid_parse(NULL, 36, id), -CK_EINVAL);
}
END_TEST

START_TEST(test_v7_layout)
{
    int64_t before = wall_ms();
    uint8_t id[16];
    ck_uuid_v7(id);
    int64_t after = wall_ms();
    ck_assert_uint_eq(id[6] >> 4, 7); /* version */
    ck_assert_uint_eq(id[8] >> 6, 2); /* variant 10 */
    int64_t ms = ck_uuid_v7_ms(id);
    ck_assert_int_ge(ms, before);
    ck_assert_int_le(ms, after + 1); /* the sequence's carry may borrow a millisecond */
    char txt[37];
    ck_uuid_format(id, txt);
    ck_assert_int_eq(txt[14], '7');
    ck_assert(strchr("89ab", txt[19]) != NULL);

    static const uint8_t known[16] = {0x01, 0x8f, 0x3a, 0x4b, 0x5c, 0x6d, 0x70, 0,
                                      0x80, 0,    0,    0,    0,    0,    0,    0};
    ck_assert_int_eq(ck_uuid_v7_ms(known), INT64_C(0x018f3a4b5c6d));
}
END_TEST

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

START_TEST(test_v7_monotonic)
{
    enum { N = 1000000 };
    uint8_t(*ids)[16] = malloc((size_t)N * 16);
    ck_assert_ptr_nonnull(ids);
    int64_t start = wall_ms();
    for (int i = 0; i < N; i++)
        ck_uuid_v7(ids[i]);
    int64_t end = wall_ms();
    for (int i = 0; i < N; i++) {
        if (i > 0 && memcmp(ids[i - 1], ids[i], 16) >= 0)
            ck_abort_msg("id %d is not greater than id %d", i, i - 1);
        if ((ids[i][6] >> 4) != 7 || (ids[i][8] >> 6) != 2)
            ck_abort_msg("id %d: bad version or variant", i);
    }
    /* Timestamps stay near the clock: at most one borrowed millisecond per
     * 2048 ids beyond what the clock gave. */
    ck_assert_int_ge(ck_uuid_v7_ms(ids[0]), start);
    ck_assert_int_le(ck_uuid_v7_ms(ids[N - 1]), end + N / 2048 + 1);
    printf("uuid: %d ids strictly increasing, %lld ms of clock, last id %+lld ms from it\n", N,
           (long long)(end - start), (long long)(ck_uuid_v7_ms(ids[N - 1]) - end));
    free(ids);
}
END_TEST

enum { NTHREADS = 4, PER_THREAD = 250000 };

struct gen {
    uint8_t (*ids)[16];
    int out_of_order;
};

static void *gen_thread(void *p)
{
    struct gen *g = p;
    for (int i = 0; i < PER_THREAD; i++) {
        ck_uuid_v7(g->ids[i]);
        if (i > 0 && memcmp(g->ids[i - 1], g->ids[i], 16) >= 0)
            g->out_of_order++;
    }
    return NULL;
}

START_TEST(test_v7_threads)
{
    uint8_t(*all)[16] = malloc((size_t)NTHREADS * PER_THREAD * 16);
    ck_assert_ptr_nonnull(all);
    pthread_t th[NTHREADS];
    struct gen g[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        g[t].ids = all + (size_t)t * PER_THREAD;
        g[t].out_of_order = 0;
        ck_assert_int_eq(pthread_create(&th[t], NULL, gen_thread, &g[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_int_eq(g[t].out_of_order, 0);
    }
    qsort(all, (size_t)NTHREADS * PER_THREAD, 16, cmp16);
    for (size_t i = 1; i < (size_t)NTHREADS * PER_THREAD; i++)
        if (memcmp(all[i - 1], all[i], 16) == 0)
            ck_abort_msg("duplicate id after sorting, at %zu", i);
    printf("uuid: %d threads x %d ids: each thread increasing, all distinct\n", NTHREADS,
           PER_THREAD);
    free(all);
}
END_TEST

static Suite *uuid_suite(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("uuid");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_parse_format_known);
    tcase_add_test(tc, test_round_trip_random);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_v7_layout);
    tcase_add_test(tc, test_v7_monotonic);
    tcase_add_test(tc, test_v7_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(uuid_suite());
}
