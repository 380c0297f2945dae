/* Dump files: key files, sealed and plain byte streams, headers and trailers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpfmt.h"
#include "uuid.h"

#define SS_ABYTES      crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HEADERBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define SS_TAG_FINAL   crypto_secretstream_xchacha20poly1305_TAG_FINAL
/* Plain dumps are written in pieces of this size. */
#define PLAIN_FLUSH (1u << 20)

static const char *const encoding_names[] = {NULL, "native", "jsonl", "sql"};

const char *dump_encoding_name(unsigned encoding)
{
    return encoding >= 1 && encoding <= DUMP_SQL ? encoding_names[encoding] : NULL;
}

unsigned dump_encoding_from_name(const char *name)
{
    for (unsigned e = 1; e <= DUMP_SQL; e++) {
        if (!strcmp(encoding_names[e], name))
            return e;
    }
    return 0;
}

/* ------------------------------------------------------------------ key files */

int dump_key_load(const char *path, uint8_t key[DUMP_KEY_LEN], struct ck_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ck_err_set(err, errno == ENOENT ? -CK_ENOTFOUND : -CK_EIO,
                          "cannot open key file %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    uint8_t tmp[DUMP_KEY_LEN + 1];
    if (fstat(fd, &st) != 0) {
        rc = ck_err_set(err, -CK_EIO, "cannot stat key file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = ck_err_set(err, -CK_EINVAL, "key file %s is not a regular file", path);
    } else if (st.st_mode & 077) {
        /* A key others can read protects nothing: refuse it rather than warn. */
        rc = ck_err_set(err, -CK_EFORBIDDEN,
                        "key file %s is readable by group or others (mode %03o): chmod 600 %s",
                        path, (unsigned)(st.st_mode & 0777), path);
    } else if (st.st_size != DUMP_KEY_LEN) {
        rc = ck_err_set(err, -CK_EINVAL,
                        "key file %s holds %lld bytes; a key file is exactly %d random bytes "
                        "(head -c 32 /dev/urandom > KEY; chmod 600 KEY)",
                        path, (long long)st.st_size, DUMP_KEY_LEN);
    } else {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n != DUMP_KEY_LEN)
            rc = ck_err_set(err, -CK_EIO, "cannot read key file %s", path);
        else
            memcpy(key, tmp, DUMP_KEY_LEN);
    }
    sodium_memzero(tmp, sizeof tmp);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------ output */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sink_fail(struct dump_sink *s, int rc, const char *what, int sys_errno)
{
    if (s->error == 0) {
        s->error = rc;
        ck_err_set(s->err, rc, "cannot write the dump: %s%s%s", what, sys_errno ? ": " : "",
                   sys_errno ? strerror(sys_errno) : "");
    }
    return s->error;
}

/* Seal one chunk of plaintext and write it with its length. */
static int sink_put_chunk(struct dump_sink *s, const char *p, size_t n, unsigned char tag)
{
    unsigned char out[4 + DUMP_CHUNK + SS_ABYTES];
    unsigned long long clen;
    crypto_secretstream_xchacha20poly1305_push(&s->st, out + 4, &clen, (const unsigned char *)p, n,
                                               NULL, 0, tag);
    out[0] = (unsigned char)(clen >> 24);
    out[1] = (unsigned char)(clen >> 16);
    out[2] = (unsigned char)(clen >> 8);
    out[3] = (unsigned char)clen;
    int rc = write_all(s->fd, out, 4 + (size_t)clen);
    return rc ? sink_fail(s, -CK_EIO, "write", -rc) : 0;
}

/* Write out what is pending: whole chunks only, unless final. */
static int sink_flush(struct dump_sink *s, bool final)
{
    if (s->error)
        return s->error;
    size_t off = 0;
    int rc = 0;
    if (s->encrypt) {
        while (rc == 0 && s->pending.len - off >= DUMP_CHUNK) {
            rc = sink_put_chunk(s, s->pending.data + off, DUMP_CHUNK, SS_TAG_MESSAGE);
            off += DUMP_CHUNK;
        }
        if (rc == 0 && final) {
            rc = sink_put_chunk(s, s->pending.data + off, s->pending.len - off, SS_TAG_FINAL);
            off = s->pending.len;
        }
    } else {
        int wrc = write_all(s->fd, s->pending.data, s->pending.len);
        if (wrc)
            rc = sink_fail(s, -CK_EIO, "write", -wrc);
        off = s->pending.len;
    }
    if (off > 0 && off < s->pending.len)
        memmove(s->pending.data, s->pending.data + off, s->pending.len - off);
    s->pending.len -= off;
    return rc;
}

int dump_sink_open(struct dump_sink *s, int fd, const uint8_t *key, struct ck_err *err)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->err = err;
    s->hashing = true;
    s->encrypt = key != NULL;
    crypto_generichash_init(&s->hash, NULL, 0, DUMP_CHECKSUM_LEN);
    if (buf_reserve(&s->pending, PLAIN_FLUSH + DUMP_CHUNK) != 0)
        return sink_fail(s, -CK_ENOMEM, "out of memory", 0);
    if (s->encrypt) {
        unsigned char head[DUMP_ENC_MAGIC_LEN + SS_HEADERBYTES];
        memcpy(head, DUMP_ENC_MAGIC, DUMP_ENC_MAGIC_LEN);
        crypto_secretstream_xchacha20poly1305_init_push(&s->st, head + DUMP_ENC_MAGIC_LEN, key);
        int rc = write_all(fd, head, sizeof head);
        if (rc)
            return sink_fail(s, -CK_EIO, "write", -rc);
    }
    return 0;
}

int dump_sink_write(struct dump_sink *s, const void *p, size_t n)
{
    if (s->error)
        return s->error;
    if (s->hashing)
        crypto_generichash_update(&s->hash, p, n);
    buf_append(&s->pending, p, n);
    if (s->pending.oom)
        return sink_fail(s, -CK_ENOMEM, "out of memory", 0);
    s->bytes += n;
    if (s->pending.len >= (s->encrypt ? DUMP_CHUNK : PLAIN_FLUSH))
        return sink_flush(s, false);
    return 0;
}

void dump_sink_checksum(struct dump_sink *s, uint8_t out[DUMP_CHECKSUM_LEN])
{
    crypto_generichash_final(&s->hash, out, DUMP_CHECKSUM_LEN);
    s->hashing = false;
}

int dump_sink_close(struct dump_sink *s)
{
    int rc = sink_flush(s, true);
    struct stat st;
    if (rc == 0 && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(s->fd) != 0)
        rc = sink_fail(s, -CK_EIO, "fsync", errno);
    if (s->encrypt)
        sodium_memzero(&s->st, sizeof s->st);
    buf_free(&s->pending);
    return rc;
}

/* ------------------------------------------------------------------ input */

/* Read up to n bytes; fewer only at the end of the input. */
static ssize_t read_full(int fd, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Drop consumed bytes from the front of the buffer when they are the larger part. */
static void source_compact(struct dump_source *s)
{
    if (s->pos == 0 || s->pos < s->buf.len / 2)
        return;
    memmove(s->buf.data, s->buf.data + s->pos, s->buf.len - s->pos);
    s->buf.len -= s->pos;
    s->pos = 0;
}

int dump_source_open(struct dump_source *s, int fd, const char *name, const uint8_t *key,
                     struct ck_err *err)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->name = name;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        s->raw_size = (uint64_t)st.st_size;
    char head[DUMP_ENC_MAGIC_LEN + SS_HEADERBYTES];
    ssize_t n = read_full(fd, head, DUMP_ENC_MAGIC_LEN);
    if (n < 0)
        return ck_err_set(err, -CK_EIO, "%s: cannot read: %s", name, strerror(errno));
    s->raw_read = (uint64_t)n;
    if (n == DUMP_ENC_MAGIC_LEN && !memcmp(head, DUMP_ENC_MAGIC, DUMP_ENC_MAGIC_LEN)) {
        if (!key)
            return ck_err_set(err, -CK_EINVAL, "%s is an encrypted dump: give --decrypt KEYFILE",
                              name);
        ssize_t h = read_full(fd, head + DUMP_ENC_MAGIC_LEN, SS_HEADERBYTES);
        if (h != SS_HEADERBYTES)
            return ck_err_set(err, -CK_EINVAL, "%s: encrypted dump is truncated (no header)", name);
        s->raw_read += (uint64_t)h;
        if (crypto_secretstream_xchacha20poly1305_init_pull(
                &s->st, (const unsigned char *)head + DUMP_ENC_MAGIC_LEN, key) != 0)
            return ck_err_set(err, -CK_EINVAL, "%s: bad encryption header", name);
        s->encrypted = true;
        return 0;
    }
    if (key)
        return ck_err_set(err, -CK_EINVAL, "%s is not an encrypted dump, but --decrypt was given",
                          name);
    buf_append(&s->buf, head, (size_t)n);
    if (s->buf.oom)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    if (n < DUMP_ENC_MAGIC_LEN)
        s->eof = true;
    return 0;
}

/* Read and open the next chunk of an encrypted dump, appending its plaintext. */
static int source_pull_chunk(struct dump_source *s, struct ck_err *err)
{
    unsigned char len[4];
    unsigned char in[DUMP_CHUNK + SS_ABYTES];
    ssize_t n = read_full(s->fd, len, 4);
    if (n < 0)
        return ck_err_set(err, -CK_EIO, "%s: cannot read: %s", s->name, strerror(errno));
    if (n == 0 && s->final_seen) {
        s->eof = true;
        return 0;
    }
    if (s->final_seen)
        return ck_err_set(err, -CK_EINVAL, "%s: data after the end of the encrypted dump", s->name);
    if (n < 4)
        return ck_err_set(err, -CK_EINVAL,
                          "%s: encrypted dump is truncated (it ends before its final chunk)",
                          s->name);
    size_t clen = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
    if (clen < SS_ABYTES || clen > sizeof in)
        return ck_err_set(err, -CK_EINVAL, "%s: corrupt encrypted dump (bad chunk length)",
                          s->name);
    n = read_full(s->fd, in, clen);
    if (n < 0)
        return ck_err_set(err, -CK_EIO, "%s: cannot read: %s", s->name, strerror(errno));
    if ((size_t)n < clen)
        return ck_err_set(err, -CK_EINVAL,
                          "%s: encrypted dump is truncated (it ends inside a chunk)", s->name);
    s->raw_read += 4 + clen;
    if (buf_reserve(&s->buf, clen) != 0)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    unsigned long long mlen;
    unsigned char tag;
    if (crypto_secretstream_xchacha20poly1305_pull(
            &s->st, (unsigned char *)s->buf.data + s->buf.len, &mlen, &tag, in, clen, NULL, 0) != 0)
        return ck_err_set(err, -CK_EINVAL,
                          "%s: encrypted dump does not authenticate (wrong key, or the file was "
                          "changed)",
                          s->name);
    s->buf.len += (size_t)mlen;
    if (tag == SS_TAG_FINAL)
        s->final_seen = true;
    return 0;
}

ssize_t dump_source_fill(struct dump_source *s, size_t want, struct ck_err *err)
{
    while (s->buf.len - s->pos < want && !s->eof) {
        source_compact(s);
        if (s->encrypted) {
            int rc = source_pull_chunk(s, err);
            if (rc)
                return rc;
            continue;
        }
        size_t room = want - (s->buf.len - s->pos);
        if (room < PLAIN_FLUSH)
            room = PLAIN_FLUSH;
        if (buf_reserve(&s->buf, room) != 0)
            return ck_err_set(err, -CK_ENOMEM, "out of memory");
        ssize_t n = read(s->fd, s->buf.data + s->buf.len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ck_err_set(err, -CK_EIO, "%s: cannot read: %s", s->name, strerror(errno));
        }
        if (n == 0)
            s->eof = true;
        s->buf.len += (size_t)n;
        s->raw_read += (uint64_t)n;
    }
    return (ssize_t)(s->buf.len - s->pos);
}

void dump_source_consume(struct dump_source *s, size_t n)
{
    s->pos += n;
    s->consumed += n;
}

void dump_source_close(struct dump_source *s)
{
    if (s->encrypted)
        sodium_memzero(&s->st, sizeof s->st);
    buf_free(&s->buf);
}

unsigned dump_sniff(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = (unsigned char)p[0];
    if (c == '{')
        return DUMP_JSONL;
    if (c == '-')
        return DUMP_SQL;
    /* A native dump starts with its header: a fixmap or map16. */
    if ((c & 0xf0) == 0x80 || c == 0xde)
        return DUMP_NATIVE;
    return 0;
}

/* ------------------------------------------------------------------ headers */

static void pack_uuid(msgpack_packer *pk, const uint8_t id[16], bool wire)
{
    if (wire) {
        char s[37];
        ck_uuid_format(id, s);
        mp_pack_str(pk, s, 36);
    } else {
        msgpack_pack_bin(pk, 16);
        msgpack_pack_bin_body(pk, id, 16);
    }
}

static void pack_bool(msgpack_packer *pk, bool b)
{
    if (b)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void dump_header_pack(msgpack_packer *pk, const struct dump_header *h, bool wire)
{
    msgpack_pack_map(pk, 11);
    mp_pack_cstr(pk, "type");
    mp_pack_cstr(pk, "header");
    mp_pack_cstr(pk, "format");
    mp_pack_cstr(pk, DUMP_FORMAT_NAME);
    mp_pack_cstr(pk, "format_version");
    msgpack_pack_uint32(pk, DUMP_FORMAT_VERSION);
    mp_pack_cstr(pk, "encoding");
    mp_pack_cstr(pk, dump_encoding_name(h->encoding));
    mp_pack_cstr(pk, "kind");
    mp_pack_cstr(pk, h->kind == DUMP_FULL ? "full" : "incremental");
    mp_pack_cstr(pk, "schema_version");
    mp_pack_cstr(pk, h->schema_version);
    mp_pack_cstr(pk, "row_format");
    msgpack_pack_uint32(pk, h->row_format);
    mp_pack_cstr(pk, "pharmacy");
    pack_bool(pk, h->pharmacy);
    mp_pack_cstr(pk, "tenant");
    if (h->has_tenant) {
        msgpack_pack_map(pk, 2);
        mp_pack_cstr(pk, "id");
        pack_uuid(pk, h->tenant, wire);
        mp_pack_cstr(pk, "slug");
        mp_pack_cstr(pk, h->tenant_slug);
    } else {
        msgpack_pack_nil(pk);
    }
    mp_pack_cstr(pk, "since");
    if (h->kind == DUMP_INCREMENTAL)
        msgpack_pack_uint64(pk, h->since);
    else
        msgpack_pack_nil(pk);
    mp_pack_cstr(pk, "seq");
    msgpack_pack_uint64(pk, h->seq);
}

void dump_checksum_hex(const uint8_t sum[DUMP_CHECKSUM_LEN], char out[2 * DUMP_CHECKSUM_LEN + 1])
{
    sodium_bin2hex(out, 2 * DUMP_CHECKSUM_LEN + 1, sum, DUMP_CHECKSUM_LEN);
}

void dump_trailer_pack(msgpack_packer *pk, const struct dump_trailer *t, unsigned kind, bool wire)
{
    unsigned ncounts = 0;
    for (unsigned i = 0; i < ck_catalog.ntables; i++)
        ncounts += t->counts[i] != 0;
    msgpack_pack_map(pk, 4);
    mp_pack_cstr(pk, "type");
    mp_pack_cstr(pk, "trailer");
    mp_pack_cstr(pk, kind == DUMP_FULL ? "rows" : "changes");
    msgpack_pack_uint64(pk, t->total);
    mp_pack_cstr(pk, "counts");
    msgpack_pack_map(pk, ncounts);
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        if (t->counts[i]) {
            mp_pack_cstr(pk, ck_catalog.tables[i].name);
            msgpack_pack_uint64(pk, t->counts[i]);
        }
    }
    mp_pack_cstr(pk, "checksum");
    if (wire) {
        char hex[2 * DUMP_CHECKSUM_LEN + 1];
        dump_checksum_hex(t->checksum, hex);
        mp_pack_str(pk, hex, 2 * DUMP_CHECKSUM_LEN);
    } else {
        msgpack_pack_bin(pk, DUMP_CHECKSUM_LEN);
        msgpack_pack_bin_body(pk, t->checksum, DUMP_CHECKSUM_LEN);
    }
}

static bool obj_is(const struct mp_obj *o, const char *s)
{
    return o->type == MP_STR && o->v.str.len == strlen(s) && !memcmp(o->v.str.ptr, s, o->v.str.len);
}

/* A UUID as bin16 or as its text form. */
static bool obj_uuid(const struct mp_obj *o, uint8_t out[16])
{
    if (o->type == MP_BIN && o->v.str.len == 16) {
        memcpy(out, o->v.str.ptr, 16);
        return true;
    }
    return o->type == MP_STR && ck_uuid_parse(o->v.str.ptr, o->v.str.len, out) == 0;
}

bool dump_map_type(const char *p, const char *end, uint32_t npairs, const char **type,
                   uint32_t *len)
{
    const char *v;
    struct mp_obj o;
    if (mp_map_find(p, end, npairs, "type", &v) != 0 || mp_next(&v, end, &o) != 0 ||
        o.type != MP_STR)
        return false;
    *type = o.v.str.ptr;
    *len = o.v.str.len;
    return true;
}

static int bad_header(struct ck_err *err, const char *why)
{
    return ck_err_set(err, -CK_EINVAL, "not a clinickv dump header (%s)", why);
}

static int parse_tenant(const char **p, const char *end, struct dump_header *h, struct ck_err *err)
{
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0)
        return bad_header(err, "tenant");
    if (o.type == MP_NIL)
        return 0;
    if (o.type != MP_MAP)
        return bad_header(err, "tenant");
    h->has_tenant = true;
    bool have_id = false;
    for (uint32_t i = 0; i < o.v.n; i++) {
        struct mp_obj k, v;
        if (mp_next(p, end, &k) != 0 || mp_next(p, end, &v) != 0)
            return bad_header(err, "tenant");
        if (obj_is(&k, "id")) {
            if (!obj_uuid(&v, h->tenant))
                return bad_header(err, "tenant id");
            have_id = true;
        } else if (obj_is(&k, "slug")) {
            if (v.type != MP_STR || v.v.str.len > DUMP_SLUG_MAX)
                return bad_header(err, "tenant slug");
            memcpy(h->tenant_slug, v.v.str.ptr, v.v.str.len);
            h->tenant_slug[v.v.str.len] = 0;
        } else if (v.type == MP_ARRAY || v.type == MP_MAP) {
            return bad_header(err, "tenant");
        }
    }
    return have_id ? 0 : bad_header(err, "tenant id");
}

int dump_header_parse(const char *p, const char *end, uint32_t npairs, struct dump_header *h,
                      struct ck_err *err)
{
    memset(h, 0, sizeof *h);
    unsigned seen = 0;
    enum {
        S_TYPE = 1,
        S_FORMAT = 2,
        S_VERSION = 4,
        S_ENC = 8,
        S_KIND = 16,
        S_SCHEMA = 32,
        S_SEQ = 64
    };
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k, v;
        if (mp_next(&p, end, &k) != 0 || k.type != MP_STR)
            return bad_header(err, "malformed");
        if (obj_is(&k, "tenant")) {
            int rc = parse_tenant(&p, end, h, err);
            if (rc)
                return rc;
            continue;
        }
        const char *vstart = p;
        if (mp_next(&p, end, &v) != 0)
            return bad_header(err, "malformed");
        if (v.type == MP_ARRAY || v.type == MP_MAP) {
            /* A field a later format version may add: skip it whole. */
            p = vstart;
            if (mp_skip(&p, end) != 0)
                return bad_header(err, "malformed");
            continue;
        }
        if (obj_is(&k, "type")) {
            if (!obj_is(&v, "header"))
                return bad_header(err, "type");
            seen |= S_TYPE;
        } else if (obj_is(&k, "format")) {
            if (!obj_is(&v, DUMP_FORMAT_NAME))
                return bad_header(err, "format");
            seen |= S_FORMAT;
        } else if (obj_is(&k, "format_version")) {
            if (v.type != MP_UINT)
                return bad_header(err, "format_version");
            if (v.v.u != DUMP_FORMAT_VERSION)
                return ck_err_set(err, -CK_EINVAL,
                                  "dump format version %llu; this program reads version %d",
                                  (unsigned long long)v.v.u, DUMP_FORMAT_VERSION);
            h->format_version = (unsigned)v.v.u;
            seen |= S_VERSION;
        } else if (obj_is(&k, "encoding")) {
            for (unsigned e = 1; e <= DUMP_SQL; e++)
                if (obj_is(&v, encoding_names[e]))
                    h->encoding = e;
            if (!h->encoding)
                return bad_header(err, "encoding");
            seen |= S_ENC;
        } else if (obj_is(&k, "kind")) {
            h->kind = obj_is(&v, "full")          ? DUMP_FULL
                      : obj_is(&v, "incremental") ? DUMP_INCREMENTAL
                                                  : 0;
            if (!h->kind)
                return bad_header(err, "kind");
            seen |= S_KIND;
        } else if (obj_is(&k, "schema_version")) {
            if (v.type != MP_STR || v.v.str.len >= sizeof h->schema_version)
                return bad_header(err, "schema_version");
            memcpy(h->schema_version, v.v.str.ptr, v.v.str.len);
            h->schema_version[v.v.str.len] = 0;
            seen |= S_SCHEMA;
        } else if (obj_is(&k, "row_format")) {
            if (v.type != MP_UINT)
                return bad_header(err, "row_format");
            h->row_format = (unsigned)v.v.u;
        } else if (obj_is(&k, "pharmacy")) {
            if (v.type != MP_BOOL)
                return bad_header(err, "pharmacy");
            h->pharmacy = v.v.b;
        } else if (obj_is(&k, "since")) {
            if (v.type != MP_UINT && v.type != MP_NIL)
                return bad_header(err, "since");
            h->since = v.type == MP_UINT ? v.v.u : 0;
        } else if (obj_is(&k, "seq")) {
            if (v.type != MP_UINT)
                return bad_header(err, "seq");
            h->seq = v.v.u;
            seen |= S_SEQ;
        }
    }
    if (seen != (S_TYPE | S_FORMAT | S_VERSION | S_ENC | S_KIND | S_SCHEMA | S_SEQ))
        return bad_header(err, "a required field is missing");
    if (h->kind == DUMP_INCREMENTAL && h->since > h->seq)
        return bad_header(err, "since is beyond seq");
    return 0;
}

int dump_trailer_parse(const char *p, const char *end, uint32_t npairs, struct dump_trailer *t,
                       struct ck_err *err)
{
    memset(t, 0, sizeof *t);
    bool have_sum = false, have_total = false;
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k, v;
        if (mp_next(&p, end, &k) != 0 || k.type != MP_STR || mp_next(&p, end, &v) != 0)
            return ck_err_set(err, -CK_EINVAL, "malformed dump trailer");
        if (obj_is(&k, "counts") && v.type == MP_MAP) {
            for (uint32_t j = 0; j < v.v.n; j++) {
                struct mp_obj tk, tv;
                if (mp_next(&p, end, &tk) != 0 || tk.type != MP_STR || mp_next(&p, end, &tv) != 0 ||
                    tv.type != MP_UINT)
                    return ck_err_set(err, -CK_EINVAL, "malformed dump trailer counts");
                const struct ck_table *tab = ck_table_find(tk.v.str.ptr, tk.v.str.len);
                if (!tab)
                    return ck_err_set(err, -CK_EINVAL, "dump trailer counts an unknown table");
                t->counts[ck_table_index(tab)] = tv.v.u;
            }
        } else if (obj_is(&k, "checksum")) {
            if (v.type == MP_BIN && v.v.str.len == DUMP_CHECKSUM_LEN) {
                memcpy(t->checksum, v.v.str.ptr, DUMP_CHECKSUM_LEN);
            } else if (v.type != MP_STR || v.v.str.len != 2 * DUMP_CHECKSUM_LEN ||
                       sodium_hex2bin(t->checksum, DUMP_CHECKSUM_LEN, v.v.str.ptr, v.v.str.len,
                                      NULL, NULL, NULL) != 0) {
                return ck_err_set(err, -CK_EINVAL, "malformed dump trailer checksum");
            }
            have_sum = true;
        } else if ((obj_is(&k, "rows") || obj_is(&k, "changes")) && v.type == MP_UINT) {
            t->total = v.v.u;
            have_total = true;
        } else if (v.type == MP_ARRAY || v.type == MP_MAP) {
            return ck_err_set(err, -CK_EINVAL, "malformed dump trailer");
        }
    }
    if (!have_sum || !have_total)
        return ck_err_set(err, -CK_EINVAL, "dump trailer without checksum or count");
    return 0;
}

ck_colmask dump_late_columns(const struct ck_table *t)
{
    ck_colmask late = 0;
    for (unsigned i = 0; i < t->nfks; i++) {
        if (t->fks[i].parent_table >= ck_table_index(t))
            late |= CK_COL(t->fks[i].column);
    }
    return late;
}
