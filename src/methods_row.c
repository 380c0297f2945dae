/* row.get, row.insert, row.update, row.delete, row.restore. */
#include <string.h>

#include "ondelete.h"
#include "rbac.h"
#include "rowio.h"
#include "rows.h"
#include "server.h"
#include "timeval.h"

/* Common start of every row method: table, tenant, permission. */
static int row_begin(struct ck_call *call, unsigned action, const struct ck_table **t)
{
    int rc = ck_param_table(call, t);
    if (rc == 0)
        rc = rowio_call_tenant(call, *t);
    if (rc == 0)
        rc = ck_rbac_check(call->sess, *t, action, call->err);
    return rc;
}

static int not_found(struct ck_call *call, const struct ck_table *t)
{
    ck_err_set(call->err, -CK_ENOTFOUND, "no such %s row", t->name);
    ck_err_detail_str(call->err, "table", t->name);
    return -CK_ENOTFOUND;
}

/* Pack the stored form of a row just written. */
static int pack_stored(struct ck_call *call, const struct ck_table *t, const struct buf *stored)
{
    struct ck_row r;
    int rc = ck_row_decode(t, stored->data, stored->len, &r);
    return rc ? rc : rowio_pack(call, &r);
}

/* row.get {table, id, with_deleted?} -> row */
int m_row_get(struct ck_call *call)
{
    const struct ck_table *t;
    uint8_t id[16];
    bool with_deleted;
    int rc = row_begin(call, CK_ACT_READ, &t);
    if (rc == 0)
        rc = ck_param_id(call, "id", id);
    if (rc == 0)
        rc = ck_param_bool(call, "with_deleted", false, &with_deleted);
    if (rc)
        return rc;
    struct ck_ctx c;
    rowio_ctx(call, &c);
    struct ck_row r;
    rc = ck_rows_get(&c, t, id, with_deleted, &r);
    if (rc == -CK_ENOTFOUND || (rc == 0 && ck_rbac_row_hidden(call->sess, &r)))
        return not_found(call, t);
    if (rc == 0)
        rc = rowio_check(call, &r);
    return rc ? rc : rowio_pack(call, &r);
}

/* row.insert {table, row} -> the stored row */
int m_row_insert(struct ck_call *call)
{
    const struct ck_table *t;
    const char *p;
    uint32_t npairs;
    int rc = row_begin(call, CK_ACT_WRITE, &t);
    if (rc == 0)
        rc = ck_param_map(call, "row", &p, &npairs);
    if (rc)
        return rc;
    struct rowin ri;
    struct ck_row row = {.t = t};
    struct buf stored = BUF_INIT;
    rc = rowio_read_insert(&ri, call, t, &row, p, call->params_end, npairs);
    if (rc == 0) {
        struct ck_ctx c;
        rowio_ctx(call, &c);
        rc = ck_rows_insert(&c, &row, ri.present, &stored);
    }
    if (rc == 0)
        rc = pack_stored(call, t, &stored);
    rowio_free(&ri);
    buf_free(&stored);
    return rc;
}

/* expect_updated_at: an ISO timestamp (or msgpack timestamp), or absent. */
static int param_expect(struct ck_call *call, int64_t *ms)
{
    *ms = -1;
    const char *s;
    uint32_t len;
    int rc = ck_param_str_opt(call, "expect_updated_at", &s, &len);
    if (rc || !s)
        return rc;
    if (ck_ts_parse(s, len, ms) != 0)
        return ck_err_set(call->err, -CK_EBADREQ, "param expect_updated_at: not a timestamp");
    return 0;
}

/* row.update {table, id, set, expect_updated_at?} -> the stored row */
int m_row_update(struct ck_call *call)
{
    const struct ck_table *t;
    const char *p;
    uint32_t npairs;
    uint8_t id[16];
    int64_t expect;
    int rc = row_begin(call, CK_ACT_WRITE, &t);
    if (rc == 0)
        rc = ck_param_id(call, "id", id);
    if (rc == 0 && ck_param(call, "set") == NULL && ck_param(call, "add") != NULL) {
        p = NULL; /* only $add: an empty set */
        npairs = 0;
    } else if (rc == 0) {
        rc = ck_param_map(call, "set", &p, &npairs);
    }
    if (rc == 0)
        rc = param_expect(call, &expect);
    if (rc)
        return rc;
    struct rowin ri;
    struct ck_update_hook hook;
    struct buf stored = BUF_INIT;
    struct ck_ctx c;
    rowio_ctx(call, &c);
    rc = rowio_update_hook(&ri, call, t, &hook);
    if (rc == 0)
        rc = ck_rows_update(&c, t, id, p, call->params_end, npairs, expect, &hook, &stored);
    if (rc == 0)
        rc = pack_stored(call, t, &stored);
    rowio_free(&ri);
    buf_free(&stored);
    return rc;
}

/* The row must exist and be in the session's clinic scope. */
static int check_visible(struct ck_call *call, struct ck_ctx *c, const struct ck_table *t,
                         const uint8_t id[16], bool with_deleted)
{
    struct ck_row r;
    int rc = ck_rows_get(c, t, id, with_deleted, &r);
    if (rc == -CK_ENOTFOUND || (rc == 0 && ck_rbac_row_hidden(call->sess, &r)))
        return not_found(call, t);
    return rc ? rc : rowio_check(call, &r);
}

/* row.delete {table, id, mode?} -> {deleted, cascaded, set_null} */
int m_row_delete(struct ck_call *call)
{
    const struct ck_table *t;
    uint8_t id[16];
    const char *mode;
    uint32_t mlen;
    int rc = row_begin(call, CK_ACT_DELETE, &t);
    if (rc == 0)
        rc = ck_param_id(call, "id", id);
    if (rc == 0)
        rc = ck_param_str_opt(call, "mode", &mode, &mlen);
    if (rc)
        return rc;
    bool soft;
    if (!mode)
        soft = t->col_deleted_at >= 0;
    else if (mlen == 4 && !memcmp(mode, "soft", 4))
        soft = true;
    else if (mlen == 4 && !memcmp(mode, "hard", 4))
        soft = false;
    else
        return ck_err_set(call->err, -CK_EBADREQ, "param mode: \"soft\" or \"hard\"");
    if (call->sess->has_user && !strcmp(t->name, "users") && !memcmp(id, call->sess->user, 16))
        return ck_err_set(call->err, -CK_EFORBIDDEN, "a user cannot delete their own account");
    struct ck_ctx c;
    rowio_ctx(call, &c);
    rc = check_visible(call, &c, t, id, !soft);
    if (rc)
        return rc;
    struct ck_delete_result res;
    if (soft) {
        rc = ck_rows_soft_delete(&c, t, id);
        memset(&res, 0, sizeof res);
        res.deleted = 1;
    } else {
        rc = ck_delete_hard(&c, t, id, &res);
    }
    if (rc)
        return rc;
    ck_delete_result_pack(call->pk, &res);
    return 0;
}

/* row.restore {table, id} -> the row with deleted_at nil */
int m_row_restore(struct ck_call *call)
{
    const struct ck_table *t;
    uint8_t id[16];
    int rc = row_begin(call, CK_ACT_DELETE, &t);
    if (rc == 0)
        rc = ck_param_id(call, "id", id);
    if (rc)
        return rc;
    struct ck_ctx c;
    rowio_ctx(call, &c);
    rc = check_visible(call, &c, t, id, true);
    if (rc)
        return rc;
    struct buf stored = BUF_INIT;
    rc = ck_rows_restore(&c, t, id, &stored);
    if (rc == 0)
        rc = pack_stored(call, t, &stored);
    buf_free(&stored);
    return rc;
}
