/*
 * UUIDs: the 36-character text form used on the wire and the time-ordered
 * version 7 ids (RFC 9562) that the server generates for new rows.
 *
 * Ids are held as 16 bytes in network order. Because a v7 id starts with its
 * millisecond timestamp, the bytes of ids generated later compare greater with
 * memcmp, so rows keyed by id are stored roughly in insertion order and index
 * keys that end in an id stay local to recent pages.
 */
#ifndef CLINICKV_UUID_H
#define CLINICKV_UUID_H

#include <stddef.h>
#include <stdint.h>

/* Length of the text form, without the terminating NUL. */
#define CK_UUID_STRLEN 36

/*
 * Parse the text form: exactly 36 characters, 8-4-4-4-12 hexadecimal digits
 * separated by dashes, in upper or lower case. No braces, no "urn:uuid:" prefix,
 * no surrounding spaces. Any version and variant is accepted, because ids
 * written by MySQL's UUID() are version 1.
 *
 * s:   the text; it need not be NUL-terminated.
 * len: its length in bytes.
 * out: OUT: the 16 bytes; written only on success.
 *
 * Returns 0, or -CK_EINVAL when s is not a UUID in that form.
 */
int ck_uuid_parse(const char *s, size_t len, uint8_t out[16]);

/*
 * Write id in lowercase text form: 36 characters and a terminating NUL. The
 * protocol and the stored rows use lowercase only, so ids compare exactly.
 *
 * out: OUT: at least 37 bytes.
 */
void ck_uuid_format(const uint8_t id[16], char out[37]);

/*
 * Generate a new UUIDv7 (RFC 9562 section 5.7): a 48-bit Unix timestamp in
 * milliseconds, version 7, a 12-bit sequence in rand_a, variant 10 and 62
 * random bits (libsodium's randombytes_buf) in rand_b.
 *
 * Ids are strictly increasing (as 16-byte big-endian numbers) over the whole
 * process, from any number of threads: the timestamp and the sequence together
 * form one 60-bit counter that is either moved forward to the current clock (the
 * sequence then starts at a random value below 2048, so the next id is not
 * guessable from the last) or, when the clock has not advanced or has stepped
 * back, incremented by one (RFC 9562 section 6.2, method 1). When more than
 * 2048 ids are taken in one millisecond the carry moves the timestamp a
 * millisecond ahead of the clock; ids taken after a clock step back keep the
 * older, later timestamp until the clock catches up. The embedded timestamp is
 * therefore close to, never a promise of, the creation time.
 *
 * The state is one lock-free atomic word, so this is safe and cheap on the
 * writer thread and in multi-threaded tools. It aborts (in libsodium) only if
 * the operating system's random source is unavailable.
 *
 * out: OUT: the 16 bytes.
 */
void ck_uuid_v7(uint8_t out[16]);

/* The 48-bit Unix timestamp in milliseconds held in the first six bytes of id.
 * Meaningful for version 7 ids only; for other versions it is those bits. */
int64_t ck_uuid_v7_ms(const uint8_t id[16]);

#endif
