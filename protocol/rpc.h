/*
 * msgpack-RPC messages: parsing the client's, encoding the server's.
 *
 * PROTOCOL.md "Framing" fixes the shapes:
 *   request       [0, msgid, method, params]   params = [] or [{...}]
 *   response      [1, msgid, error, result]    exactly one of error/result is nil
 *   notification  [2, method, params]
 * and "Errors" the error value: [code, message] or [code, message, {details}].
 * docs/protocol.md records what the server does with each kind of bad message.
 *
 * Parsing is zero-copy: struct rpc_msg points into the frame, which must outlive
 * it. Encoding goes through a msgpack-c packer made by mp_packer_init() (mp.h).
 */
#ifndef CLINICKV_RPC_H
#define CLINICKV_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "ckerr.h"
#include "frame.h"

/* Message types: the first element of the envelope, plus RPC_INVALID for frames
 * that are no message a client may send. */
enum rpc_type {
    RPC_INVALID = -1,
    RPC_REQUEST = 0,
    RPC_RESPONSE = 1,
    RPC_NOTIFY = 2,
};

struct rpc_msg {
    int type;           /* enum rpc_type; see rpc_parse() for its meaning on error */
    uint32_t msgid;     /* RPC_REQUEST only; 0 otherwise */
    const char *method; /* str or bin body, not NUL-terminated; NULL if unread */
    uint32_t method_len;
    const char *params;     /* first key of the params map, or NULL for an empty map */
    uint32_t nparams;       /* pairs in the params map */
    const char *params_end; /* end of the params map (of the params array when empty) */
};

/*
 * Parse one complete frame (as delimited by frame_scan()) as a message a client
 * may send.
 *
 * frame/len: exactly one msgpack object; len must be the frame's length (bytes
 * after the object are an error). out points into frame afterwards: the caller
 * keeps the frame alive while it uses out. err must be initialised
 * (CK_ERR_INIT); it is written only on error.
 *
 * A request must be [0, msgid, method, params]: exactly 4 elements, msgid an
 * unsigned integer <= UINT32_MAX, method a str or bin (any length, empty
 * included: unknown methods are the dispatcher's business), params an array
 * holding exactly one map, or an empty array, which means an empty map. On
 * success out->params/nparams/params_end describe that map; the map's contents
 * are not validated beyond being well-formed msgpack.
 *
 * A notification must be [2, method, params]: method a str or bin, params an
 * array of anything. Only the method is recorded: out->params is NULL,
 * out->nparams 0, out->params_end the end of the params array.
 *
 * Returns 0 with out->type RPC_REQUEST or RPC_NOTIFY, or -CK_EBADREQ with a
 * message in err saying exactly what was wrong. Unlike other out-parameters, out
 * is also written on error, because the server must know whom to answer:
 *
 *   out->type == RPC_REQUEST  answerable: the envelope is a request whose msgid
 *                             was read (out->msgid), but something else is
 *                             wrong. Answer that msgid with bad_request and keep
 *                             the connection.
 *   out->type == RPC_NOTIFY   a [2, ...] notification of the wrong shape. Nobody
 *                             awaits an answer; it is ignored like any unknown
 *                             notification.
 *   out->type == RPC_INVALID  not a message a client may send (not an array,
 *                             empty, a type other than 0 or 2 -- responses
 *                             included -- or a request whose msgid is missing or
 *                             not a uint32). out->msgid is 0: the server answers
 *                             bad_request with msgid 0 and keeps the connection,
 *                             whose framing is still intact.
 *
 * On error, out->method is set when the method had been read, else NULL.
 */
int rpc_parse(const char *frame, size_t len, struct rpc_msg *out, struct ck_err *err);

/*
 * Read the msgid of a request from the start of bytes that may be incomplete,
 * for the error response to a message that is refused before it is complete
 * (too_large). True, with *msgid set, when buf begins with a 4-element array
 * whose first element is 0 and whose second is a uint32 that has fully arrived;
 * false otherwise (*msgid untouched).
 */
bool rpc_peek_msgid(const char *buf, size_t len, uint32_t *msgid);

/*
 * Write the response to a message that frame_scan() refused with
 * -CK_ETOOLARGE: [1, msgid, ["too_large", message, {limit, max}], nil].
 * limit is "max_message" or "max_depth" and max its value in s. msgid is the
 * request's when buf/len, the bytes of the refused message received so far,
 * begin with [0, msgid (rpc_peek_msgid()), and 0 otherwise. The server sends
 * this and then closes the connection (docs/protocol.md). s and buf are only
 * read. Packer errors are remembered by the buffer behind pk.
 */
void rpc_pack_too_large(msgpack_packer *pk, const struct frame_scanner *s, const char *buf,
                        size_t len);

/*
 * Write the head of a success response, [1, msgid, nil, -- the caller packs
 * exactly one result object next, which completes the 4-element array. Packer
 * errors (out of memory) are remembered by the buffer behind pk (buf.h).
 */
void rpc_pack_result_header(msgpack_packer *pk, uint32_t msgid);

/*
 * Write a complete error response: [1, msgid, [code, message], nil], or
 * [1, msgid, [code, message, {details}], nil] when err has details.
 *
 * code is ck_error_code(err->code); an err->code of 0 (no error recorded, a
 * caller bug) is sent as "internal" so that an error response never looks like
 * success. message is err->message up to its NUL. If the details buffer ran out
 * of memory while it was built, its bytes cannot be trusted and the error is
 * sent without details. err is only read.
 */
void rpc_pack_error(msgpack_packer *pk, uint32_t msgid, const struct ck_err *err);

/*
 * Write the head of a server-to-client notification, [2, method, [{ -- a
 * params array holding one map of npairs pairs, the same shape as a request's
 * params; the caller packs exactly npairs key/value pairs next. method is a
 * NUL-terminated name, packed as str.
 */
void rpc_pack_notification(msgpack_packer *pk, const char *method, uint32_t npairs);

#endif
