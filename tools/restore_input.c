/* Restore's inputs: opening the dump files, checking that they form one chain,
 * reading them, and which tenant's rows a restore keeps (restore_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collate.h"
#include "restore_int.h"
#include "uuid.h"

const struct ck_table *rs_tenants_table(void)
{
    return ck_table_find("tenants", 7);
}

/* Does text (a slug or an id) name the tenant id/slug? */
bool rs_names_tenant(const char *text, const uint8_t id[16], const char *slug, size_t slug_len)
{
    uint8_t parsed[16];
    if (ck_uuid_parse(text, strlen(text), parsed) == 0)
        return memcmp(parsed, id, 16) == 0;
    return slug && ck_collate_eq(text, strlen(text), slug, slug_len);
}

int rs_open_inputs(struct rs *s)
{
    bool stdin_used = false;
    for (unsigned i = 0; i < s->n; i++)
        s->in[i].fd = -1; /* rs_close_inputs() after a failure half-way */
    for (unsigned i = 0; i < s->n; i++) {
        struct input *in = &s->in[i];
        in->name = s->o->inputs[i];
        if (strcmp(in->name, "-") == 0) {
            if (stdin_used)
                return ck_err_set(s->err, -CK_EINVAL, "standard input can be given only once");
            stdin_used = true;
            in->name = "standard input";
            /* Copied aside (an unlinked file), so the dump can be checked before use. */
            in->spool = tmpfile();
            if (!in->spool)
                return ck_err_set(s->err, -CK_EIO, "cannot create a temporary file: %s",
                                  strerror(errno));
            char buf[1 << 16];
            ssize_t n;
            while ((n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 || fwrite(buf, 1, (size_t)n, in->spool) != (size_t)n)
                    return ck_err_set(s->err, -CK_EIO, "cannot copy standard input: %s",
                                      strerror(errno));
            }
            if (fflush(in->spool) != 0)
                return ck_err_set(s->err, -CK_EIO, "cannot copy standard input: %s",
                                  strerror(errno));
            in->fd = fileno(in->spool);
        } else {
            in->fd = open(in->name, O_RDONLY | O_CLOEXEC);
            if (in->fd < 0)
                return ck_err_set(s->err, -CK_EIO, "cannot open %s: %s", in->name, strerror(errno));
        }
        struct stat st;
        if (fstat(in->fd, &st) == 0)
            in->size = (uint64_t)st.st_size;
        s->total_bytes += in->size;
    }
    return 0;
}

void rs_close_inputs(struct rs *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        if (s->in[i].spool)
            fclose(s->in[i].spool);
        else if (s->in[i].fd >= 0)
            close(s->in[i].fd);
    }
}

/* Read dump i from its start, handing each row or change to fn; 0 only when the
 * whole dump has verified. checksum_only: a pass that proves the file intact and
 * hands out nothing (JSON-lines rows are not converted). */
int rs_read_dump_as(struct rs *s, unsigned i, item_fn fn, void *arg, bool checksum_only)
{
    struct input *in = &s->in[i];
    if (lseek(in->fd, 0, SEEK_SET) != 0)
        return ck_err_set(s->err, -CK_EIO, "cannot read %s again: %s", in->name, strerror(errno));
    struct dump_source src;
    struct dump_reader r;
    int rc = dump_source_open(&src, in->fd, in->name, s->o->key, s->err);
    if (rc == 0 && (rc = dump_reader_open(&r, &src, s->err)) != 0)
        dump_reader_close(&r);
    if (rc) {
        dump_source_close(&src);
        return rc;
    }
    r.checksum_only = checksum_only;
    struct dump_item it;
    while ((rc = dump_reader_next(&r, &it, s->err)) > 0) {
        if (fn && (rc = fn(s, arg, &it)) != 0)
            break;
        s->items++;
        progress_update(&s->prog, s->items, s->bytes_before + src.raw_read);
    }
    if (rc == 0 && s->o->verify_only) {
        char range[64];
        if (r.hdr.kind == DUMP_FULL)
            snprintf(range, sizeof range, "at seq %llu", (unsigned long long)r.hdr.seq);
        else
            snprintf(range, sizeof range, "of the changes after seq %llu to %llu",
                     (unsigned long long)r.hdr.since, (unsigned long long)r.hdr.seq);
        printf("%s: %s%s %s dump of %s%s %s: %llu %s, checksum verified\n", in->name,
               src.encrypted ? "encrypted " : "", dump_encoding_name(r.hdr.encoding),
               r.hdr.kind == DUMP_FULL ? "full" : "incremental",
               r.hdr.has_tenant ? "tenant " : "all tenants",
               r.hdr.has_tenant ? r.hdr.tenant_slug : "", range, (unsigned long long)r.seen.total,
               r.hdr.kind == DUMP_FULL ? "rows" : "changes");
    }
    s->bytes_before += src.raw_read;
    dump_reader_close(&r);
    dump_source_close(&src);
    return rc;
}

int rs_read_dump(struct rs *s, unsigned i, item_fn fn, void *arg)
{
    return rs_read_dump_as(s, i, fn, arg, false);
}

/* Read every header and check that the dumps form one chain. */
int rs_check_chain(struct rs *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct input *in = &s->in[i];
        if (lseek(in->fd, 0, SEEK_SET) != 0)
            return ck_err_set(s->err, -CK_EIO, "cannot read %s: %s", in->name, strerror(errno));
        struct dump_source src;
        struct dump_reader r;
        int rc = dump_source_open(&src, in->fd, in->name, s->o->key, s->err);
        if (rc == 0) {
            rc = dump_reader_open(&r, &src, s->err);
            if (rc == 0)
                in->hdr = r.hdr;
            dump_reader_close(&r);
        }
        dump_source_close(&src);
        if (rc)
            return rc;
        if (in->hdr.encoding == DUMP_SQL && !s->o->verify_only)
            return ck_err_set(
                s->err, -CK_EINVAL,
                "%s is an SQL dump, which loads into MySQL or MariaDB; clinickv-restore "
                "reads native and jsonl dumps (it can --verify an SQL dump)",
                in->name);
    }
    const struct dump_header *h0 = &s->in[0].hdr;
    for (unsigned i = 1; i < s->n; i++) {
        const struct input *in = &s->in[i], *prev = &s->in[i - 1];
        if (in->hdr.kind != DUMP_INCREMENTAL)
            return ck_err_set(s->err, -CK_EINVAL,
                              "%s is a full dump: only the first dump may be a full one", in->name);
        if (in->hdr.since != prev->hdr.seq)
            return ck_err_set(
                s->err, -CK_EINVAL,
                "%s holds the changes after seq %llu, but %s ends at seq %llu: %s", in->name,
                (unsigned long long)in->hdr.since, prev->name, (unsigned long long)prev->hdr.seq,
                in->hdr.since > prev->hdr.seq ? "an incremental dump is missing in between"
                                              : "the dumps overlap (or are out of order)");
        if (in->hdr.pharmacy != h0->pharmacy)
            return ck_err_set(s->err, -CK_EINVAL, "%s and %s come from different data directories",
                              s->in[0].name, in->name);
        if (in->hdr.has_tenant &&
            (h0->has_tenant ? memcmp(in->hdr.tenant, h0->tenant, 16) != 0
                            : !(s->o->tenant &&
                                rs_names_tenant(s->o->tenant, in->hdr.tenant, in->hdr.tenant_slug,
                                                strlen(in->hdr.tenant_slug)))))
            return ck_err_set(s->err, -CK_EINVAL,
                              "%s holds only tenant %s, which the dumps before it do not restore",
                              in->name, in->hdr.tenant_slug);
    }
    return 0;
}

/* Which tenant to restore: the dump's only one, or --tenant's. */
int rs_choose_filter(struct rs *s)
{
    const struct dump_header *h0 = &s->in[0].hdr;
    if (h0->has_tenant) {
        if (s->o->tenant &&
            !rs_names_tenant(s->o->tenant, h0->tenant, h0->tenant_slug, strlen(h0->tenant_slug)))
            return ck_err_set(s->err, -CK_EINVAL, "%s holds tenant %s, not %s", s->in[0].name,
                              h0->tenant_slug, s->o->tenant);
        s->filtering = s->filter_known = true;
        memcpy(s->filter, h0->tenant, 16);
    } else if (s->o->tenant) {
        s->filtering = true;
        s->filter_known = ck_uuid_parse(s->o->tenant, strlen(s->o->tenant), s->filter) == 0;
    }
    return 0;
}

/* Is this row of a full dump part of the restore? May learn the tenant's id. */
int rs_keep_row(struct rs *s, const struct dump_item *it, bool *keep)
{
    *keep = true;
    if (!s->filtering)
        return 0;
    if (memcmp(it->tenant, kv_system_tenant, 16) != 0) {
        *keep = s->filter_known && memcmp(it->tenant, s->filter, 16) == 0;
        return 0;
    }
    /* Platform data (performance_metrics) stays behind when one tenant moves. */
    const struct ck_table *t = rs_tenants_table();
    if (it->t != t) {
        *keep = false;
        return 0;
    }
    struct ck_row row;
    if (ck_row_decode(t, it->row, it->rowlen, &row) != 0)
        return ck_err_set(s->err, -CK_EINVAL, "a tenants row does not decode");
    const uint8_t *id = row.v[t->col_id].uuid;
    if (s->filter_known) {
        *keep = memcmp(id, s->filter, 16) == 0;
        return 0;
    }
    const struct ck_val *slug = &row.v[ck_column_find(t, "slug", 4)];
    *keep = slug->kind == CK_V_STR &&
            ck_collate_eq(s->o->tenant, strlen(s->o->tenant), slug->p, slug->len);
    if (*keep) {
        memcpy(s->filter, id, 16);
        s->filter_known = true;
    }
    return 0;
}

int rs_tenant_not_found(struct rs *s)
{
    return ck_err_set(s->err, -CK_ENOTFOUND, "%s holds no tenant %s", s->in[0].name, s->o->tenant);
}
