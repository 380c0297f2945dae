#!/usr/bin/python3
"""The catalog compiled into clinickv agrees with the DDL, read here a second time.

tools/ddl2catalog.py tokenizes the DDL and parses it with a grammar. This test
deliberately does not share any of that: it reads the files line by line, relies
on the layout the schema is written in (one item per line, continuation lines
indented deeper, statements ending with ';' at the end of a line) and picks
items apart with regular expressions. Both readings must produce the same
tables, columns (type, nullability, default, ON UPDATE, comment), foreign keys,
unique constraints, indexes and CHECKs as `clinickv-schema --msgpack` prints,
compared in both directions, and the totals MariaDB measured (shared/schema/README.md).

Environment: CLINICKV_BUILD (the build directory holding clinickv-schema) and
CLINICKV_SOURCE (the source tree); CLINICKV_SHARED_SCHEMA (default
/work/shared/schema) is the canonical copy of the DDL, compared byte for byte
when it exists.
"""

import json
import os
import re
import subprocess
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("CLINICKV_SOURCE", os.path.dirname(HERE))
BUILD = os.environ.get("CLINICKV_BUILD", os.path.join(SOURCE, "build"))
SHARED = os.environ.get("CLINICKV_SHARED_SCHEMA", "/work/shared/schema")
DDL_FILES = ["00-master-schema.sql", "01-pharmacy-module.sql"]

TOTALS = {"tables": 40, "columns": 886, "fks": 168, "unique": 35, "indexes": 253, "checks": 37}

# Section number in 00-master-schema.sql -> permission group name.
SECTION_GROUP = {1: "core", 2: "core", 3: "clinical", 4: "marketplace", 5: "billing",
                 6: "ai_analytics", 7: "ai_analytics", 8: "features", 9: "system"}

INT_TYPES = ("TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT")

RE_SECTION = re.compile(r"^-- (\d+)\. \S")
RE_CREATE = re.compile(r"^CREATE TABLE (\w+) \($")
RE_ALTER = re.compile(r"^ALTER TABLE (\w+)$")
RE_ITEM_START = re.compile(r"^  \S")
RE_PK = re.compile(r"^PRIMARY KEY \((\w+)\)$")
RE_UNIQUE = re.compile(r"^UNIQUE KEY (\w+) \(([\w, ]+)\)$")
RE_KEY = re.compile(r"^KEY (\w+) \(([\w, ]+)\)$")
RE_CHECK = re.compile(r"^CONSTRAINT (\w+) +CHECK \((.*)\)$")
RE_FK = re.compile(
    r"^(?:ADD )?CONSTRAINT (\w+) +FOREIGN KEY \((\w+)\) +REFERENCES (\w+) \((\w+)\)"
    r" +ON DELETE (CASCADE|SET NULL|RESTRICT) +ON UPDATE (RESTRICT)$"
)
RE_COLUMN = re.compile(
    r"^(?P<name>\w+) +(?P<type>ENUM\((?:\s*'[^']*'\s*,?)+\)|[A-Z]+(?:\(\d+(?:,\d+)?\))?(?: UNSIGNED)?)"
    r"(?P<rest>.*)$"
)
RE_COMMENT = re.compile(r" COMMENT '((?:[^']|'')*)'$")
RE_DEFAULT = re.compile(
    r"\bDEFAULT (?P<v>'(?:[^']|'')*'|\(UUID\(\)\)|CURRENT_TIMESTAMP(?:\(\d\))?|NULL|-?\d+(?:\.\d+)?)"
)
RE_TABLE_COMMENT = re.compile(r"COMMENT='((?:[^']|'')*)';$")


class Failures:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)

    def eq(self, what, want, got):
        if want != got:
            self.add("%s: DDL says %r, clinickv-schema says %r" % (what, want, got))


def strip_comment(line):
    """The line without a trailing '-- ...' comment (quote-aware: COMMENT texts may hold '--')."""
    in_quote = False
    for i, c in enumerate(line):
        if c == "'":
            in_quote = not in_quote
        elif not in_quote and (line.startswith("-- ", i) or line[i:] == "--"):
            return line[:i].rstrip()
    return line.rstrip()


def type_spelling(t):
    """The SQL type as describe spells it: upper-case keywords, no space after ENUM commas."""
    if t.startswith("ENUM("):
        return "ENUM(" + ",".join(re.findall(r"'(?:[^']|'')*'", t)) + ")"
    return re.sub(r"\s+", " ", t.upper())


def typed_default(sql_type, raw):
    """The default as describe reports it, from the DDL's DEFAULT clause."""
    if raw is None or raw == "NULL":
        return None
    if raw == "(UUID())":
        return "UUID()"
    if raw.startswith("CURRENT_TIMESTAMP"):
        return raw
    if raw.startswith("'"):
        raw = raw[1:-1].replace("''", "'")
    if sql_type == "TINYINT(1)":
        return raw != "0"
    if sql_type.split("(")[0].split(" ")[0] in INT_TYPES:
        return int(raw)
    return raw


def parse_column(text, fails, where):
    m = RE_COLUMN.match(text)
    if not m:
        fails.add("%s: cannot read column line %r" % (where, text))
        return None
    rest = m.group("rest")
    col = {"name": m.group("name"), "type": type_spelling(m.group("type"))}
    cm = RE_COMMENT.search(rest)
    if cm:
        col["comment"] = cm.group(1).replace("''", "'")
        rest = rest[: cm.start()]
    col["nullable"] = "NOT NULL" not in rest
    dm = RE_DEFAULT.search(rest)
    col["default"] = typed_default(col["type"], dm.group("v") if dm else None)
    if "ON UPDATE CURRENT_TIMESTAMP" in rest:
        col["on_update"] = "CURRENT_TIMESTAMP"
    leftover = re.sub(RE_DEFAULT, "", rest)
    for word in ("NOT NULL", "NULL", "ON UPDATE CURRENT_TIMESTAMP"):
        leftover = leftover.replace(word, "")
    if leftover.strip():
        fails.add("%s.%s: unread text %r" % (where, col["name"], leftover.strip()))
    return col


def new_table(name, group, optional):
    return {"name": name, "columns": [], "primary_key": None, "foreign_keys": [],
            "unique": [], "indexes": [], "checks": [], "group": group,
            "optional": optional, "comment": None}


def add_item(table, text, fails):
    where = table["name"]
    m = RE_PK.match(text)
    if m:
        table["primary_key"] = [m.group(1)]
        table["indexes"].insert(0, {"name": "PRIMARY", "columns": [m.group(1)], "unique": True})
        return
    for rx, unique in ((RE_UNIQUE, True), (RE_KEY, False)):
        m = rx.match(text)
        if m:
            cols = [c.strip() for c in m.group(2).split(",")]
            table["indexes"].append({"name": m.group(1), "columns": cols, "unique": unique})
            if unique:
                table["unique"].append({"name": m.group(1), "columns": cols})
            return
    m = RE_CHECK.match(text)
    if m:
        table["checks"].append({"name": m.group(1), "expression": " ".join(m.group(2).split())})
        return
    m = RE_FK.match(text)
    if m:
        add_fk(table, m)
        return
    if text.startswith(("CONSTRAINT", "UNIQUE", "KEY", "INDEX", "FOREIGN", "CHECK")):
        fails.add("%s: cannot read %r" % (where, text))
        return
    col = parse_column(text, fails, where)
    if col:
        table["columns"].append(col)


def add_fk(table, m):
    table["foreign_keys"].append({"name": m.group(1), "column": m.group(2), "parent_table": m.group(3),
                                  "parent_column": m.group(4), "on_delete": m.group(5)})


def read_ddl(path, optional, fails):
    """Tables of one DDL file, in order, as describe would report them."""
    tables = []
    by_name = {}
    group = "pharmacy" if optional else None
    table = alter = None
    item = None  # lines of the item being read
    closing = None  # text after ')' up to the ';'
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    def flush():
        nonlocal item
        if item is not None:
            text = " ".join(item).strip().rstrip(",").strip()
            if alter is not None:
                m = RE_FK.match(text)
                if m:
                    add_fk(alter, m)
                else:
                    fails.add("%s: ALTER TABLE %s: cannot read %r" % (name, alter["name"], text))
            else:
                add_item(table, text, fails)
        item = None

    for n, line in enumerate(lines, 1):
        sm = RE_SECTION.match(line)
        if sm and not optional:
            group = SECTION_GROUP[int(sm.group(1))]
        code = strip_comment(line)
        if not code.strip():
            continue
        if closing is not None:
            closing += " " + code.strip()
            if code.endswith(";"):
                cm = RE_TABLE_COMMENT.search(closing)
                table["comment"] = cm.group(1).replace("''", "'") if cm else None
                table = closing = None
            continue
        if table is None and alter is None:
            m = RE_CREATE.match(code)
            if m:
                table = new_table(m.group(1), group, optional)
                tables.append(table)
                by_name[table["name"]] = table
                continue
            m = RE_ALTER.match(code)
            if m:
                alter = by_name.get(m.group(1)) or ALL_TABLES.get(m.group(1))
                if alter is None:
                    fails.add("%s:%d: ALTER TABLE of unknown %s" % (name, n, m.group(1)))
                continue
            if re.match(r"^SET [\w ]+=|^SET NAMES ", code) and code.endswith(";"):
                continue
            fails.add("%s:%d: cannot read %r" % (name, n, code))
            continue
        if table is not None and code.startswith(")"):
            flush()
            closing = code
            if code.endswith(";"):
                cm = RE_TABLE_COMMENT.search(closing)
                table["comment"] = cm.group(1).replace("''", "'") if cm else None
                table = closing = None
            continue
        if RE_ITEM_START.match(code):
            flush()
            item = [code.strip()]
        elif item is not None:
            item.append(code.strip())
        else:
            fails.add("%s:%d: continuation line outside an item: %r" % (name, n, code))
        if alter is not None and code.endswith(";"):
            item[-1] = item[-1].rstrip(";")
            flush()
            alter = None
    if table is not None or alter is not None:
        fails.add("%s: ends inside a statement" % name)
    return tables


ALL_TABLES = {}


def describe(*args):
    exe = os.path.join(BUILD, "clinickv-schema")
    if not os.access(exe, os.X_OK):
        sys.exit("FAIL: %s is not built (CLINICKV_BUILD=%s)" % (exe, BUILD))
    p = subprocess.run([exe] + list(args), capture_output=True, timeout=60)
    if p.returncode != 0:
        sys.exit("FAIL: clinickv-schema %s exited %d: %s" % (" ".join(args), p.returncode,
                                                             p.stderr.decode(errors="replace")))
    return p.stdout


def compare_list(fails, what, want, got, key="name"):
    """Items by name, both ways: missing, extra, different, and order."""
    wn = [w[key] for w in want]
    gn = [g[key] for g in got]
    for n in wn:
        if n not in gn:
            fails.add("%s: %s is in the DDL but not in the catalog" % (what, n))
    for n in gn:
        if n not in wn:
            fails.add("%s: %s is in the catalog but not in the DDL" % (what, n))
    if sorted(wn) == sorted(gn) and wn != gn:
        fails.add("%s: order differs: DDL %s, catalog %s" % (what, wn, gn))
    gmap = {g[key]: g for g in got}
    for w in want:
        g = gmap.get(w[key])
        if g is not None and w != g:
            keys = sorted(set(w) | set(g))
            diffs = ["%s %r != %r" % (k, w.get(k, "<absent>"), g.get(k, "<absent>"))
                     for k in keys if w.get(k, "<absent>") != g.get(k, "<absent>")]
            fails.add("%s.%s: %s" % (what, w[key], "; ".join(diffs)))


def check_shared_copy(fails):
    if not os.path.isdir(SHARED):
        return None
    for name in DDL_FILES:
        with open(os.path.join(SOURCE, "schema", name), "rb") as a:
            mine = a.read()
        try:
            with open(os.path.join(SHARED, name), "rb") as b:
                theirs = b.read()
        except OSError as e:
            fails.add("%s: %s" % (SHARED, e))
            continue
        if mine != theirs:
            fails.add("schema/%s differs from %s/%s: copy the canonical DDL" % (name, SHARED, name))
    return SHARED


def main():
    fails = Failures()
    want = []
    for i, name in enumerate(DDL_FILES):
        tables = read_ddl(os.path.join(SOURCE, "schema", name), i > 0, fails)
        ALL_TABLES.update((t["name"], t) for t in tables)
        want.extend(tables)

    raw = describe("--msgpack")
    got = msgpack.unpackb(raw, raw=False)["tables"]

    # The totals MariaDB's information_schema reports for 00 + 01.
    for label, tabs in (("DDL", want), ("catalog", got)):
        counted = {
            "tables": len(tabs),
            "columns": sum(len(t["columns"]) for t in tabs),
            "fks": sum(len(t["foreign_keys"]) for t in tabs),
            "unique": sum(len(t["unique"]) for t in tabs),
            "indexes": sum(len(t["indexes"]) for t in tabs),
            "checks": sum(len(t["checks"]) for t in tabs),
        }
        if counted != TOTALS:
            fails.add("%s totals %s, README says %s" % (label, counted, TOTALS))

    compare_list(fails, "tables", [{"name": t["name"]} for t in want], [{"name": t["name"]} for t in got])
    gmap = {t["name"]: t for t in got}
    for w in want:
        g = gmap.get(w["name"])
        if g is None:
            continue
        tn = w["name"]
        extra = set(g) - set(w)
        if extra:
            fails.add("%s: keys the DDL reading has no counterpart for: %s" % (tn, sorted(extra)))
        compare_list(fails, tn + " columns", w["columns"], g["columns"])
        compare_list(fails, tn + " foreign_keys", w["foreign_keys"], g["foreign_keys"])
        compare_list(fails, tn + " unique", w["unique"], g["unique"])
        compare_list(fails, tn + " indexes", w["indexes"], g["indexes"])
        compare_list(fails, tn + " checks", w["checks"], g["checks"])
        for k in ("primary_key", "group", "optional", "comment"):
            fails.eq("%s.%s" % (tn, k), w[k], g[k])

    # The JSON output is the same document.
    as_json = json.loads(describe("--json").decode("utf-8"))
    if as_json != msgpack.unpackb(raw, raw=False):
        fails.add("clinickv-schema --json and --msgpack disagree")
    core = msgpack.unpackb(describe("--msgpack", "--no-pharmacy"), raw=False)["tables"]
    fails.eq("--no-pharmacy tables", [t["name"] for t in want if not t["optional"]],
             [t["name"] for t in core])
    one = msgpack.unpackb(describe("--msgpack", "--table", "payments"), raw=False)["tables"]
    fails.eq("--table payments", [gmap.get("payments")], one)

    shared = check_shared_copy(fails)

    if fails.items:
        for msg in fails.items:
            print("FAIL: " + msg)
        print("%d differences between the DDL and the catalog" % len(fails.items))
        return 1
    print("ok: %d tables, %d columns, %d FKs, %d unique, %d indexes, %d CHECKs agree between the DDL "
          "(read line by line) and clinickv-schema; --json == --msgpack; --no-pharmacy and --table ok; %s"
          % (TOTALS["tables"], TOTALS["columns"], TOTALS["fks"], TOTALS["unique"], TOTALS["indexes"],
             TOTALS["checks"], "schema/*.sql identical to " + shared if shared else "no shared copy to compare"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
