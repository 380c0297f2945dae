/*
 * The dump format's building blocks (tools/): JSON text back to canonical msgpack
 * (jsonmp.c) against known bytes and as the inverse of mpjson; MySQL literals of every
 * column type (dumpwrite.c); the secretstream framing, refusing a wrong key, a flipped
 * byte and truncation at every byte; key files; headers both ways.
 *
 * tests/CMakeLists.txt links Check suites with the core library only, so the tool
 * modules under test are compiled into this suite from their sources.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tools/dumpfmt.c"
#include "../tools/dumpwrite.c"
#include "../tools/jsonmp.c"
#include "ckrun.h"

#define B(s) s, sizeof(s) - 1

/* ------------------------------------------------------------------ JSON to msgpack */

struct jvec {
    const char *json;
    const char *mp;
    size_t len;
};

/* clang-format off */
static const struct jvec jvecs[] = {
    {"null", B("\xc0")},
    {" true ", B("\xc3")},
    {"false", B("\xc2")},
    {"0", B("\x00")},
    {"127", B("\x7f")},
    {"128", B("\xcc\x80")},
    {"300", B("\xcd\x01\x2c")},
    {"-1", B("\xff")},
    {"-33", B("\xd0\xdf")},
    {"-300", B("\xd1\xfe\xd4")},
    {"18446744073709551615", B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")},
    {"-9223372036854775808", B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00")},
    {"1.5", B("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00")},
    {"2.0", B("\xcb\x40\x00\x00\x00\x00\x00\x00\x00")},
    {"1e2", B("\xcb\x40\x59\x00\x00\x00\x00\x00\x00")},
    {"18446744073709551616", B("\xcb\x43\xf0\x00\x00\x00\x00\x00\x00")},
    {"\"\"", B("\xa0")},
    {"\"a\\\"b\\\\c\\/\\n\"", B("\xa7" "a\"b\\c/\n")},
    {"\"\\u00e9\"", B("\xa2\xc3\xa9")},
    {"\"\\ud834\\udd1e\"", B("\xa4\xf0\x9d\x84\x9e")},
    {"\"\\ud834x\"", B("\xa4\xef\xbf\xbdx")},
    {"[]", B("\x90")},
    {"{}", B("\x80")},
    {"[1,[2,{}]]", B("\x92\x01\x92\x02\x80")},
    {"{\"a\":1,\"b\":[true]}", B("\x82\xa1" "a" "\x01\xa1" "b" "\x91\xc3")},
    {"[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]",
     B("\xdc\x00\x10\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f")},
};
/* clang-format on */

START_TEST(test_json_vectors)
{
    const struct jvec *v = &jvecs[_i];
    struct buf out = BUF_INIT;
    struct ck_err err = CK_ERR_INIT;
    ck_assert_msg(json_to_mp(v->json, strlen(v->json), &out, &err) == 0, "%s: %s", v->json,
                  err.message);
    ck_assert_uint_eq(out.len, v->len);
    ck_assert_msg(memcmp(out.data, v->mp, v->len) == 0, "%s: wrong bytes", v->json);
    buf_free(&out);
    ck_err_free(&err);
}
END_TEST

static const char *const bad_json[] = {
    "",        "nul",           "01",   "-",     "1.",        ".5",    "1e",         "\"abc",
    "\"\\x\"", "\"\\u12\"",     "[1,]", "[1 2]", "{\"a\" 1}", "{1:2}", "{\"a\":1,}", "[",
    "1 2",     "\"tab\there\"", "+1",   "NaN",
};

START_TEST(test_json_refused)
{
    struct buf out = BUF_INIT;
    struct ck_err err = CK_ERR_INIT;
    buf_append(&out, "kept", 4);
    ck_assert_msg(json_to_mp(bad_json[_i], strlen(bad_json[_i]), &out, &err) == -CK_EINVAL,
                  "accepted: %s", bad_json[_i]);
    ck_assert_uint_eq(out.len, 4); /* the caller's bytes are left alone */
    ck_assert_ptr_nonnull(strstr(err.message, "malformed JSON"));
    buf_free(&out);
    ck_err_free(&err);
}
END_TEST

START_TEST(test_json_depth)
{
    char deep[2 * (JSONMP_MAX_DEPTH + 1) + 1];
    for (int i = 0; i <= JSONMP_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[JSONMP_MAX_DEPTH + 1 + i] = ']';
    }
    deep[sizeof deep - 1] = 0;
    struct buf out = BUF_INIT;
    struct ck_err err = CK_ERR_INIT;
    ck_assert_int_eq(json_to_mp(deep, strlen(deep), &out, &err), -CK_ETOOLARGE);
    ck_assert_int_eq(json_to_mp(deep + 1, strlen(deep) - 2, &out, &err), 0);
    buf_free(&out);
    ck_err_free(&err);
}
END_TEST

/* msgpack as clients send it -> mp_to_json -> json_to_mp gives the same bytes. */
START_TEST(test_json_inverse_of_mpjson)
{
    struct buf mp = BUF_INIT, json = BUF_INIT, back = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &mp);
    msgpack_pack_map(&pk, 5);
    mp_pack_cstr(&pk, "teeth");
    msgpack_pack_array(&pk, 20);
    for (int i = 0; i < 20; i++)
        msgpack_pack_int64(&pk, i * 1000 - 5000);
    mp_pack_cstr(&pk, "dose");
    msgpack_pack_double(&pk, 0.1);
    mp_pack_cstr(&pk, "note");
    mp_pack_cstr(&pk, "Zoë said \"ouch\"\n\t☺ 𝄞");
    mp_pack_cstr(&pk, "none");
    msgpack_pack_nil(&pk);
    mp_pack_cstr(&pk, "big");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    const char *p = mp.data;
    ck_assert_int_eq(mp_to_json(&p, mp.data + mp.len, &json), 0);
    struct ck_err err = CK_ERR_INIT;
    ck_assert_int_eq(json_to_mp(json.data, json.len, &back, &err), 0);
    ck_assert_uint_eq(back.len, mp.len);
    ck_assert(memcmp(back.data, mp.data, mp.len) == 0);
    buf_free(&mp);
    buf_free(&json);
    buf_free(&back);
    ck_err_free(&err);
}
END_TEST

/* ------------------------------------------------------------------ SQL literals */

static const struct ck_column *column(const char *table, const char *name)
{
    const struct ck_table *t = ck_table_find(table, strlen(table));
    ck_assert_ptr_nonnull(t);
    int c = ck_column_find(t, name, strlen(name));
    ck_assert_int_ge(c, 0);
    return &t->cols[c];
}

static void expect_sql(const char *table, const char *col, const struct ck_val *v, const char *want)
{
    struct buf out = BUF_INIT;
    dump_sql_value(&out, column(table, col), v);
    buf_push(&out, 0);
    ck_assert_msg(!out.oom && strcmp(out.data, want) == 0, "%s.%s: got %s, want %s", table, col,
                  out.data, want);
    buf_free(&out);
}

START_TEST(test_sql_literals)
{
    struct ck_val v = {.kind = CK_V_NULL};
    expect_sql("clinics", "name", &v, "NULL");
    static const char nasty[] = "O'Brien \\ \"x\"\n\r\032\0end";
    v = (struct ck_val){.kind = CK_V_STR, .len = sizeof nasty - 1, .p = nasty};
    expect_sql("clinics", "name", &v, "'O\\'Brien \\\\ \\\"x\\\"\\n\\r\\Z\\0end'");
    v = (struct ck_val){.kind = CK_V_INT, .i = 1250};
    expect_sql("products", "unit_price", &v, "12.50");
    v.i = -5;
    expect_sql("products", "unit_price", &v, "-0.05");
    v.i = 1;
    expect_sql("clinics", "has_pharmacy", &v, "1");
    v.i = 0;
    expect_sql("clinics", "has_pharmacy", &v, "0");
    v.i = 4;
    expect_sql("clinics", "number_of_chairs", &v, "4");
    /* 2026-11-26T09:30:00.123Z: TIMESTAMP(0) truncates, TIMESTAMP(3) keeps the ms */
    v.i = INT64_C(1795685400123);
    expect_sql("appointments", "appointment_date", &v, "'2026-11-26 09:30:00'");
    expect_sql("analytics_events", "occurred_at", &v, "'2026-11-26 09:30:00.123'");
    v.i = 20783; /* days */
    expect_sql("invoices", "issue_date", &v, "'2026-11-26'");
    v.i = 2;
    expect_sql("tenants", "status", &v, "'active'");
    v = (struct ck_val){.kind = CK_V_BIN, .len = 3, .p = "\x00\xab\xff"};
    expect_sql("patients", "encrypted_demographics", &v, "X'00ABFF'");
    v = (struct ck_val){.kind = CK_V_UUID};
    memset(v.uuid, 0xab, 16);
    expect_sql("clinics", "id", &v, "'abababab-abab-abab-abab-abababababab'");
    v = (struct ck_val){.kind = CK_V_JSON,
                        .len = 8,
                        .p = "\x81\xa1"
                             "a"
                             "\xa4it's"};
    expect_sql("clinics", "settings", &v, "'{\\\"a\\\":\\\"it\\'s\\\"}'");
}
END_TEST

START_TEST(test_late_columns)
{
    const struct ck_table *t = ck_table_find("clinics", 7);
    ck_colmask late = dump_late_columns(t);
    ck_assert(late == (CK_COL(ck_column_find(t, "created_by", 10)) |
                       CK_COL(ck_column_find(t, "updated_by", 10))));
    t = ck_table_find("appointments", 12);
    ck_assert(dump_late_columns(t) == CK_COL(ck_column_find(t, "recurrence_id", 13)));
    t = ck_table_find("patients", 8);
    ck_assert(dump_late_columns(t) == 0);
    /* Every late column can be inserted NULL first: the SQL and the live restore rely on it. */
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        t = &ck_catalog.tables[i];
        ck_colmask m = dump_late_columns(t);
        for (unsigned c = 0; c < t->ncols; c++)
            ck_assert_msg(!(m & CK_COL(c)) || t->cols[c].nullable, "%s.%s", t->name,
                          t->cols[c].name);
    }
}
END_TEST

/* ------------------------------------------------------------------ streams */

static void write_key(const char *path, size_t n, mode_t mode)
{
    uint8_t k[64];
    randombytes_buf(k, sizeof k);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, k, n), (ssize_t)n);
    close(fd);
    chmod(path, mode);
}

START_TEST(test_key_files)
{
    char path[] = "/tmp/check_dumpfmt_keyXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    uint8_t key[DUMP_KEY_LEN];
    struct ck_err err = CK_ERR_INIT;
    write_key(path, 32, 0600);
    ck_assert_int_eq(dump_key_load(path, key, &err), 0);
    write_key(path, 32, 0640);
    ck_assert_int_eq(dump_key_load(path, key, &err), -CK_EFORBIDDEN);
    write_key(path, 31, 0600);
    ck_assert_int_eq(dump_key_load(path, key, &err), -CK_EINVAL);
    write_key(path, 33, 0600);
    ck_assert_int_eq(dump_key_load(path, key, &err), -CK_EINVAL);
    unlink(path);
    ck_assert_int_eq(dump_key_load(path, key, &err), -CK_ENOTFOUND);
    ck_err_free(&err);
}
END_TEST

/* A dump body of n bytes written through a sink into a temporary file. */
static int sealed_file(const uint8_t *key, size_t n, struct buf *plain, size_t *size_out)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    int fd = dup(fileno(f));
    fclose(f);
    struct ck_err err = CK_ERR_INIT;
    struct dump_sink s;
    ck_assert_int_eq(dump_sink_open(&s, fd, key, &err), 0);
    buf_reset(plain);
    for (size_t i = 0; i < n; i++)
        buf_push(plain, (uint8_t)(i * 7 + i / 251));
    /* in uneven pieces, across chunk boundaries */
    for (size_t off = 0; off < n;) {
        size_t k = n - off < 1000 + off % 7777 ? n - off : 1000 + off % 7777;
        ck_assert_int_eq(dump_sink_write(&s, plain->data + off, k), 0);
        off += k;
    }
    ck_assert_int_eq(dump_sink_close(&s), 0);
    *size_out = (size_t)lseek(fd, 0, SEEK_END);
    ck_err_free(&err);
    return fd;
}

/* Read everything from fd; 0 and the bytes in out, or the error. */
static int read_back(int fd, const uint8_t *key, struct buf *out)
{
    struct ck_err err = CK_ERR_INIT;
    struct dump_source src;
    lseek(fd, 0, SEEK_SET);
    int rc = dump_source_open(&src, fd, "t", key, &err);
    buf_reset(out);
    while (rc == 0) {
        ssize_t n = dump_source_fill(&src, 4096, &err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        buf_append(out, src.buf.data + src.pos, (size_t)n);
        dump_source_consume(&src, (size_t)n);
    }
    dump_source_close(&src);
    ck_err_free(&err);
    return rc;
}

START_TEST(test_secretstream)
{
    uint8_t key[DUMP_KEY_LEN], other[DUMP_KEY_LEN];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    struct buf plain = BUF_INIT, got = BUF_INIT;
    size_t sizes[] = {0, 1, DUMP_CHUNK - 1, DUMP_CHUNK, DUMP_CHUNK + 1, 3 * DUMP_CHUNK + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size;
        int fd = sealed_file(key, sizes[i], &plain, &size);
        ck_assert_int_eq(read_back(fd, key, &got), 0);
        ck_assert_uint_eq(got.len, plain.len);
        ck_assert(plain.len == 0 || memcmp(got.data, plain.data, plain.len) == 0);
        ck_assert_int_eq(read_back(fd, other, &got), -CK_EINVAL);
        ck_assert_int_eq(read_back(fd, NULL, &got), -CK_EINVAL);
        close(fd);
    }
    buf_free(&plain);
    buf_free(&got);
}
END_TEST

/* Cut at every byte, and flip every byte: never accepted. */
START_TEST(test_secretstream_damage)
{
    uint8_t key[DUMP_KEY_LEN];
    randombytes_buf(key, sizeof key);
    struct buf plain = BUF_INIT, got = BUF_INIT;
    size_t size;
    int fd = sealed_file(key, DUMP_CHUNK + 100, &plain, &size);
    char *file = malloc(size);
    ck_assert_int_eq(pread(fd, file, size, 0), (ssize_t)size);
    for (size_t cut = 0; cut < size; cut += cut < 80 ? 1 : 997) {
        ck_assert_int_eq(ftruncate(fd, (off_t)cut), 0);
        ck_assert_msg(read_back(fd, key, &got) != 0, "a dump cut at %zu was accepted", cut);
    }
    for (size_t at = 0; at < size; at += at < 80 ? 1 : 1009) {
        ck_assert_int_eq(pwrite(fd, file, size, 0), (ssize_t)size);
        char c = (char)(file[at] ^ 0x20);
        ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)at), 1);
        ck_assert_msg(read_back(fd, key, &got) != 0, "a flip at %zu was accepted", at);
    }
    /* and bytes after the final chunk */
    ck_assert_int_eq(pwrite(fd, file, size, 0), (ssize_t)size);
    ck_assert_int_eq(pwrite(fd, "x", 1, (off_t)size), 1);
    ck_assert_int_eq(read_back(fd, key, &got), -CK_EINVAL);
    free(file);
    close(fd);
    buf_free(&plain);
    buf_free(&got);
}
END_TEST

/* ------------------------------------------------------------------ headers */

START_TEST(test_header_both_forms)
{
    struct dump_header h = {.encoding = DUMP_JSONL,
                            .kind = DUMP_INCREMENTAL,
                            .row_format = 1,
                            .pharmacy = true,
                            .has_tenant = true,
                            .since = 41,
                            .seq = 97};
    snprintf(h.schema_version, sizeof h.schema_version, "%s", ck_catalog.schema_version);
    memset(h.tenant, 0x5a, 16);
    snprintf(h.tenant_slug, sizeof h.tenant_slug, "smile-dental");
    for (int wire = 0; wire < 2; wire++) {
        struct buf b = BUF_INIT;
        msgpack_packer pk;
        mp_packer_init(&pk, &b);
        dump_header_pack(&pk, &h, wire);
        const char *p = b.data;
        struct mp_obj o;
        ck_assert_int_eq(mp_next(&p, b.data + b.len, &o), 0);
        struct dump_header g;
        struct ck_err err = CK_ERR_INIT;
        ck_assert_int_eq(dump_header_parse(p, b.data + b.len, o.v.n, &g, &err), 0);
        ck_assert_uint_eq(g.kind, h.kind);
        ck_assert_uint_eq(g.encoding, h.encoding);
        ck_assert_uint_eq(g.since, 41);
        ck_assert_uint_eq(g.seq, 97);
        ck_assert(g.pharmacy && g.has_tenant && !memcmp(g.tenant, h.tenant, 16));
        ck_assert_str_eq(g.tenant_slug, "smile-dental");
        ck_assert_str_eq(g.schema_version, ck_catalog.schema_version);
        ck_assert_uint_eq(dump_sniff(b.data, b.len), DUMP_NATIVE);
        buf_free(&b);
        ck_err_free(&err);
    }
}
END_TEST

static Suite *dumpfmt_suite(void)
{
    Suite *s = suite_create("dumpfmt");
    TCase *tc = tcase_create("json");
    tcase_add_loop_test(tc, test_json_vectors, 0, sizeof jvecs / sizeof jvecs[0]);
    tcase_add_loop_test(tc, test_json_refused, 0, sizeof bad_json / sizeof bad_json[0]);
    tcase_add_test(tc, test_json_depth);
    tcase_add_test(tc, test_json_inverse_of_mpjson);
    suite_add_tcase(s, tc);
    tc = tcase_create("sql");
    tcase_add_test(tc, test_sql_literals);
    tcase_add_test(tc, test_late_columns);
    suite_add_tcase(s, tc);
    tc = tcase_create("streams");
    tcase_add_test(tc, test_key_files);
    tcase_add_test(tc, test_secretstream);
    tcase_add_test(tc, test_secretstream_damage);
    tcase_add_test(tc, test_header_both_forms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    return ckrun(dumpfmt_suite());
}
