/*
 * clinickv error space.
 *
 * One X-macro lists every error the project reports: its enum name, the stable
 * wire code of PROTOCOL.md (clients branch on it), and a short description.
 * The enum, ck_strerror() and ck_error_code() are generated from it, so a code
 * such as "unique_violation" is spelled in exactly one place.
 *
 * Functions that can fail return int: 0 on success, a negative CK_E* value on
 * failure. Foreign codes (LMDB, libuv, libsodium, errno) are translated at the
 * module that calls the foreign library.
 */
#ifndef CLINICKV_ERROR_H
#define CLINICKV_ERROR_H

/* clang-format off: a table, aligned by hand */
/*   enum name            wire code              description */
#define CK_ERROR_LIST(X)                                                                \
    X(CK_EBADREQ, "bad_request", "malformed request or unknown method")                 \
    X(CK_EUNAUTH, "unauthenticated", "no valid session")                                \
    X(CK_EFORBIDDEN, "forbidden", "not allowed for this session")                       \
    X(CK_ENOTFOUND, "not_found", "no such row")                                         \
    X(CK_EUNKTABLE, "unknown_table", "no such table")                                   \
    X(CK_EUNKCOLUMN, "unknown_column", "no such column")                                \
    X(CK_EINVAL, "invalid_value", "invalid value")                                      \
    X(CK_ENOTNULL, "not_null_violation", "required column is missing or nil")           \
    X(CK_EUNIQUE, "unique_violation", "duplicate key")                                  \
    X(CK_EFK, "fk_violation", "referenced row does not exist")                          \
    X(CK_ERESTRICT, "restrict_violation", "row is referenced under ON DELETE RESTRICT") \
    X(CK_ECONFLICT, "conflict", "concurrent modification")                              \
    X(CK_ENOINDEX, "no_index", "no index serves this query")                            \
    X(CK_ETOOLARGE, "too_large", "over a limit")                                        \
    X(CK_EBUSY, "busy", "overloaded, retry later")                                      \
    X(CK_EINTERNAL, "internal", "internal error")                                       \
    X(CK_ENOMEM, "internal", "out of memory")                                           \
    X(CK_EIO, "internal", "I/O error")                                                  \
    X(CK_EMAPFULL, "internal", "database map full")                                     \
    X(CK_EAGAIN, "internal", "incomplete input")
/* clang-format on */

enum ck_error {
    CK_OK = 0,
#define CK_ERROR_ENUM(name, code, desc) name,
    CK_ERROR_LIST(CK_ERROR_ENUM)
#undef CK_ERROR_ENUM
        CK__ELAST
};

/* Errors are returned negated: `return -CK_EINVAL;`. */

/* Human description of an error (positive or negated enum value). Never NULL. */
const char *ck_strerror(int err);

/* Stable wire code of PROTOCOL.md ("unique_violation"...). Never NULL; internal
 * failures (memory, I/O, map full) all map to "internal". */
const char *ck_error_code(int err);

/* Reverse of ck_error_code(): the enum value for a wire code, or -CK_EINTERNAL. */
int ck_error_from_code(const char *code, unsigned len);

#endif
