#!/usr/bin/python3
"""The catalog compiled into clinickv agrees with what MariaDB makes of the same DDL.

A private MariaDB server (tests/mariadb.py) loads schema/00 and 01 into
healthcare_saas, and 00 alone into healthcare_core. Its information_schema
(COLUMNS, REFERENTIAL_CONSTRAINTS + KEY_COLUMN_USAGE, STATISTICS, TABLE_CONSTRAINTS,
CHECK_CONSTRAINTS, TABLES) must then say the same as `clinickv-schema --msgpack`
(and `--no-pharmacy` for the core database), item by item in both directions,
after undoing MariaDB's spellings (each normalisation is documented where it is
made). Exit 77 (CTest: skipped) when MariaDB is not installed.
"""

import os
import re
import subprocess
import sys

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mariadb  # noqa: E402  (tests/mariadb.py, found through the path set above)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("CLINICKV_SOURCE", os.path.dirname(HERE))
BUILD = os.environ.get("CLINICKV_BUILD", os.path.join(SOURCE, "build"))
DDL = [os.path.join(SOURCE, "schema", n) for n in ("00-master-schema.sql", "01-pharmacy-module.sql")]

# Display widths MariaDB adds to integer types when the DDL gives none.
DEFAULT_INT_WIDTH = {
    ("tinyint", False): 4, ("tinyint", True): 3,
    ("smallint", False): 6, ("smallint", True): 5,
    ("mediumint", False): 9, ("mediumint", True): 8,
    ("int", False): 11, ("int", True): 10,
    ("bigint", False): 20, ("bigint", True): 20,
}


def describe(*args):
    exe = os.path.join(BUILD, "clinickv-schema")
    if not os.access(exe, os.X_OK):
        sys.exit("FAIL: %s is not built (CLINICKV_BUILD=%s)" % (exe, BUILD))
    out = subprocess.run([exe, "--msgpack"] + list(args), capture_output=True, check=True, timeout=60)
    return msgpack.unpackb(out.stdout, raw=False)["tables"]


def norm_type(column_type, json_checked):
    """MariaDB's COLUMN_TYPE in the DDL's spelling."""
    # JSON is an alias in MariaDB: LONGTEXT plus an automatic CHECK (json_valid(col))
    # named after the column. Only such a column is JSON; a plain LONGTEXT is not.
    if column_type == "longtext" and json_checked:
        return "JSON"
    # Keywords are reported in lower case; ENUM values are kept as written.
    m = re.fullmatch(r"enum\((.*)\)", column_type)
    if m:
        return "ENUM(%s)" % m.group(1)
    # Integer types get a display width the DDL did not write: int(11), int(10) unsigned.
    # It is dropped when it is MariaDB's default for the type; TINYINT(1) was written.
    m = re.fullmatch(r"(tinyint|smallint|mediumint|int|bigint)\((\d+)\)( unsigned)?", column_type)
    if m and DEFAULT_INT_WIDTH[(m.group(1), bool(m.group(3)))] == int(m.group(2)):
        return (m.group(1) + (m.group(3) or "")).upper()
    return column_type.upper()


def norm_default(column_default, sql_type):
    """MariaDB's COLUMN_DEFAULT as describe reports a default."""
    # SQL NULL: no default at all; the string 'NULL': DEFAULT NULL. Describe reports
    # both as nil, so both become None.
    if column_default is None or column_default == "NULL":
        return None
    # Functions are printed in lower case with parentheses: current_timestamp(),
    # current_timestamp(3), uuid() (the DDL's DEFAULT (UUID())).
    if column_default == "current_timestamp()":
        return "CURRENT_TIMESTAMP"
    m = re.fullmatch(r"current_timestamp\((\d)\)", column_default)
    if m:
        return "CURRENT_TIMESTAMP(%s)" % m.group(1)
    if column_default == "uuid()":
        return "UUID()"
    # String literals are quoted ('trial'), numeric ones are not (0.00, 1).
    if column_default.startswith("'") and column_default.endswith("'"):
        value = column_default[1:-1].replace("''", "'").replace("\\'", "'")
    else:
        value = column_default
    # Describe types a literal by its column: integer, boolean for TINYINT(1), else string.
    if sql_type == "TINYINT(1)":
        return value != "0"
    if re.fullmatch(r"(TINYINT|SMALLINT|MEDIUMINT|INT|BIGINT)( UNSIGNED)?", sql_type):
        return int(value)
    return value


def norm_check(clause):
    """CHECK_CLAUSE in the DDL's spelling: MariaDB quotes names in backticks and prints
    keywords (and, or, is null, between) in lower case; the text is otherwise the DDL's."""
    return " ".join(clause.replace("`", "").split()).lower()


def read_server(db, schema):
    q = "'%s'" % schema
    tables = {}
    for name, comment in db.sql(
        "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA=%s AND TABLE_TYPE='BASE TABLE'" % q
    ):
        tables[name] = {"name": name, "comment": comment, "columns": [], "foreign_keys": [],
                        "indexes": {}, "checks": [], "unique": []}

    json_cols = set()
    other_checks = []
    for table, name, clause in db.sql(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA=%s ORDER BY TABLE_NAME, CONSTRAINT_NAME" % q
    ):
        if name.startswith("chk_"):
            tables[table]["checks"].append({"name": name, "expression": norm_check(clause)})
        elif clause == "json_valid(`%s`)" % name:
            json_cols.add((table, name))
        else:
            other_checks.append((table, name, clause))

    for table, col, ctype, nullable, default, extra, comment in db.sql(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, "
        "COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION" % q
    ):
        sql_type = norm_type(ctype, (table, col) in json_cols)
        c = {"name": col, "type": sql_type, "nullable": nullable == "YES",
             "default": norm_default(default, sql_type)}
        # ON UPDATE shows in EXTRA as "on update current_timestamp()".
        if extra == "on update current_timestamp()":
            c["on_update"] = "CURRENT_TIMESTAMP"
        elif extra:
            c["extra"] = extra  # anything else is a difference the comparison reports
        # An absent comment is the empty string.
        if comment:
            c["comment"] = comment
        tables[table]["columns"].append(c)

    for name, table, parent, rule, update_rule, col, pcol in db.sql(
        "SELECT r.CONSTRAINT_NAME, r.TABLE_NAME, r.REFERENCED_TABLE_NAME, r.DELETE_RULE, "
        "r.UPDATE_RULE, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME "
        "FROM information_schema.REFERENTIAL_CONSTRAINTS r JOIN information_schema.KEY_COLUMN_USAGE k "
        "ON k.CONSTRAINT_SCHEMA=r.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME=r.CONSTRAINT_NAME "
        "AND k.TABLE_NAME=r.TABLE_NAME WHERE r.CONSTRAINT_SCHEMA=%s "
        "ORDER BY r.TABLE_NAME, r.CONSTRAINT_NAME, k.ORDINAL_POSITION" % q
    ):
        fk = {"name": name, "column": col, "parent_table": parent, "parent_column": pcol,
              "on_delete": rule}
        # The catalog has no ON UPDATE field because every FK is ON UPDATE RESTRICT.
        if update_rule != "RESTRICT":
            fk["on_update"] = update_rule
        tables[table]["foreign_keys"].append(fk)

    for table, index, seq, col, non_unique in db.sql(
        "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s "
        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX" % q
    ):
        ix = tables[table]["indexes"].setdefault(
            index, {"name": index, "columns": [], "unique": non_unique == "0"})
        ix["columns"].append(col)

    for table, name in db.sql(
        "SELECT c.TABLE_NAME, c.CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS c "
        "WHERE c.CONSTRAINT_SCHEMA=%s AND c.CONSTRAINT_TYPE='UNIQUE'" % q
    ):
        tables[table]["unique"].append({"name": name,
                                        "columns": tables[table]["indexes"][name]["columns"]})
    return tables, json_cols, other_checks


def by_name(items):
    return {i["name"]: i for i in items}


def compare(fails, what, server, catalog):
    """Two lists of named items, as sets by name, both ways."""
    s, c = by_name(server), by_name(catalog)
    for n in sorted(set(s) - set(c)):
        fails.append("%s: %s is in MariaDB but not in the catalog" % (what, n))
    for n in sorted(set(c) - set(s)):
        fails.append("%s: %s is in the catalog but not in MariaDB" % (what, n))
    for n in sorted(set(s) & set(c)):
        if s[n] != c[n]:
            keys = sorted(set(s[n]) | set(c[n]))
            diff = ["%s: MariaDB %r, catalog %r" % (k, s[n].get(k, "<absent>"), c[n].get(k, "<absent>"))
                    for k in keys if s[n].get(k, "<absent>") != c[n].get(k, "<absent>")]
            fails.append("%s.%s: %s" % (what, n, "; ".join(diff)))


def compare_schema(fails, label, server, json_cols, other_checks, catalog):
    counts = {"tables": 0, "columns": 0, "fks": 0, "unique": 0, "indexes": 0, "checks": 0}
    compare(fails, label + " tables", [{"name": n} for n in server], [{"name": t["name"]} for t in catalog])
    for t in catalog:
        s = server.get(t["name"])
        if s is None:
            continue
        tn = "%s %s" % (label, t["name"])
        # Column order is the DDL's in both.
        if [c["name"] for c in s["columns"]] != [c["name"] for c in t["columns"]]:
            fails.append("%s: column order differs" % tn)
        compare(fails, tn + " columns", s["columns"], t["columns"])
        compare(fails, tn + " foreign_keys", s["foreign_keys"], t["foreign_keys"])
        compare(fails, tn + " unique", s["unique"], t["unique"])
        # STATISTICS lists the indexes by name; the catalog keeps the DDL's order,
        # which test_catalog_ddl.py checks.
        compare(fails, tn + " indexes", list(s["indexes"].values()), t["indexes"])
        # The catalog keeps a CHECK's DDL text; MariaDB reprints it (see norm_check).
        compare(fails, tn + " checks", s["checks"],
                [{"name": c["name"], "expression": norm_check(c["expression"])} for c in t["checks"]])
        if s["comment"] != t["comment"]:
            fails.append("%s: comment MariaDB %r, catalog %r" % (tn, s["comment"], t["comment"]))
        want_json = {c["name"] for c in t["columns"] if c["type"] == "JSON"}
        got_json = {c for (tab, c) in json_cols if tab == t["name"]}
        if want_json != got_json:
            fails.append("%s: json_valid CHECKs on %s, JSON columns %s" % (tn, sorted(got_json),
                                                                           sorted(want_json)))
        counts["tables"] += 1
        counts["columns"] += len(s["columns"])
        counts["fks"] += len(s["foreign_keys"])
        counts["unique"] += len(s["unique"])
        counts["indexes"] += len(s["indexes"])
        counts["checks"] += len(s["checks"])
    for table, name, clause in other_checks:
        fails.append("%s: CHECK %s on %s is neither chk_* nor a JSON check: %s"
                     % (label, name, table, clause))
    return counts


def main():
    avail = mariadb.available()
    if not avail:
        print("SKIP: MariaDB not installed (apt-get install mariadb-server)")
        print("      (%s)" % avail.reason)
        return 77
    full = describe()
    core = describe("--no-pharmacy")
    fails = []
    with mariadb.server() as db:
        version = db.sql("SELECT VERSION()")[0][0]
        for schema, files in (("healthcare_saas", DDL), ("healthcare_core", DDL[:1])):
            db.sql("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % schema)
            for path in files:
                db.source(path, database=schema)
        full_counts = compare_schema(fails, "00+01", *read_server(db, "healthcare_saas"), full)
        core_counts = compare_schema(fails, "00", *read_server(db, "healthcare_core"), core)
    want_full = {"tables": 40, "columns": 886, "fks": 168, "unique": 35, "indexes": 253, "checks": 37}
    want_core = {"tables": 32, "columns": 705, "fks": 130, "unique": 26, "indexes": 200, "checks": 25}
    if full_counts != want_full:
        fails.append("00+01 counts %s, README says %s" % (full_counts, want_full))
    if core_counts != want_core:
        fails.append("00 counts %s, README says %s" % (core_counts, want_core))
    if fails:
        for f in fails:
            print("FAIL: " + f)
        print("%d differences between MariaDB %s and the catalog" % (len(fails), version))
        return 1
    print("ok: MariaDB %s information_schema agrees with clinickv-schema: 00+01 %s; 00 alone "
          "(--no-pharmacy) %s" % (version, full_counts, core_counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
