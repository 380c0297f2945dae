/*
 * PHI at rest: sealing, opening and blind indexes, with keys kept outside the
 * database.
 *
 * Which columns hold PHI is read from the catalog: every LONGBLOB column named
 * encrypted_<field> (patients.encrypted_demographics, .encrypted_medical_history,
 * clinical_notes.encrypted_content, patient_insurance.encrypted_subscriber_info).
 * Clients write and read <field> (demographics, medical_history, content,
 * subscriber_info) as a plain msgpack value; the server stores only
 *
 *   version(1) = 1 | nonce(24) | XChaCha20-Poly1305 ciphertext of the msgpack value + tag(16)
 *
 * with associated data "clinickv-phi-v1" | tenant id | table id | row id | column
 * name, so a ciphertext moved to another row, column or tenant fails to open. The
 * name of the key that sealed it goes into the table's *_key_id column
 * (demographics_key_id, content_key_id, subscriber_key_id). XChaCha20-Poly1305
 * rather than the seed's AES-256-GCM: libsodium offers AES-GCM only on CPUs
 * with AES-NI, and a dump must open on an ARM appliance too.
 *
 * The key file (DIR/phi.keys by default, mode 0600, never inside DIR/db) holds
 * named 32-byte master keys, the last one active, and one blind-index key:
 *
 *   # comment
 *   key k1 <64 hex>
 *   key k2 <64 hex>
 *   blind <64 hex>
 *
 * Each tenant's keys are derived from the masters with keyed BLAKE2b, so one
 * tenant's key reveals nothing of another's. Blind indexes (patients.*_search_hash)
 * are hex BLAKE2b-256 of a normalized value under the tenant's blind key; that key
 * never rotates, so searches keep working while rows are re-encrypted.
 */
#ifndef CLINICKV_PHI_H
#define CLINICKV_PHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "catalog.h"
#include "ckerr.h"

#define PHI_MAX_KEYS   64
#define PHI_KEY_ID_MAX 16
#define PHI_VERSION    1
#define PHI_OVERHEAD   (1 + 24 + 16)

struct phi_key {
    char id[PHI_KEY_ID_MAX]; /* "k1" */
    uint8_t key[32];
};

struct phi_keyring {
    struct phi_key keys[PHI_MAX_KEYS];
    unsigned nkeys; /* keys[nkeys - 1] is the active key */
    uint8_t blind[32];
    bool loaded;
};

/* Load a key file. -CK_ENOTFOUND (no file), -CK_EINVAL (malformed: message says
 * where), -CK_EFORBIDDEN (readable by others than its owner). */
int phi_keyring_load(struct phi_keyring *kr, const char *path, struct ck_err *err);

/* Create a new key file with one key and a blind key (refuses to overwrite). */
int phi_keyring_create(const char *path, struct ck_err *err);

/* Append a new active key to the file (rotation). id_out gets its name. */
int phi_keyring_add_key(const char *path, char id_out[PHI_KEY_ID_MAX], struct ck_err *err);

/* Rewrite the file keeping only the keys in `keep` (ids), active key last. */
int phi_keyring_retain(const char *path, const char *const *keep, unsigned nkeep,
                       struct ck_err *err);

/* Wipe the key material. */
void phi_keyring_wipe(struct phi_keyring *kr);

/* The active key, and a key by name (NULL when unknown). */
const struct phi_key *phi_key_active(const struct phi_keyring *kr);
const struct phi_key *phi_key_find(const struct phi_keyring *kr, const char *id, size_t len);

/* Seal plain (a msgpack value) for column col of row id of table t, appending to out. */
int phi_seal(const struct phi_key *k, const uint8_t tenant[16], const struct ck_table *t,
             const uint8_t id[16], unsigned col, const void *plain, size_t len, struct buf *out);

/* Open a sealed value, appending the plain msgpack to out. -CK_EINVAL when it does
 * not authenticate (wrong key, another row's ciphertext, tampering). */
int phi_open(const struct phi_key *k, const uint8_t tenant[16], const struct ck_table *t,
             const uint8_t id[16], unsigned col, const void *sealed, size_t len, struct buf *out);

/* Blind index of a normalized value of a search field ("name", "dob", "phone",
 * "email") for a tenant: 64 lowercase hex characters and a NUL. */
void phi_blind_hash(const struct phi_keyring *kr, const uint8_t tenant[16], const char *field,
                    const char *value, size_t len, char hex_out[65]);

/* The blind-indexed search fields of a demographics map, in this order:
 * name (last_name|first_name), dob (date_of_birth), phone, email. */
#define PHI_NSEARCH 4
extern const char *const phi_search_columns[PHI_NSEARCH]; /* "name_search_hash", ... */

struct phi_search {
    bool has[PHI_NSEARCH];
    char hex[PHI_NSEARCH][65];
};

/*
 * Blind indexes of the fields of a demographics map (msgpack at map..end):
 * last_name + first_name (both needed; case, accents and outer spaces ignored),
 * date_of_birth (YYYY-MM-DD), phone (digits, and a leading +), email (case
 * ignored). Fields that are absent or empty leave has[i] false. -CK_EINVAL
 * (message in err) when the map is not a map or a field is not a string or a
 * date_of_birth is not a date.
 */
int phi_search_hashes(const struct phi_keyring *kr, const uint8_t tenant[16], const char *map,
                      const char *end, struct phi_search *out, struct ck_err *err);

/* ---- re-sealing whole rows: key rotation and tenant moves */

struct ck_row;

/* Where a re-sealed row's new values live (until the next row or phi_reseal_free). */
struct phi_reseal {
    struct buf plain;
    struct buf sealed[4];
    struct phi_search search;
};

/*
 * Re-seal every PHI value of row r (tenant's) with key `to`: each value is opened
 * with the key its row names, looked up in `from`, and sealed again; the key id
 * columns then name `to`. With `blind` (the target data directory's keyring, for a
 * tenant moved between directories), the blind indexes are recomputed under its
 * blind key; NULL keeps them (a rotation within one directory, where the blind key
 * never changes). r's views then point into rs. *changed gets the columns written.
 * -CK_EINVAL, message in err naming table and row (never a value), when a value
 * names no key, a key `from` lacks, or does not open.
 */
int phi_reseal_row(struct ck_row *r, const uint8_t tenant[16], const struct phi_keyring *from,
                   const struct phi_key *to, const struct phi_keyring *blind, struct phi_reseal *rs,
                   uint64_t *changed, struct ck_err *err);

/* Wipe and free the scratch of phi_reseal_row. */
void phi_reseal_free(struct phi_reseal *rs);

/* ---- catalog-driven mapping */

/* Encrypted column whose plain field is `name` ("demographics"), or -1. */
int phi_plain_field(const struct ck_table *t, const char *name, size_t len);

/* The plain field name of an encrypted column ("demographics"), or NULL when the
 * column is not PHI. */
const char *phi_plain_name(const struct ck_table *t, unsigned col);

/* The key id column that names the key of encrypted column col, or -1. */
int phi_key_col(const struct ck_table *t, unsigned col);

/* Columns the server maintains for PHI (encrypted_*, *_key_id of them, *_search_hash). */
bool phi_protected_column(const struct ck_table *t, unsigned col);

/* Does the table hold PHI at all? */
bool phi_table(const struct ck_table *t);

#endif
