/*
 * A growable byte buffer: replies, stored rows and keys are built in one.
 *
 * A buffer that failed to grow remembers it (oom) and ignores further appends,
 * so builders can append freely and check once at the end.
 */
#ifndef CLINICKV_BUF_H
#define CLINICKV_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
    bool borrowed; /* data is caller memory (a stack array): never realloc'd or freed */
};

#define BUF_INIT                 \
    {                            \
        NULL, 0, 0, false, false \
    }

/* Start a buffer in caller memory (typically a stack array); it moves to the heap
 * only if it outgrows it. buf_free() is still required. */
static inline void buf_init_borrowed(struct buf *b, void *mem, size_t cap)
{
    b->data = mem;
    b->len = 0;
    b->cap = cap;
    b->oom = false;
    b->borrowed = true;
}

/* Make room for n more bytes. 0, or -CK_ENOMEM (and oom set). */
int buf_reserve(struct buf *b, size_t n);

/* Append n bytes. Errors are remembered in b->oom. */
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    if (b->oom || (b->cap - b->len < n && buf_reserve(b, n) != 0))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void buf_push(struct buf *b, uint8_t c)
{
    if (b->oom || (b->cap == b->len && buf_reserve(b, 1) != 0))
        return;
    b->data[b->len++] = (char)c;
}

/* Forget the contents, keep the memory. */
static inline void buf_reset(struct buf *b)
{
    b->len = 0;
    b->oom = false;
}

/* Release the memory; the buffer is empty and usable again. */
void buf_free(struct buf *b);

/* Hand the contents to the caller (who frees them with free()); b becomes empty. */
char *buf_steal(struct buf *b, size_t *len_out);

/* Append formatted text (no terminating NUL is counted in len). */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
