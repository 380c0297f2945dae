/* DIR/bench/ids: reading the file clinickv-gen writes (format in benchids.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchids.h"
#include "timeval.h"

#define MAX_FIELDS 9

/* Grow *arr (of *n elements, capacity *cap) by one zeroed element. */
static void *grow(void *arr, int *n, int *cap, size_t elem)
{
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        void *p = realloc(arr, (size_t)ncap * elem);
        if (!p)
            return NULL;
        arr = p;
        *cap = ncap;
    }
    memset((char *)arr + (size_t)*n * elem, 0, elem);
    (*n)++;
    return arr;
}

struct caps {
    int clinics, dentists, patients, users, batches;
};

static int copy_uuid(bids_uuid dst, const char *s)
{
    if (!s || strlen(s) != 36)
        return -1;
    memcpy(dst, s, 37);
    return 0;
}

int bids_clinic_index(const struct bids_tenant *t, const char *id)
{
    for (int i = 0; i < t->nclinics; i++) {
        if (strcmp(t->clinics[i], id) == 0)
            return i;
    }
    return -1;
}

static int parse_line(struct bids *b, struct caps **caps, int *cap_t, char **f, int nf)
{
    const char *kind = f[0];
    if (!strcmp(kind, "format"))
        return nf == 2 && atoi(f[1]) == BIDS_FORMAT ? 0 : -1;
    if (!strcmp(kind, "anchor")) {
        if (nf != 2 || strlen(f[1]) != 10 || ck_date_parse(f[1], 10, &b->anchor_days) != 0)
            return -1;
        memcpy(b->anchor, f[1], 11);
        return 0;
    }
    if (!strcmp(kind, "scale")) {
        b->scale = nf == 2 ? atof(f[1]) : 0;
        return nf == 2 ? 0 : -1;
    }
    if (!strcmp(kind, "seed")) {
        b->seed = nf == 2 ? strtoull(f[1], NULL, 10) : 0;
        return nf == 2 ? 0 : -1;
    }
    if (!strcmp(kind, "password")) {
        if (nf != 2 || b->password)
            return -1;
        b->password = strdup(f[1]);
        return b->password ? 0 : -1;
    }
    if (nf < 3)
        return -1;
    char *endp;
    long ti = strtol(f[1], &endp, 10);
    if (*endp || ti < 0)
        return -1;
    if (!strcmp(kind, "tenant")) {
        if (ti != b->ntenants || nf != 5)
            return -1;
        int n = b->ntenants;
        void *p = grow(b->tenants, &n, cap_t, sizeof *b->tenants);
        if (!p)
            return -1;
        b->tenants = p;
        struct caps *c = realloc(*caps, (size_t)*cap_t * sizeof **caps);
        if (!c)
            return -1;
        *caps = c;
        memset(&c[b->ntenants], 0, sizeof *c);
        struct bids_tenant *t = &b->tenants[b->ntenants++];
        t->slug = strdup(f[3]);
        t->email = strdup(f[4]);
        if (!t->slug || !t->email || copy_uuid(t->id, f[2]))
            return -1;
        return 0;
    }
    if (ti >= b->ntenants)
        return -1;
    struct bids_tenant *t = &b->tenants[ti];
    struct caps *c = &(*caps)[ti];
    void *p;
    if (!strcmp(kind, "clinic")) {
        if (!(p = grow(t->clinics, &t->nclinics, &c->clinics, sizeof *t->clinics)))
            return -1;
        t->clinics = p;
        return copy_uuid(t->clinics[t->nclinics - 1], f[2]);
    }
    if (!strcmp(kind, "dentist") || !strcmp(kind, "patient")) {
        bool dentist = kind[0] == 'd';
        struct bids_ref **arr = dentist ? &t->dentists : &t->patients;
        int *n = dentist ? &t->ndentists : &t->npatients;
        if (!(p = grow(*arr, n, dentist ? &c->dentists : &c->patients, sizeof **arr)))
            return -1;
        *arr = p;
        struct bids_ref *r = &(*arr)[*n - 1];
        r->clinic = nf > 3 ? bids_clinic_index(t, f[3]) : -1;
        return copy_uuid(r->id, f[2]);
    }
    if (!strcmp(kind, "user")) {
        if (!(p = grow(t->users, &t->nusers, &c->users, sizeof *t->users)))
            return -1;
        t->users = p;
        return copy_uuid(t->users[t->nusers - 1], f[2]);
    }
    if (!strcmp(kind, "batch")) {
        if (nf != 8 || !(p = grow(t->batches, &t->nbatches, &c->batches, sizeof *t->batches)))
            return -1;
        t->batches = p;
        struct bids_batch *bt = &t->batches[t->nbatches - 1];
        bt->clinic = bids_clinic_index(t, f[4]);
        bt->price_cents = atol(f[5]);
        bt->drug_name = strdup(f[6]);
        bt->cost_cents = atol(f[7]);
        if (!bt->drug_name || copy_uuid(bt->id, f[2]) || copy_uuid(bt->drug_id, f[3]))
            return -1;
        return 0;
    }
    return -1; /* an unknown kind: a newer format, which this reader cannot honour */
}

int bids_load(const char *path, struct bids *out, struct ck_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return ck_err_set(err, errno == ENOENT ? -CK_ENOTFOUND : -CK_EIO, "cannot open %s: %s",
                          path, strerror(errno));
    struct caps *caps = NULL;
    int cap_t = 0, rc = 0;
    unsigned lineno = 0;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *fields[MAX_FIELDS];
        int nf = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, "\t", &save); tok && nf < MAX_FIELDS;
             tok = strtok_r(NULL, "\t", &save))
            fields[nf++] = tok;
        if (nf < 2 || parse_line(out, &caps, &cap_t, fields, nf) != 0) {
            rc = ck_err_set(err, -CK_EINVAL, "%s:%u: malformed line", path, lineno);
            break;
        }
    }
    fclose(f);
    free(caps);
    if (rc)
        return rc;
    if (!out->ntenants || !out->anchor_days || !out->password)
        return ck_err_set(err, -CK_EINVAL, "%s: no tenants, anchor or password", path);
    for (int i = 0; i < out->ntenants; i++) {
        const struct bids_tenant *t = &out->tenants[i];
        if (!t->nclinics || !t->ndentists || !t->npatients || !t->nusers || t->nbatches < 3)
            return ck_err_set(err, -CK_EINVAL,
                              "%s: tenant %d lacks clinics, dentists, sellers, patients or batches",
                              path, i);
    }
    return 0;
}

void bids_free(struct bids *b)
{
    for (int i = 0; i < b->ntenants; i++) {
        struct bids_tenant *t = &b->tenants[i];
        free(t->slug);
        free(t->email);
        free(t->clinics);
        free(t->dentists);
        free(t->patients);
        free(t->users);
        for (int j = 0; j < t->nbatches; j++)
            free(t->batches[j].drug_name);
        free(t->batches);
    }
    free(b->tenants);
    free(b->password);
    memset(b, 0, sizeof *b);
}
