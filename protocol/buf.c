/* Growable byte buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clinickv/error.h"

int buf_reserve(struct buf *b, size_t n)
{
    if (b->oom)
        return -CK_ENOMEM;
    if (b->cap - b->len >= n)
        return 0;
    size_t need = b->len + n;
    if (need < b->len) {
        b->oom = true;
        return -CK_ENOMEM;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap * 2 > cap ? cap * 2 : need;
    char *p = b->borrowed ? malloc(cap) : realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return -CK_ENOMEM;
    }
    if (b->borrowed && b->len)
        memcpy(p, b->data, b->len);
    b->borrowed = false;
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_free(struct buf *b)
{
    if (!b->borrowed)
        free(b->data);
    b->borrowed = false;
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

char *buf_steal(struct buf *b, size_t *len_out)
{
    if (b->borrowed && buf_reserve(b, b->cap - b->len + 1) != 0)
        return NULL;
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
    return p;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        buf_append(b, tmp, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
