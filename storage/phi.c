/* PHI: key file, sealing with XChaCha20-Poly1305, blind indexes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "collate.h"
#include "mp.h"
#include "phi.h"
#include "row.h"
#include "uuid.h"
#include "timeval.h"

static const char ad_label[] = "clinickv-phi-v1";

/* ------------------------------------------------------------------ key file */

void phi_keyring_wipe(struct phi_keyring *kr)
{
    sodium_memzero(kr, sizeof *kr);
}

static int parse_hex32(const char *hex, uint8_t out[32])
{
    size_t n = 0;
    const char *end;
    if (sodium_hex2bin(out, 32, hex, strlen(hex), NULL, &n, &end) != 0 || n != 32)
        return -CK_EINVAL;
    return 0;
}

int phi_keyring_load(struct phi_keyring *kr, const char *path, struct ck_err *err)
{
    memset(kr, 0, sizeof *kr);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return ck_err_set(err, -CK_ENOTFOUND, "no PHI key file at %s", path);
        return ck_err_set(err, -CK_EIO, "cannot read %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        close(fd);
        return ck_err_set(err, -CK_EFORBIDDEN, "%s must be readable by its owner only (chmod 600)",
                          path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    }
    char line[256];
    unsigned lineno = 0;
    bool have_blind = false;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char word[16], a[80], b[80];
        int n = sscanf(line, "%15s %79s %79s", word, a, b);
        if (n <= 0 || word[0] == '#')
            continue;
        if (n == 3 && !strcmp(word, "key")) {
            if (kr->nkeys == PHI_MAX_KEYS || strlen(a) >= PHI_KEY_ID_MAX ||
                parse_hex32(b, kr->keys[kr->nkeys].key) != 0)
                rc = ck_err_set(err, -CK_EINVAL, "%s:%u: bad key line", path, lineno);
            else
                memcpy(kr->keys[kr->nkeys++].id, a, strlen(a) + 1);
        } else if (n == 2 && !strcmp(word, "blind")) {
            if (parse_hex32(a, kr->blind) != 0)
                rc = ck_err_set(err, -CK_EINVAL, "%s:%u: bad blind key line", path, lineno);
            have_blind = true;
        } else {
            rc = ck_err_set(err, -CK_EINVAL, "%s:%u: expected `key ID HEX` or `blind HEX`", path,
                            lineno);
        }
        sodium_memzero(line, sizeof line);
        sodium_memzero(a, sizeof a);
        sodium_memzero(b, sizeof b);
    }
    fclose(f);
    if (rc == 0 && (kr->nkeys == 0 || !have_blind))
        rc = ck_err_set(err, -CK_EINVAL, "%s: needs at least one key line and a blind line", path);
    if (rc) {
        phi_keyring_wipe(kr);
        return rc;
    }
    kr->loaded = true;
    return 0;
}

/* Write the keyring to path atomically (temp file, fsync, rename). */
static int keyring_write(const char *path, const struct phi_keyring *kr, struct ck_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ck_err_set(err, -CK_EIO, "cannot write %s: %s", tmp, strerror(errno));
    struct buf b = BUF_INIT;
    char hex[65];
    buf_printf(&b,
               "# clinickv PHI keys. The last key is the active one. Keep a copy of this\n"
               "# file apart from the database and its dumps: without it PHI cannot be read.\n");
    for (unsigned i = 0; i < kr->nkeys; i++) {
        sodium_bin2hex(hex, sizeof hex, kr->keys[i].key, 32);
        buf_printf(&b, "key %s %s\n", kr->keys[i].id, hex);
    }
    sodium_bin2hex(hex, sizeof hex, kr->blind, 32);
    buf_printf(&b, "blind %s\n", hex);
    sodium_memzero(hex, sizeof hex);
    int rc = 0;
    if (b.oom || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) != 0)
        rc = ck_err_set(err, -CK_EIO, "cannot write %s", tmp);
    close(fd);
    if (b.data)
        sodium_memzero(b.data, b.len);
    buf_free(&b);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ck_err_set(err, -CK_EIO, "cannot replace %s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

int phi_keyring_create(const char *path, struct ck_err *err)
{
    if (access(path, F_OK) == 0)
        return ck_err_set(err, -CK_EINVAL, "%s already exists", path);
    struct phi_keyring kr = {0};
    kr.nkeys = 1;
    snprintf(kr.keys[0].id, PHI_KEY_ID_MAX, "k1");
    randombytes_buf(kr.keys[0].key, 32);
    randombytes_buf(kr.blind, 32);
    int rc = keyring_write(path, &kr, err);
    phi_keyring_wipe(&kr);
    return rc;
}

int phi_keyring_add_key(const char *path, char id_out[PHI_KEY_ID_MAX], struct ck_err *err)
{
    struct phi_keyring kr;
    int rc = phi_keyring_load(&kr, path, err);
    if (rc)
        return rc;
    if (kr.nkeys == PHI_MAX_KEYS) {
        phi_keyring_wipe(&kr);
        return ck_err_set(err, -CK_ETOOLARGE, "%s holds %d keys already", path, PHI_MAX_KEYS);
    }
    /* The next free name kN. */
    unsigned n = 1;
    for (;;) {
        char id[PHI_KEY_ID_MAX];
        snprintf(id, sizeof id, "k%u", n);
        if (!phi_key_find(&kr, id, strlen(id)))
            break;
        n++;
    }
    struct phi_key *k = &kr.keys[kr.nkeys++];
    snprintf(k->id, PHI_KEY_ID_MAX, "k%u", n);
    randombytes_buf(k->key, 32);
    rc = keyring_write(path, &kr, err);
    if (rc == 0)
        snprintf(id_out, PHI_KEY_ID_MAX, "%s", k->id);
    phi_keyring_wipe(&kr);
    return rc;
}

int phi_keyring_retain(const char *path, const char *const *keep, unsigned nkeep,
                       struct ck_err *err)
{
    struct phi_keyring kr, out = {0};
    int rc = phi_keyring_load(&kr, path, err);
    if (rc)
        return rc;
    for (unsigned i = 0; i < kr.nkeys; i++) {
        bool wanted = i == kr.nkeys - 1; /* the active key always stays */
        for (unsigned j = 0; j < nkeep && !wanted; j++)
            wanted = !strcmp(keep[j], kr.keys[i].id);
        if (wanted)
            out.keys[out.nkeys++] = kr.keys[i];
    }
    memcpy(out.blind, kr.blind, 32);
    rc = keyring_write(path, &out, err);
    phi_keyring_wipe(&kr);
    phi_keyring_wipe(&out);
    return rc;
}

const struct phi_key *phi_key_active(const struct phi_keyring *kr)
{
    return kr->nkeys ? &kr->keys[kr->nkeys - 1] : NULL;
}

const struct phi_key *phi_key_find(const struct phi_keyring *kr, const char *id, size_t len)
{
    for (unsigned i = 0; i < kr->nkeys; i++) {
        if (strlen(kr->keys[i].id) == len && !memcmp(kr->keys[i].id, id, len))
            return &kr->keys[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------ sealing */

/* The tenant's key derived from a master key, for one purpose. */
static void derive(const uint8_t master[32], const char *purpose, const uint8_t tenant[16],
                   uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, master, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)purpose, strlen(purpose) + 1);
    crypto_generichash_update(&st, tenant, 16);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
}

static size_t make_ad(uint8_t *ad, const uint8_t tenant[16], const struct ck_table *t,
                      const uint8_t id[16], unsigned col)
{
    size_t n = 0;
    memcpy(ad + n, ad_label, sizeof ad_label);
    n += sizeof ad_label;
    memcpy(ad + n, tenant, 16);
    n += 16;
    ad[n++] = t->id;
    memcpy(ad + n, id, 16);
    n += 16;
    size_t cl = strlen(t->cols[col].name);
    memcpy(ad + n, t->cols[col].name, cl);
    return n + cl;
}

int phi_seal(const struct phi_key *k, const uint8_t tenant[16], const struct ck_table *t,
             const uint8_t id[16], unsigned col, const void *plain, size_t len, struct buf *out)
{
    uint8_t key[32], ad[128];
    size_t adlen = make_ad(ad, tenant, t, id, col);
    if (buf_reserve(out, len + PHI_OVERHEAD) != 0)
        return -CK_ENOMEM;
    uint8_t *p = (uint8_t *)out->data + out->len;
    p[0] = PHI_VERSION;
    randombytes_buf(p + 1, 24);
    derive(k->key, "phi-seal", tenant, key);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + 25, &clen, plain, len, ad, adlen, NULL, p + 1,
                                               key);
    sodium_memzero(key, sizeof key);
    out->len += 25 + (size_t)clen;
    return 0;
}

int phi_open(const struct phi_key *k, const uint8_t tenant[16], const struct ck_table *t,
             const uint8_t id[16], unsigned col, const void *sealed, size_t len, struct buf *out)
{
    const uint8_t *p = sealed;
    if (len < PHI_OVERHEAD || p[0] != PHI_VERSION)
        return -CK_EINVAL;
    uint8_t key[32], ad[128];
    size_t adlen = make_ad(ad, tenant, t, id, col);
    if (buf_reserve(out, len - PHI_OVERHEAD) != 0)
        return -CK_ENOMEM;
    derive(k->key, "phi-seal", tenant, key);
    unsigned long long mlen;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        (uint8_t *)out->data + out->len, &mlen, NULL, p + 25, len - 25, ad, adlen, p + 1, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0)
        return -CK_EINVAL;
    out->len += (size_t)mlen;
    return 0;
}

void phi_blind_hash(const struct phi_keyring *kr, const uint8_t tenant[16], const char *field,
                    const char *value, size_t len, char hex_out[65])
{
    uint8_t key[32], h[32];
    derive(kr->blind, "phi-blind", tenant, key);
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)field, strlen(field) + 1);
    crypto_generichash_update(&st, (const uint8_t *)value, len);
    crypto_generichash_final(&st, h, 32);
    sodium_bin2hex(hex_out, 65, h, 32);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&st, sizeof st);
}

/* ------------------------------------------------------------------ mapping */

static bool is_encrypted(const struct ck_column *c)
{
    return c->type == CK_T_BLOB && !strncmp(c->name, "encrypted_", 10);
}

const char *phi_plain_name(const struct ck_table *t, unsigned col)
{
    return is_encrypted(&t->cols[col]) ? t->cols[col].name + 10 : NULL;
}

int phi_plain_field(const struct ck_table *t, const char *name, size_t len)
{
    for (unsigned i = 0; i < t->ncols; i++) {
        const char *p = phi_plain_name(t, i);
        if (p && strlen(p) == len && !memcmp(p, name, len))
            return (int)i;
    }
    return -1;
}

int phi_key_col(const struct ck_table *t, unsigned col)
{
    const char *plain = phi_plain_name(t, col);
    if (!plain)
        return -1;
    /* <field>_key_id when the table has it, else the table's only *_key_id column. */
    char want[80];
    snprintf(want, sizeof want, "%s_key_id", plain);
    int found = ck_column_find(t, want, strlen(want));
    if (found >= 0)
        return found;
    for (unsigned i = 0; i < t->ncols; i++) {
        size_t n = strlen(t->cols[i].name);
        if (n > 7 && !strcmp(t->cols[i].name + n - 7, "_key_id"))
            return (int)i;
    }
    return -1;
}

bool phi_table(const struct ck_table *t)
{
    for (unsigned i = 0; i < t->ncols; i++) {
        if (is_encrypted(&t->cols[i]))
            return true;
    }
    return false;
}

bool phi_protected_column(const struct ck_table *t, unsigned col)
{
    const struct ck_column *c = &t->cols[col];
    if (is_encrypted(c))
        return true;
    size_t n = strlen(c->name);
    if (n > 12 && !strcmp(c->name + n - 12, "_search_hash"))
        return true;
    for (unsigned i = 0; i < t->ncols; i++) {
        if (is_encrypted(&t->cols[i]) && phi_key_col(t, i) == (int)col)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ blind indexes */

const char *const phi_search_columns[PHI_NSEARCH] = {"name_search_hash", "dob_search_hash",
                                                     "phone_search_hash", "email_search_hash"};

/* Trim spaces at both ends. */
static void trim(const char **s, uint32_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static int string_field(const char **p, const char *end, const char **s, uint32_t *len,
                        struct ck_err *err, const char *name)
{
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0)
        return ck_err_set(err, -CK_EINVAL, "demographics: malformed");
    if (o.type == MP_NIL) {
        *s = NULL;
        *len = 0;
        return 0;
    }
    if (o.type != MP_STR)
        return ck_err_set(err, -CK_EINVAL, "demographics.%s must be a string", name);
    *s = o.v.str.ptr;
    *len = o.v.str.len;
    trim(s, len);
    return 0;
}

int phi_search_hashes(const struct phi_keyring *kr, const uint8_t tenant[16], const char *map,
                      const char *end, struct phi_search *out, struct ck_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = map;
    struct mp_obj m, k;
    if (mp_next(&p, end, &m) != 0 || m.type != MP_MAP)
        return ck_err_set(err, -CK_EINVAL, "demographics must be a map");
    const char *last = NULL, *first = NULL, *dob = NULL, *phone = NULL, *email = NULL;
    uint32_t last_len = 0, first_len = 0, dob_len = 0, phone_len = 0, email_len = 0;
    for (uint32_t i = 0; i < m.v.n; i++) {
        if (mp_next(&p, end, &k) != 0)
            return ck_err_set(err, -CK_EINVAL, "demographics: malformed");
        int rc = 0;
        if (mp_obj_streq(&k, "last_name"))
            rc = string_field(&p, end, &last, &last_len, err, "last_name");
        else if (mp_obj_streq(&k, "first_name"))
            rc = string_field(&p, end, &first, &first_len, err, "first_name");
        else if (mp_obj_streq(&k, "date_of_birth"))
            rc = string_field(&p, end, &dob, &dob_len, err, "date_of_birth");
        else if (mp_obj_streq(&k, "phone"))
            rc = string_field(&p, end, &phone, &phone_len, err, "phone");
        else if (mp_obj_streq(&k, "email"))
            rc = string_field(&p, end, &email, &email_len, err, "email");
        else if (mp_skip(&p, end) != 0)
            rc = ck_err_set(err, -CK_EINVAL, "demographics: malformed");
        if (rc)
            return rc;
    }
    struct buf norm = BUF_INIT;
    int rc = 0;
    if (last_len && first_len) {
        /* last|first as one collation key: case, accents and outer spaces ignored. */
        if (ck_collate_key(last, last_len, &norm) == 0) {
            buf_push(&norm, '|');
            if (ck_collate_key(first, first_len, &norm) == 0) {
                phi_blind_hash(kr, tenant, "name", norm.data, norm.len, out->hex[0]);
                out->has[0] = true;
            }
        }
    }
    if (dob_len) {
        int32_t days;
        if (ck_date_parse(dob, dob_len, &days) != 0) {
            rc = ck_err_set(err, -CK_EINVAL, "demographics.date_of_birth must be YYYY-MM-DD");
            goto out;
        }
        char canon[11];
        ck_date_format(days, canon);
        phi_blind_hash(kr, tenant, "dob", canon, 10, out->hex[1]);
        out->has[1] = true;
    }
    if (phone_len) {
        buf_reset(&norm);
        for (uint32_t i = 0; i < phone_len; i++) {
            char ch = phone[i];
            if ((ch >= '0' && ch <= '9') || (ch == '+' && norm.len == 0))
                buf_push(&norm, (uint8_t)ch);
        }
        if (norm.len) {
            phi_blind_hash(kr, tenant, "phone", norm.data, norm.len, out->hex[2]);
            out->has[2] = true;
        }
    }
    if (email_len) {
        buf_reset(&norm);
        if (ck_collate_key(email, email_len, &norm) == 0) {
            phi_blind_hash(kr, tenant, "email", norm.data, norm.len, out->hex[3]);
            out->has[3] = true;
        }
    }
out:
    if (norm.data)
        sodium_memzero(norm.data, norm.cap);
    buf_free(&norm);
    return rc;
}

/* ------------------------------------------------------------------ re-sealing rows */

static int reseal_failed(struct ck_err *err, const struct ck_table *t, const uint8_t id[16],
                         const char *why)
{
    char ids[37];
    ck_uuid_format(id, ids);
    return ck_err_set(err, -CK_EINVAL, "%s row %s: its PHI %s", t->name, ids, why);
}

int phi_reseal_row(struct ck_row *r, const uint8_t tenant[16], const struct phi_keyring *from,
                   const struct phi_key *to, const struct phi_keyring *blind, struct phi_reseal *rs,
                   uint64_t *changed, struct ck_err *err)
{
    const struct ck_table *t = r->t;
    const uint8_t *id = r->v[t->col_id].uuid;
    unsigned n = 0;
    int rc = 0;
    /* Every key id column is read before any is rewritten. */
    const struct phi_key *keys[CK_MAX_COLS] = {0};
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!phi_plain_name(t, i) || r->v[i].kind != CK_V_BIN)
            continue;
        int kc = phi_key_col(t, i);
        if (kc < 0 || r->v[kc].kind != CK_V_STR)
            return reseal_failed(err, t, id, "names no key");
        keys[i] = phi_key_find(from, r->v[kc].p, r->v[kc].len);
        if (!keys[i])
            return reseal_failed(err, t, id, "was sealed with a key the key file does not hold");
    }
    for (unsigned i = 0; i < t->ncols && rc == 0; i++) {
        const char *field = phi_plain_name(t, i);
        if (!field || r->v[i].kind != CK_V_BIN || n == 4)
            continue;
        buf_reset(&rs->plain);
        if (phi_open(keys[i], tenant, t, id, i, r->v[i].p, r->v[i].len, &rs->plain) != 0)
            return reseal_failed(err, t, id, "does not open with its key");
        struct buf *out = &rs->sealed[n++];
        buf_reset(out);
        rc = phi_seal(to, tenant, t, id, i, rs->plain.data, rs->plain.len, out);
        if (rc == 0 && out->oom)
            rc = -CK_ENOMEM;
        if (rc == 0 && blind && !strcmp(field, "demographics")) {
            rc = phi_search_hashes(blind, tenant, rs->plain.data, rs->plain.data + rs->plain.len,
                                   &rs->search, err);
            for (unsigned j = 0; j < PHI_NSEARCH && rc == 0; j++) {
                int sc = ck_column_find(t, phi_search_columns[j], strlen(phi_search_columns[j]));
                if (sc < 0)
                    continue;
                r->v[sc].kind = rs->search.has[j] ? CK_V_STR : CK_V_NULL;
                r->v[sc].p = rs->search.hex[j];
                r->v[sc].len = 64;
                *changed |= CK_COL(sc);
            }
        }
        sodium_memzero(rs->plain.data, rs->plain.len);
        if (rc)
            return reseal_failed(err, t, id, "cannot be sealed again");
        r->v[i].kind = CK_V_BIN;
        r->v[i].p = out->data;
        r->v[i].len = (uint32_t)out->len;
        *changed |= CK_COL(i);
        int kc = phi_key_col(t, i);
        r->v[kc].kind = CK_V_STR;
        r->v[kc].p = to->id;
        r->v[kc].len = (uint32_t)strlen(to->id);
        *changed |= CK_COL(kc);
    }
    return rc;
}

void phi_reseal_free(struct phi_reseal *rs)
{
    if (rs->plain.data)
        sodium_memzero(rs->plain.data, rs->plain.cap);
    buf_free(&rs->plain);
    for (unsigned i = 0; i < 4; i++)
        buf_free(&rs->sealed[i]);
    sodium_memzero(&rs->search, sizeof rs->search);
}
