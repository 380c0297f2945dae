/*
 * Private to the catalog: the lookup structures that tools/ddl2catalog.py generates
 * next to the catalog data (catalog_data.c) and catalog.c reads. Nothing outside
 * storage/catalog*.c includes this header; everyone else uses catalog.h.
 */
#ifndef CLINICKV_CATALOG_INT_H
#define CLINICKV_CATALOG_INT_H

#include <stddef.h>
#include <stdint.h>

/*
 * An open-addressing hash table of names (table names, or the columns of one
 * table). slots[] has mask + 1 entries, each an entry index + 1, or 0 when empty;
 * a lookup starts at ck__name_hash(name) & mask and probes linearly, at most
 * max_probe slots (the generator looks for a seed that makes every name land in
 * its own slot, so max_probe is 1 and a lookup is one hash and one compare).
 * lens[i] is the byte length of entry i's name, compared before the bytes.
 */
struct ck_name_hash {
    uint32_t seed;
    uint16_t mask;
    uint8_t max_probe;
    const uint8_t *slots;
    const uint8_t *lens;
};

/* Where index id (1-based, catalog-wide) lives: table index and position in its indexes[]. */
struct ck_index_loc {
    uint8_t table;
    uint8_t pos;
};

extern const struct ck_name_hash ck_catalog_table_hash;
extern const struct ck_name_hash ck_catalog_column_hash[]; /* by table index */
extern const uint16_t ck_catalog_nindex_ids;
extern const struct ck_index_loc ck_catalog_index_locs[]; /* by index id - 1 */

/*
 * The name hash: 32-bit FNV-1a over the bytes, then murmur3's finaliser keyed by
 * the table's seed. tools/ddl2catalog.py (fnv1a, fmix) computes the same values;
 * change both or neither.
 */
static inline uint32_t ck__name_hash(const char *s, size_t len, uint32_t seed)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    h ^= seed;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

#endif
