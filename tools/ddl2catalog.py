#!/usr/bin/env python3
"""Generate the clinickv schema catalog (C data) from the MySQL/MariaDB DDL.

Usage: ddl2catalog.py -o OUT.c schema/00-master-schema.sql [schema/01-pharmacy-module.sql ...]

The first file is the required master schema; every further file is an optional
module whose tables are flagged `optional` (storage/catalog.h). The output defines
`ck_catalog`, every static array it points to, and the name hash tables and index
locator declared in storage/catalog_int.h. CMake runs this at build time, so the
catalog cannot drift from the DDL.

The parser understands exactly the DDL dialect the schema uses and fails loudly
(with file:line) on anything else: a construct it silently skipped would be a
constraint the server silently does not enforce. Python 3 standard library only.
"""

import argparse
import hashlib
import os
import re
import sys

# Measured facts of this DDL (shared/schema/README.md, "Measured counts", 00 + 01, from MariaDB's
# information_schema). A parser that disagrees with them is wrong, so the build stops.
# When the schema changes, re-measure with shared/schema/verify/counts.sql and update these.
EXPECTED_TOTALS = {
    "tables": 40,
    "columns": 886,
    "fks": 168,
    "unique": 35,
    "indexes_with_pk": 253,
    "checks": 37,
}

# Section headers of the master file ("-- 3. CLINICAL") map to permission groups.
SECTION_GROUPS = [
    ("MULTI-TENANCY", "CK_G_CORE"),
    ("PATIENT MANAGEMENT", "CK_G_CORE"),
    ("CLINICAL", "CK_G_CLINICAL"),
    ("MARKETPLACE", "CK_G_MARKETPLACE"),
    ("BILLING", "CK_G_BILLING"),
    ("AI / ML", "CK_G_AI_ANALYTICS"),
    ("ANALYTICS", "CK_G_AI_ANALYTICS"),
    ("FEATURE MANAGEMENT", "CK_G_FEATURES"),
    ("SYSTEM", "CK_G_SYSTEM"),
]

# Optional module files and the group of every table they define.
MODULE_GROUPS = {
    "01-pharmacy-module.sql": "CK_G_PHARMACY",
}

INT_RANGES = {
    "TINYINT": ((-(2**7), 2**7 - 1), (0, 2**8 - 1)),
    "SMALLINT": ((-(2**15), 2**15 - 1), (0, 2**16 - 1)),
    "MEDIUMINT": ((-(2**23), 2**23 - 1), (0, 2**24 - 1)),
    "INT": ((-(2**31), 2**31 - 1), (0, 2**32 - 1)),
    "BIGINT": ((-(2**63), 2**63 - 1), None),  # BIGINT UNSIGNED does not fit int64_t
}

FK_RULES = {"CASCADE": "CK_FK_CASCADE", "SET NULL": "CK_FK_SET_NULL", "RESTRICT": "CK_FK_RESTRICT"}

CMP_OPS = {
    "=": "CK_OP_EQ",
    "<>": "CK_OP_NE",
    "!=": "CK_OP_NE",
    "<": "CK_OP_LT",
    "<=": "CK_OP_LE",
    ">": "CK_OP_GT",
    ">=": "CK_OP_GE",
}

# Value categories for CHECK operands: comparisons are only allowed within one category.
CATEGORY = {
    "CK_T_INT": "number",
    "CK_T_BOOL": "number",
    "CK_T_DECIMAL": "number",
    "CK_T_DATE": "date",
    "CK_T_TIMESTAMP": "timestamp",
}

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class DDLError(Exception):
    pass


# --------------------------------------------------------------------------- tokenizer


class Tok:
    __slots__ = ("kind", "val", "pos", "end", "line", "src")

    def __init__(self, kind, val, pos, end, line, src):
        self.kind = kind  # 'word', 'qident', 'str', 'num', 'op'
        self.val = val
        self.pos = pos
        self.end = end
        self.line = line
        self.src = src

    def is_kw(self, *words):
        return self.kind == "word" and self.val.upper() in words

    def is_op(self, *ops):
        return self.kind == "op" and self.val in ops

    def where(self):
        return "%s:%d" % (self.src.name, self.line)

    def __repr__(self):
        return "%s %r" % (self.kind, self.val)


class Source:
    def __init__(self, path, text):
        self.path = path
        self.name = os.path.basename(path)
        self.text = text
        self.sections = []  # (line, number, title) of "-- N. TITLE" comments


TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[ \t][^\n]*|--(?=\n)|\#[^\n]*|/\*.*?\*/)
  | (?P<str>'(?:[^'\\]|\\.|'')*')
  | (?P<qident>`(?:[^`]|``)+`)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op><=|>=|<>|!=|[(),;=<>.\-])
    """,
    re.VERBOSE | re.DOTALL,
)

SECTION_RE = re.compile(r"^--\s*(\d+)\.\s+(\S.*?)\s*$")


def unquote_str(raw):
    """The value of a single-quoted SQL string (MySQL escapes, '' doubling)."""
    body = raw[1:-1]
    out = []
    i = 0
    escapes = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        elif c == "'" and i + 1 < len(body) and body[i + 1] == "'":
            out.append("'")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(src):
    toks = []
    text = src.text
    pos = 0
    line = 1
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise DDLError("%s:%d: unexpected character %r" % (src.name, line, text[pos]))
        kind = m.lastgroup
        raw = m.group(kind)
        if kind == "comment":
            sm = SECTION_RE.match(raw)
            if sm:
                src.sections.append((line, int(sm.group(1)), sm.group(2)))
        elif kind != "ws":
            if kind == "str":
                val = unquote_str(raw)
            elif kind == "qident":
                val = raw[1:-1].replace("``", "`")
            else:
                val = raw
            toks.append(Tok(kind, val, m.start(), m.end(), line, src))
        line += raw.count("\n")
        pos = m.end()
    return toks


def split_statements(toks):
    stmts, cur = [], []
    for t in toks:
        if t.is_op(";"):
            if cur:
                stmts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        raise DDLError("%s: statement without a terminating ';'" % cur[0].where())
    return stmts


class Cursor:
    """A parser cursor over one token list."""

    def __init__(self, toks, what):
        self.toks = toks
        self.i = 0
        self.what = what

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at_end(self):
        return self.i >= len(self.toks)

    def fail(self, msg, tok=None):
        if tok is not None:
            got = " (at %r)" % tok.val
        elif not self.at_end():
            tok = self.peek()
            got = " (at %r)" % tok.val
        else:
            tok = self.toks[-1] if self.toks else None
            got = " (at end)"
        where = tok.where() if tok else "?"
        raise DDLError("%s: %s: %s%s" % (where, self.what, msg, got))

    def next(self):
        t = self.peek()
        if t is None:
            self.fail("unexpected end")
        self.i += 1
        return t

    def accept_kw(self, *words):
        t = self.peek()
        if t is not None and t.is_kw(*words):
            self.i += 1
            return t
        return None

    def expect_kw(self, *words):
        t = self.accept_kw(*words)
        if t is None:
            self.fail("expected %s" % " or ".join(words))
        return t

    def accept_op(self, *ops):
        t = self.peek()
        if t is not None and t.is_op(*ops):
            self.i += 1
            return t
        return None

    def expect_op(self, *ops):
        t = self.accept_op(*ops)
        if t is None:
            self.fail("expected %s" % " or ".join(repr(o) for o in ops))
        return t

    def ident(self):
        t = self.peek()
        if t is None or t.kind not in ("word", "qident"):
            self.fail("expected a name")
        self.i += 1
        return t.val

    def expect_end(self):
        if not self.at_end():
            self.fail("unexpected trailing text")

    def group(self):
        """The tokens inside the parenthesised group at the cursor; cursor moves past it."""
        self.expect_op("(")
        start = self.i
        depth = 1
        while True:
            t = self.next()
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
                if depth == 0:
                    return self.toks[start : self.i - 1], t


def split_commas(toks):
    parts, cur, depth = [], [], 0
    for t in toks:
        if t.is_op("("):
            depth += 1
        elif t.is_op(")"):
            depth -= 1
        if depth == 0 and t.is_op(","):
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    return parts


# --------------------------------------------------------------------------- DDL model


class Column:
    def __init__(self, name, tok):
        self.name = name
        self.tok = tok
        self.base = None  # upper-case type keyword
        self.args = []  # type arguments (ints, or strings for ENUM)
        self.unsigned = False
        self.nullable = None
        self.default = None  # ('null'|'now'|'uuid'|'literal', value, tok)
        self.on_update_now = False
        self.on_update_fsp = 0
        self.comment = None
        # resolved
        self.ctype = None
        self.sql_type = None
        self.length = 0
        self.precision = 0
        self.scale = 0
        self.min = 0
        self.max = 0
        self.default_kind = None
        self.default_literal = None
        self.fk = -1


class Index:
    def __init__(self, name, unique, colnames, tok):
        self.name = name
        self.unique = unique
        self.colnames = colnames
        self.tok = tok
        self.cols = []
        self.id = 0


class ForeignKey:
    def __init__(self, name, column, parent, parent_column, on_delete, tok):
        self.name = name
        self.column_name = column
        self.parent_name = parent
        self.parent_column_name = parent_column
        self.on_delete = on_delete
        self.tok = tok
        self.column = -1
        self.parent = -1
        self.parent_column = -1
        self.index = -1


class Check:
    def __init__(self, name, expr_toks, expression, tok):
        self.name = name
        self.expr_toks = expr_toks
        self.expression = expression
        self.tok = tok
        self.ops = []


class Table:
    def __init__(self, name, tok, group, optional):
        self.name = name
        self.tok = tok
        self.group = group
        self.optional = optional
        self.comment = None
        self.columns = []
        self.colmap = {}
        self.pk = None
        self.indexes = []
        self.fks = []
        self.checks = []
        self.refs = []


# --------------------------------------------------------------------------- parser


def parse_type(cur, col):
    t = cur.next()
    if t.kind != "word":
        cur.fail("expected a type", t)
    col.base = t.val.upper()
    if cur.peek() is not None and cur.peek().is_op("("):
        inner, _ = cur.group()
        for part in split_commas(inner):
            if len(part) != 1:
                cur.fail("unsupported type argument in %s" % col.base, part[0] if part else t)
            arg = part[0]
            if col.base == "ENUM":
                if arg.kind != "str":
                    cur.fail("ENUM takes strings", arg)
                col.args.append(arg.val)
            else:
                if arg.kind != "num" or not arg.val.isdigit():
                    cur.fail("%s takes whole numbers" % col.base, arg)
                col.args.append(int(arg.val))
    if cur.accept_kw("UNSIGNED"):
        col.unsigned = True


def parse_column(cur, table):
    name_tok = cur.peek()
    col = Column(cur.ident(), name_tok)
    parse_type(cur, col)
    while not cur.at_end():
        t = cur.peek()
        if cur.accept_kw("NOT"):
            cur.expect_kw("NULL")
            set_once(cur, col, "nullable", False, t)
        elif cur.accept_kw("NULL"):
            set_once(cur, col, "nullable", True, t)
        elif cur.accept_kw("DEFAULT"):
            if col.default is not None:
                cur.fail("second DEFAULT", t)
            col.default = parse_default(cur)
        elif cur.accept_kw("ON"):
            cur.expect_kw("UPDATE")
            cur.expect_kw("CURRENT_TIMESTAMP")
            col.on_update_now = True
            col.on_update_fsp = parse_fsp(cur)
        elif cur.accept_kw("COMMENT"):
            s = cur.next()
            if s.kind != "str":
                cur.fail("COMMENT takes a string", s)
            col.comment = s.val
        else:
            cur.fail("unsupported column attribute")
    if col.nullable is None:
        col.nullable = True  # MySQL: a column without NOT NULL accepts NULL
    if col.name in table.colmap:
        cur.fail("duplicate column %s" % col.name, name_tok)
    table.colmap[col.name] = len(table.columns)
    table.columns.append(col)


def set_once(cur, obj, attr, val, tok):
    if getattr(obj, attr) is not None:
        cur.fail("NULL / NOT NULL given twice", tok)
    setattr(obj, attr, val)


def parse_fsp(cur):
    if cur.peek() is not None and cur.peek().is_op("("):
        inner, _ = cur.group()
        if len(inner) != 1 or inner[0].kind != "num" or not inner[0].val.isdigit():
            cur.fail("bad fractional-seconds precision")
        return int(inner[0].val)
    return 0


def parse_default(cur):
    t = cur.peek()
    if cur.accept_kw("NULL"):
        return ("null", None, t)
    if cur.accept_kw("CURRENT_TIMESTAMP"):
        return ("now", parse_fsp(cur), t)
    if t is not None and t.is_op("("):
        inner, _ = cur.group()
        if (
            len(inner) == 3
            and inner[0].is_kw("UUID")
            and inner[1].is_op("(")
            and inner[2].is_op(")")
        ):
            return ("uuid", None, t)
        cur.fail("unsupported DEFAULT expression", t)
    if cur.accept_op("-"):
        n = cur.next()
        if n.kind != "num":
            cur.fail("expected a number after '-'", n)
        return ("literal", ("num", "-" + n.val), t)
    t = cur.next()
    if t.kind == "str":
        return ("literal", ("str", t.val), t)
    if t.kind == "num":
        return ("literal", ("num", t.val), t)
    cur.fail("unsupported DEFAULT value", t)


def parse_name_list(cur):
    inner, _ = cur.group()
    names = []
    for part in split_commas(inner):
        if len(part) != 1 or part[0].kind not in ("word", "qident"):
            cur.fail("only plain column names are supported in key lists", part[0] if part else None)
        names.append(part[0].val)
    return names


def parse_constraint(cur, table):
    """CONSTRAINT name CHECK (...) | CONSTRAINT name FOREIGN KEY (c) REFERENCES p (id) ON ..."""
    start = cur.peek()
    name = cur.ident()
    if cur.accept_kw("CHECK"):
        inner, close = cur.group()
        if not inner:
            cur.fail("empty CHECK", start)
        text = start.src.text[inner[0].pos : close.pos]
        table.checks.append(Check(name, inner, " ".join(text.split()), start))
        return
    cur.expect_kw("FOREIGN")
    cur.expect_kw("KEY")
    cols = parse_name_list(cur)
    cur.expect_kw("REFERENCES")
    parent = cur.ident()
    pcols = parse_name_list(cur)
    if len(cols) != 1 or len(pcols) != 1:
        cur.fail("only single-column foreign keys are supported", start)
    on_delete = None
    while not cur.at_end() and cur.accept_kw("ON"):
        which = cur.expect_kw("DELETE", "UPDATE").val.upper()
        rule_tok = cur.peek()
        rule = cur.expect_kw("CASCADE", "SET", "RESTRICT", "NO").val.upper()
        if rule == "SET":
            rule += " " + cur.expect_kw("NULL", "DEFAULT").val.upper()
        elif rule == "NO":
            rule += " " + cur.expect_kw("ACTION").val.upper()
        if which == "DELETE":
            if on_delete is not None:
                cur.fail("ON DELETE given twice", rule_tok)
            if rule not in FK_RULES:
                cur.fail("ON DELETE %s is not supported (CASCADE, SET NULL, RESTRICT)" % rule, rule_tok)
            on_delete = rule
        elif rule != "RESTRICT":
            # UUID keys never change, and the catalog has no ON UPDATE field to carry another rule.
            cur.fail("ON UPDATE %s is not supported (only RESTRICT)" % rule, rule_tok)
    if on_delete is None:
        cur.fail("foreign key without an explicit ON DELETE rule", start)
    table.fks.append(ForeignKey(name, cols[0], parent, pcols[0], on_delete, start))


def parse_table_item(toks, table):
    cur = Cursor(toks, "table %s" % table.name)
    t = cur.peek()
    if t is None:
        cur.fail("empty item")
    if cur.accept_kw("PRIMARY"):
        cur.expect_kw("KEY")
        if table.pk is not None:
            cur.fail("second PRIMARY KEY", t)
        table.pk = parse_name_list(cur)
    elif cur.accept_kw("UNIQUE"):
        cur.accept_kw("KEY", "INDEX")
        name = cur.ident()
        table.indexes.append(Index(name, True, parse_name_list(cur), t))
    elif cur.accept_kw("KEY", "INDEX"):
        name = cur.ident()
        table.indexes.append(Index(name, False, parse_name_list(cur), t))
    elif cur.accept_kw("CONSTRAINT"):
        parse_constraint(cur, table)
    elif t.is_kw("FOREIGN", "CHECK", "FULLTEXT", "SPATIAL"):
        cur.fail("unnamed or unsupported constraint (name every constraint)")
    else:
        parse_column(cur, table)
    cur.expect_end()


def parse_table_options(cur, table):
    while not cur.at_end():
        t = cur.peek()
        if cur.accept_kw("ENGINE", "COLLATE", "CHARSET"):
            cur.accept_op("=")
            cur.ident()
        elif cur.accept_kw("DEFAULT"):
            if cur.accept_kw("CHARACTER"):
                cur.expect_kw("SET")
            else:
                cur.expect_kw("CHARSET", "COLLATE")
            cur.accept_op("=")
            cur.ident()
        elif cur.accept_kw("COMMENT"):
            cur.accept_op("=")
            s = cur.next()
            if s.kind != "str":
                cur.fail("COMMENT takes a string", s)
            table.comment = s.val
        else:
            cur.fail("unsupported table option", t)


class Schema:
    def __init__(self):
        self.tables = []
        self.by_name = {}


def section_group(src, line):
    current = None
    for sline, num, title in src.sections:
        if sline < line:
            current = (num, title)
    if current is None:
        raise DDLError("%s:%d: table before any numbered section header" % (src.name, line))
    up = current[1].upper()
    for prefix, group in SECTION_GROUPS:
        if up.startswith(prefix):
            return group
    raise DDLError(
        "%s:%d: section '%d. %s' has no permission group in SECTION_GROUPS"
        % (src.name, line, current[0], current[1])
    )


def parse_file(schema, src, optional):
    for stmt in split_statements(tokenize(src)):
        cur = Cursor(stmt, "statement")
        first = cur.peek()
        if cur.accept_kw("SET"):
            continue  # session settings: no schema content
        if cur.accept_kw("CREATE"):
            cur.expect_kw("TABLE")
            name_tok = cur.peek()
            name = cur.ident()
            if name in schema.by_name:
                cur.fail("table %s defined twice" % name, name_tok)
            if optional:
                group = MODULE_GROUPS.get(src.name)
                if group is None:
                    cur.fail("optional module %s has no group in MODULE_GROUPS" % src.name, first)
            else:
                group = section_group(src, first.line)
            table = Table(name, name_tok, group, optional)
            body, _ = cur.group()
            for item in split_commas(body):
                parse_table_item(item, table)
            parse_table_options(cur, table)
            if table.pk != ["id"]:
                cur.fail("table %s: the primary key must be (id)" % name, name_tok)
            schema.by_name[name] = len(schema.tables)
            schema.tables.append(table)
        elif cur.accept_kw("ALTER"):
            cur.expect_kw("TABLE")
            name_tok = cur.peek()
            name = cur.ident()
            if name not in schema.by_name:
                cur.fail("ALTER TABLE of unknown table %s" % name, name_tok)
            table = schema.tables[schema.by_name[name]]
            for part in split_commas(stmt[cur.i :]):
                pc = Cursor(part, "ALTER TABLE %s" % name)
                pc.expect_kw("ADD")
                pc.expect_kw("CONSTRAINT")
                parse_constraint(pc, table)
                pc.expect_end()
        else:
            cur.fail("unsupported statement", first)


# --------------------------------------------------------------------------- resolution


def fail_at(tok, msg):
    raise DDLError("%s: %s" % (tok.where(), msg))


def resolve_types(schema):
    for table in schema.tables:
        fk_cols = {fk.column_name for fk in table.fks}
        for col in table.columns:
            resolve_column_type(table, col, col.name == "id" or col.name in fk_cols)
            resolve_default(table, col)


def int_arg(col, n):
    if len(col.args) != n:
        fail_at(col.tok, "column %s: %s takes %d argument(s)" % (col.name, col.base, n))


def resolve_column_type(table, col, is_key):
    b, a = col.base, col.args
    where = "%s.%s" % (table.name, col.name)
    if col.unsigned and b not in INT_RANGES:
        fail_at(col.tok, "%s: UNSIGNED on %s" % (where, b))
    col.sql_type = b
    if b == "VARCHAR":
        int_arg(col, 1)
        col.length = a[0]
        col.sql_type = "VARCHAR(%d)" % a[0]
        col.ctype = "CK_T_UUID" if is_key and a[0] == 36 else "CK_T_VARCHAR"
        if is_key and a[0] != 36:
            fail_at(col.tok, "%s: id and FK columns must be VARCHAR(36)" % where)
    elif is_key:
        fail_at(col.tok, "%s: id and FK columns must be VARCHAR(36)" % where)
    elif b == "CHAR":
        int_arg(col, 1)
        col.ctype, col.length, col.sql_type = "CK_T_CHAR", a[0], "CHAR(%d)" % a[0]
    elif b == "TEXT" and not a:
        col.ctype, col.length = "CK_T_TEXT", 65535
    elif b == "TINYINT" and a == [1] and not col.unsigned:
        col.ctype, col.sql_type = "CK_T_BOOL", "TINYINT(1)"
        col.min, col.max = 0, 1
    elif b in INT_RANGES:
        if len(a) > 1:
            fail_at(col.tok, "%s: bad %s arguments" % (where, b))
        rng = INT_RANGES[b][1 if col.unsigned else 0]
        if rng is None:
            fail_at(col.tok, "%s: %s UNSIGNED does not fit the int64 storage" % (where, b))
        col.ctype = "CK_T_INT"
        col.min, col.max = rng
        col.sql_type = b + ("(%d)" % a[0] if a else "") + (" UNSIGNED" if col.unsigned else "")
    elif b == "DECIMAL":
        if len(a) not in (1, 2):
            fail_at(col.tok, "%s: DECIMAL takes (p) or (p,s)" % where)
        p, s = a[0], (a[1] if len(a) == 2 else 0)
        if not (1 <= p <= 18 and 0 <= s <= p):
            # Values are stored as int64 counts of 10^-s units: 18 digits always fit.
            fail_at(col.tok, "%s: DECIMAL(%d,%d) is outside 1 <= s <= p <= 18" % (where, p, s))
        col.ctype, col.precision, col.scale = "CK_T_DECIMAL", p, s
        col.sql_type = "DECIMAL(%d,%d)" % (p, s)
    elif b == "DATE" and not a:
        col.ctype = "CK_T_DATE"
    elif b == "TIMESTAMP":
        if len(a) > 1 or (a and a[0] not in (0, 3)):
            # Timestamps are stored in milliseconds: fsp 0 and 3 are exact, finer ones are not.
            fail_at(col.tok, "%s: only TIMESTAMP and TIMESTAMP(3) are supported" % where)
        col.ctype = "CK_T_TIMESTAMP"
        col.precision = a[0] if a else 0
        col.sql_type = "TIMESTAMP(%d)" % a[0] if a else "TIMESTAMP"
    elif b == "ENUM":
        if not a or len(a) > 255 or len(set(a)) != len(a):
            fail_at(col.tok, "%s: ENUM needs 1..255 distinct values" % where)
        col.ctype = "CK_T_ENUM"
        col.sql_type = "ENUM(%s)" % ",".join("'%s'" % v.replace("'", "''") for v in a)
    elif b == "JSON" and not a:
        col.ctype = "CK_T_JSON"
    elif b == "LONGBLOB" and not a:
        col.ctype = "CK_T_BLOB"
    elif b == "VARBINARY":
        int_arg(col, 1)
        col.ctype, col.length, col.sql_type = "CK_T_VARBINARY", a[0], "VARBINARY(%d)" % a[0]
    else:
        fail_at(col.tok, "%s: unsupported type %s%s" % (where, b, tuple(a) if a else ""))
    if col.on_update_now:
        if col.ctype != "CK_T_TIMESTAMP" or col.on_update_fsp != col.precision:
            fail_at(col.tok, "%s: ON UPDATE CURRENT_TIMESTAMP needs a TIMESTAMP of the same fsp" % where)


def parse_number(text):
    """(num, scale) of a decimal literal such as '-0.950' -> (-950, 3)."""
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    frac = m.group(3) or ""
    num = int(m.group(2) + frac) * (-1 if m.group(1) else 1)
    return num, len(frac)


def resolve_default(table, col):
    where = "%s.%s" % (table.name, col.name)
    if col.default is None:
        col.default_kind = "CK_DEF_NULL" if col.nullable else "CK_DEF_NONE"
        return
    kind, val, tok = col.default
    if kind == "null":
        if not col.nullable:
            fail_at(tok, "%s: NOT NULL column with DEFAULT NULL" % where)
        col.default_kind = "CK_DEF_NULL"
    elif kind == "now":
        if col.ctype != "CK_T_TIMESTAMP" or val != col.precision:
            fail_at(tok, "%s: DEFAULT CURRENT_TIMESTAMP needs a TIMESTAMP of the same fsp" % where)
        col.default_kind = "CK_DEF_NOW"
    elif kind == "uuid":
        if col.ctype != "CK_T_UUID":
            fail_at(tok, "%s: DEFAULT (UUID()) on a column that is not a UUID" % where)
        col.default_kind = "CK_DEF_UUID"
    else:
        col.default_kind = "CK_DEF_LITERAL"
        col.default_literal = check_literal(where, col, val[1], tok)


def check_literal(where, col, text, tok):
    """The literal default as stored in the catalog, validated against the column type."""
    t = col.ctype
    if t in ("CK_T_INT", "CK_T_BOOL"):
        n = parse_number(text)
        if n is None or n[1] != 0 or not (col.min <= n[0] <= col.max):
            fail_at(tok, "%s: DEFAULT %r is not a %s value" % (where, text, col.sql_type))
        return str(n[0])
    if t == "CK_T_DECIMAL":
        n = parse_number(text)
        if n is None or n[1] > col.scale:
            fail_at(tok, "%s: DEFAULT %r is not an exact %s value" % (where, text, col.sql_type))
        units = n[0] * 10 ** (col.scale - n[1])
        if abs(units) >= 10**col.precision:
            fail_at(tok, "%s: DEFAULT %r overflows %s" % (where, text, col.sql_type))
        # The column's scale, always: DECIMAL output keeps it ("0.00", never "0").
        sign = "-" if units < 0 else ""
        digits = str(abs(units)).rjust(col.scale + 1, "0")
        if col.scale == 0:
            return sign + digits
        return "%s%s.%s" % (sign, digits[: -col.scale], digits[-col.scale :])
    if t == "CK_T_ENUM":
        if text not in col.args:
            fail_at(tok, "%s: DEFAULT %r is not one of the ENUM values" % (where, text))
        return text
    if t in ("CK_T_VARCHAR", "CK_T_CHAR", "CK_T_TEXT"):
        if len(text) > col.length:
            fail_at(tok, "%s: DEFAULT %r is longer than %s" % (where, text, col.sql_type))
        return text
    fail_at(tok, "%s: literal DEFAULT on %s is not supported" % (where, col.sql_type))


def resolve_keys(schema, max_cols):
    next_id = 1
    for ti, table in enumerate(schema.tables):
        names = set()
        for ix in table.indexes:
            if ix.name in names or ix.name.upper() == "PRIMARY":
                fail_at(ix.tok, "%s: duplicate index name %s" % (table.name, ix.name))
            names.add(ix.name)
            if not 1 <= len(ix.colnames) <= max_cols:
                fail_at(ix.tok, "%s.%s: %d columns, CK_INDEX_MAX_COLS is %d"
                        % (table.name, ix.name, len(ix.colnames), max_cols))
            for c in ix.colnames:
                if c not in table.colmap:
                    fail_at(ix.tok, "%s.%s: unknown column %s" % (table.name, ix.name, c))
            if len(set(ix.colnames)) != len(ix.colnames):
                fail_at(ix.tok, "%s.%s: column listed twice" % (table.name, ix.name))
            ix.cols = [table.colmap[c] for c in ix.colnames]
            ix.id = next_id
            next_id += 1
        if next_id > 65536:
            fail_at(table.tok, "more than 65535 indexes")

    constraint_names = {}
    for ti, table in enumerate(schema.tables):
        for fi, fk in enumerate(table.fks):
            if fk.name in constraint_names:
                fail_at(fk.tok, "constraint name %s is used twice" % fk.name)
            constraint_names[fk.name] = fk
            if fk.column_name not in table.colmap:
                fail_at(fk.tok, "%s: unknown FK column %s" % (fk.name, fk.column_name))
            if fk.parent_name not in schema.by_name:
                fail_at(fk.tok, "%s: unknown parent table %s" % (fk.name, fk.parent_name))
            fk.column = table.colmap[fk.column_name]
            fk.parent = schema.by_name[fk.parent_name]
            parent = schema.tables[fk.parent]
            if fk.parent_column_name != "id":
                fail_at(fk.tok, "%s: foreign keys must reference the parent's id" % fk.name)
            fk.parent_column = parent.colmap["id"]
            col = table.columns[fk.column]
            if col.fk != -1:
                fail_at(fk.tok, "%s: column %s already has a foreign key" % (fk.name, col.name))
            col.fk = fi
            if fk.on_delete == "SET NULL" and not col.nullable:
                fail_at(fk.tok, "%s: ON DELETE SET NULL on a NOT NULL column" % fk.name)
            fk.index = fk_index(table, fk)
        for check in table.checks:
            if check.name in constraint_names:
                fail_at(check.tok, "constraint name %s is used twice" % check.name)
            constraint_names[check.name] = check

    for ti, table in enumerate(schema.tables):
        for fi, fk in enumerate(table.fks):
            schema.tables[fk.parent].refs.append((fk.name, ti, fi))
    for table in schema.tables:
        # InnoDB visits the FKs that reference a row in ascending constraint-name order.
        table.refs.sort(key=lambda r: r[0].encode())


def fk_index(table, fk):
    if fk.column_name == "tenant_id":
        return -1
    best = None
    for pos, ix in enumerate(table.indexes):
        lead = [c for c in ix.colnames if c != "tenant_id"]
        if lead and lead[0] == fk.column_name:
            if best is None or len(ix.cols) < len(table.indexes[best].cols):
                best = pos
    if best is None:
        fail_at(fk.tok, "%s: no index of %s leads with %s (after tenant_id): deleting a parent "
                "would have to scan the table" % (fk.name, table.name, fk.column_name))
    return best


# --------------------------------------------------------------------------- CHECK compiler


class CheckCompiler:
    """Recursive descent over a CHECK expression, emitting the postfix program.

    Precedence, loosest first: OR, AND, NOT, then a predicate (comparison, BETWEEN,
    IS [NOT] NULL) over operands (column, number, parenthesised expression).
    """

    def __init__(self, table, check):
        self.table = table
        self.check = check
        self.cur = Cursor(check.expr_toks, "CHECK %s" % check.name)
        self.ops = []

    def compile(self):
        kind = self.disjunction()
        self.cur.expect_end()
        if kind != "bool":
            self.cur.fail("a CHECK must be a condition")
        return self.ops

    def need_bool(self, kind, tok):
        if kind != "bool":
            self.cur.fail("expected a condition, not a value", tok)

    def disjunction(self):
        tok = self.cur.peek()
        kind = self.conjunction()
        while True:
            t = self.cur.accept_kw("OR")
            if not t:
                return kind
            self.need_bool(kind, tok)
            self.need_bool(self.conjunction(), t)
            self.ops.append(("CK_OP_OR",))
            kind = "bool"

    def conjunction(self):
        tok = self.cur.peek()
        kind = self.negation()
        while True:
            t = self.cur.accept_kw("AND")
            if not t:
                return kind
            self.need_bool(kind, tok)
            self.need_bool(self.negation(), t)
            self.ops.append(("CK_OP_AND",))
            kind = "bool"

    def negation(self):
        t = self.cur.accept_kw("NOT")
        if t:
            self.need_bool(self.negation(), t)
            self.ops.append(("CK_OP_NOT",))
            return "bool"
        return self.predicate()

    def predicate(self):
        tok = self.cur.peek()
        kind = self.operand()
        t = self.cur.peek()
        if t is None:
            return kind
        if t.kind == "op" and t.val in CMP_OPS:
            self.cur.next()
            self.value(kind, tok)
            rtok = self.cur.peek()
            self.same_category(kind, self.operand(), rtok)
            self.ops.append((CMP_OPS[t.val],))
            return "bool"
        if self.cur.accept_kw("BETWEEN"):
            self.value(kind, tok)
            ltok = self.cur.peek()
            self.same_category(kind, self.operand(), ltok)
            self.cur.expect_kw("AND")
            htok = self.cur.peek()
            self.same_category(kind, self.operand(), htok)
            self.ops.append(("CK_OP_BETWEEN",))
            return "bool"
        if self.cur.accept_kw("IS"):
            neg = self.cur.accept_kw("NOT")
            self.cur.expect_kw("NULL")
            if not (isinstance(kind, tuple) and kind[1] == "column"):
                self.cur.fail("IS [NOT] NULL applies to a column", tok)
            self.ops.append(("CK_OP_IS_NOT_NULL",) if neg else ("CK_OP_IS_NULL",))
            return "bool"
        if t.is_kw("IN", "LIKE", "REGEXP", "RLIKE") or (t.kind == "op" and t.val in "+-*/"):
            self.cur.fail("unsupported operator in CHECK", t)
        return kind

    def value(self, kind, tok):
        if not isinstance(kind, tuple):
            self.cur.fail("expected a value, not a condition", tok)

    def same_category(self, a, b, tok):
        self.value(b, tok)
        if a[0] != b[0] or a[0] not in ("number", "date", "timestamp"):
            self.cur.fail("cannot compare %s with %s" % (a[0], b[0]), tok)
        if a[0] != "number" and "literal" in (a[1], b[1]):
            self.cur.fail("date and timestamp literals are not supported", tok)

    def operand(self):
        """('category', 'column'|'literal') for values, 'bool' for conditions."""
        cur = self.cur
        t = cur.peek()
        if t is None:
            cur.fail("expected an operand")
        if t.is_op("("):
            cur.next()
            kind = self.disjunction()
            cur.expect_op(")")
            return kind
        neg = cur.accept_op("-")
        t = cur.peek()
        if t is not None and t.kind == "num":
            cur.next()
            num, scale = parse_number(("-" if neg else "") + t.val)
            if not INT64_MIN <= num <= INT64_MAX or scale > 18:
                cur.fail("number out of range", t)
            self.ops.append(("CK_OP_NUM", num, scale))
            return ("number", "literal")
        if neg:
            cur.fail("'-' applies to numbers only", t)
        if t.kind in ("word", "qident") and not t.is_kw(
            "AND", "OR", "NOT", "IS", "NULL", "BETWEEN", "TRUE", "FALSE"
        ):
            cur.next()
            ci = self.table.colmap.get(t.val)
            if ci is None:
                cur.fail("unknown column %s" % t.val, t)
            col = self.table.columns[ci]
            category = CATEGORY.get(col.ctype, col.ctype)
            self.ops.append(("CK_OP_COL", ci))
            return (category, "column")
        cur.fail("unsupported operand in CHECK", t)


def compile_checks(schema):
    for table in schema.tables:
        for check in table.checks:
            check.ops = CheckCompiler(table, check).compile()
            if len(check.ops) > 65535:
                fail_at(check.tok, "%s: program too long" % check.name)


# --------------------------------------------------------------------------- name hashing

M32 = 0xFFFFFFFF


def fnv1a(name):
    """Must match ck__name_hash() in storage/catalog_int.h: FNV-1a 32, then fmix() below."""
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & M32
    return h


def fmix(h, seed):
    h ^= seed
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def build_hash(names):
    """(seed, nslots, max_probe, slots): a collision-free table when one is found quickly,
    else the least-probing linear-probing table; slots hold index + 1, 0 when empty."""
    if len(names) > 254:
        raise DDLError("more than 254 names in one hash table")
    base = [fnv1a(n) for n in names]
    size = 8
    while size < 2 * len(names):
        size *= 2
    for _ in range(3):
        mask = size - 1
        for seed in range(1, 1 << 15):
            seen = set()
            for h in base:
                s = fmix(h, seed) & mask
                if s in seen:
                    break
                seen.add(s)
            else:
                return seed, size, 1, place(base, seed, size)
        size *= 2
    seed = 1
    slots = place(base, seed, size)
    return seed, size, max_probe(base, seed, slots), slots


def place(base, seed, size):
    mask = size - 1
    slots = [0] * size
    for i, h in enumerate(base):
        s = fmix(h, seed) & mask
        while slots[s]:
            s = (s + 1) & mask
        slots[s] = i + 1
    return slots


def max_probe(base, seed, slots):
    mask = len(slots) - 1
    worst = 1
    for i, h in enumerate(base):
        s, n = fmix(h, seed) & mask, 1
        while slots[s] != i + 1:
            s, n = (s + 1) & mask, n + 1
        worst = max(worst, n)
    return worst


# --------------------------------------------------------------------------- C output


def c_str(s):
    if s is None:
        return "NULL"
    out = ['"']
    prev = ""
    for b in s.encode():
        c = chr(b)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c == "?" and prev == "?":
            out.append("\\?")  # never form a trigraph under -std=c11
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)  # octal: at most 3 digits, so a following digit is safe
        prev = c
    out.append('"')
    return "".join(out)


def wrap(head, items, tail, indent):
    """head + items joined by ", " + tail, broken before 100 columns, continuation lines
    indented by `indent` spaces."""
    lines, cur = [], head
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else tail)
        if cur.strip() and len(cur) + 1 + len(piece) > 100 and cur != head:
            lines.append(cur.rstrip())
            cur = " " * indent + piece
        else:
            cur += ("" if cur == head else " ") + piece
    if not items:
        cur += tail
    lines.append(cur)
    return "\n".join(lines)


def c_ident(name):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise DDLError("name %r cannot be used in a C identifier" % name)
    return name


def emit(schema, sources, version, max_cols):
    L = []
    w = L.append
    w("/*")
    w(" * The schema catalog, generated by tools/ddl2catalog.py from")
    for s in sources:
        w(" *   schema/%s" % s.name)
    w(" * DO NOT EDIT: change the DDL and rebuild (docs/catalog.md).")
    w(" *")
    w(" * schema_version %s" % version)
    w(" */")
    w('#include "catalog.h"')
    w('#include "catalog_int.h"')
    w("")
    w("_Static_assert(CK_INDEX_MAX_COLS == %d, \"ddl2catalog.py read another CK_INDEX_MAX_COLS\");" % max_cols)
    w("")
    hashes = []
    for ti, t in enumerate(schema.tables):
        n = c_ident(t.name)
        w("/* " + "-" * 76 + " */")
        w("/* %d. %s%s: %s */" % (ti + 1, t.name, " (optional)" if t.optional else "", t.comment or ""))
        w("")
        for col in t.columns:
            if col.ctype == "CK_T_ENUM":
                w(wrap("static const char *const %s__%s_enum[%d] = {" % (n, c_ident(col.name), len(col.args)),
                       [c_str(v) for v in col.args], "};", 4))
        w("static const struct ck_column %s_cols[%d] = {" % (n, len(t.columns)))
        for ci, col in enumerate(t.columns):
            f = [".name = %s" % c_str(col.name), ".sql_type = %s" % c_str(col.sql_type),
                 ".type = %s" % col.ctype, ".nullable = %s" % ("true" if col.nullable else "false"),
                 ".default_kind = %s" % col.default_kind]
            if col.on_update_now:
                f.append(".on_update_now = true")
            if col.length:
                f.append(".length = %d" % col.length)
            if col.precision:
                f.append(".precision = %d" % col.precision)
            if col.scale:
                f.append(".scale = %d" % col.scale)
            if col.ctype in ("CK_T_INT", "CK_T_BOOL"):
                f.append(".min = %s" % c_int64(col.min))
                f.append(".max = %s" % c_int64(col.max))
            if col.ctype == "CK_T_ENUM":
                f.append(".n_enum = %d" % len(col.args))
                f.append(".enum_values = %s__%s_enum" % (n, col.name))
            if col.default_literal is not None:
                f.append(".default_literal = %s" % c_str(col.default_literal))
            f.append(".fk = %d" % col.fk)
            if col.comment is not None:
                f.append(".comment = %s" % c_str(col.comment))
            head = "    [%d] = {" % ci
            w(wrap(head, f, "},", len(head)))
        w("};")
        if t.fks:
            w("static const struct ck_fk %s_fks[%d] = {" % (n, len(t.fks)))
            for fi, fk in enumerate(t.fks):
                head = "    [%d] = {" % fi
                w("    /* %s: %s -> %s.id ON DELETE %s */" % (fk.name, fk.column_name, fk.parent_name, fk.on_delete))
                w(wrap(head, [".name = %s" % c_str(fk.name), ".column = %d" % fk.column,
                              ".parent_table = %d" % fk.parent, ".parent_column = %d" % fk.parent_column,
                              ".on_delete = %s" % FK_RULES[fk.on_delete], ".index = %d" % fk.index], "},",
                       len(head)))
            w("};")
        if t.indexes:
            w("static const struct ck_index %s_indexes[%d] = {" % (n, len(t.indexes)))
            for pos, ix in enumerate(t.indexes):
                head = "    [%d] = {" % pos
                w("    /* %s (%s) */" % (ix.name, ", ".join(ix.colnames)))
                w(wrap(head, [".name = %s" % c_str(ix.name), ".id = %d" % ix.id,
                              ".unique = %s" % ("true" if ix.unique else "false"),
                              ".ncols = %d" % len(ix.cols),
                              ".cols = {%s}" % ", ".join(str(c) for c in ix.cols)], "},", len(head)))
            w("};")
        for check in t.checks:
            w("/* %s: %s */" % (check.name, check.expression.replace("*/", "* /")))
            w("static const struct ck_check_op %s__%s_ops[%d] = {" % (n, c_ident(check.name), len(check.ops)))
            for op in check.ops:
                if op[0] == "CK_OP_COL":
                    w("    {.op = CK_OP_COL, .col = %d}, /* %s */" % (op[1], t.columns[op[1]].name))
                elif op[0] == "CK_OP_NUM":
                    w("    {.op = CK_OP_NUM, .num = %s, .scale = %d}," % (c_int64(op[1]), op[2]))
                else:
                    w("    {.op = %s}," % op[0])
            w("};")
        if t.checks:
            w("static const struct ck_check %s_checks[%d] = {" % (n, len(t.checks)))
            for i, check in enumerate(t.checks):
                head = "    [%d] = {" % i
                w(wrap(head, [".name = %s" % c_str(check.name), ".expression = %s" % c_str(check.expression),
                              ".nops = %d" % len(check.ops), ".ops = %s__%s_ops" % (n, check.name)], "},",
                       len(head)))
            w("};")
        if t.refs:
            w("static const struct ck_ref %s_refs[%d] = {" % (n, len(t.refs)))
            for name, cti, cfi in t.refs:
                w("    {.table = %d, .fk = %d}, /* %s */" % (cti, cfi, name))
            w("};")
        seed, size, probe, slots = build_hash([c.name for c in t.columns])
        hashes.append((seed, size, probe))
        w("/* Column name hash: entry index + 1 per slot, and each name's length. */")
        w(wrap("static const uint8_t %s_colhash_slots[%d] = {" % (n, size), [str(x) for x in slots], "};", 4))
        w(wrap("static const uint8_t %s_colhash_lens[%d] = {" % (n, len(t.columns)),
               [str(len(c.name.encode())) for c in t.columns], "};", 4))
        w("")

    w("/* " + "-" * 76 + " */")
    w("")
    w("static const struct ck_table tables[%d] = {" % len(schema.tables))
    for ti, t in enumerate(schema.tables):
        n = t.name
        cm = t.colmap

        def col(name):
            return cm.get(name, -1)

        w("    [%d] = {" % ti)
        w("        .name = %s, .id = %d, .group = %s, .optional = %s," % (
            c_str(n), ti + 1, t.group, "true" if t.optional else "false"))
        w("        .comment = %s," % c_str(t.comment))
        w("        .ncols = %d, .cols = %s_cols," % (len(t.columns), n))
        w("        .nfks = %d, .fks = %s," % (len(t.fks), ("%s_fks" % n) if t.fks else "NULL"))
        w("        .nindexes = %d, .indexes = %s," % (len(t.indexes), ("%s_indexes" % n) if t.indexes else "NULL"))
        w("        .nchecks = %d, .checks = %s," % (len(t.checks), ("%s_checks" % n) if t.checks else "NULL"))
        w("        .nrefs = %d, .refs = %s," % (len(t.refs), ("%s_refs" % n) if t.refs else "NULL"))
        w("        .col_id = %d, .col_tenant = %d, .col_clinic = %d," % (
            col("id"), col("tenant_id"), col("clinic_id")))
        w("        .col_created_at = %d, .col_updated_at = %d, .col_deleted_at = %d," % (
            col("created_at"), col("updated_at"), col("deleted_at")))
        w("        .col_created_by = %d, .col_updated_by = %d," % (col("created_by"), col("updated_by")))
        w("    },")
    w("};")
    w("")
    tot = totals(schema)
    w("const struct ck_catalog ck_catalog = {")
    w("    .ntables = %d," % len(schema.tables))
    w("    .tables = tables,")
    w("    .schema_version = %s," % c_str(version))
    w("    .ncolumns = %d," % tot["columns"])
    w("    .nfks = %d," % tot["fks"])
    w("    .nunique = %d," % tot["unique"])
    w("    .nindexes_with_pk = %d," % tot["indexes_with_pk"])
    w("    .nchecks = %d," % tot["checks"])
    w("};")
    w("")

    seed, size, probe, slots = build_hash([t.name for t in schema.tables])
    w("/* Table names: open addressing, slot = entry index + 1 (0: empty). */")
    w(wrap("static const uint8_t table_hash_slots[%d] = {" % size, [str(x) for x in slots], "};", 4))
    w(wrap("static const uint8_t table_hash_lens[%d] = {" % len(schema.tables),
           [str(len(t.name.encode())) for t in schema.tables], "};", 4))
    w("const struct ck_name_hash ck_catalog_table_hash = {")
    w("    .seed = %du, .mask = %d, .max_probe = %d," % (seed, size - 1, probe))
    w("    .slots = table_hash_slots, .lens = table_hash_lens,")
    w("};")
    w("")
    w("/* Column names of each table, by table index. */")
    w("const struct ck_name_hash ck_catalog_column_hash[%d] = {" % len(schema.tables))
    for ti, t in enumerate(schema.tables):
        seed, size, probe = hashes[ti]
        head = "    [%d] = {" % ti
        w(wrap(head, [".seed = %du" % seed, ".mask = %d" % (size - 1), ".max_probe = %d" % probe,
                      ".slots = %s_colhash_slots" % t.name, ".lens = %s_colhash_lens" % t.name], "},",
               len(head)))
    w("};")
    w("")
    locs = [(ti, pos, ix) for ti, t in enumerate(schema.tables) for pos, ix in enumerate(t.indexes)]
    w("/* Every secondary index by its catalog-wide id - 1. */")
    w("const uint16_t ck_catalog_nindex_ids = %d;" % len(locs))
    w("const struct ck_index_loc ck_catalog_index_locs[%d] = {" % len(locs))
    for ti, pos, ix in locs:
        w("    [%d] = {.table = %d, .pos = %d}, /* %s */" % (ix.id - 1, ti, pos, ix.name))
    w("};")
    return "\n".join(L) + "\n"


def c_int64(v):
    if v == INT64_MIN:
        return "INT64_MIN"
    return ("%d" % v) if -(2**31) < v < 2**31 else ("INT64_C(%d)" % v)


def totals(schema):
    return {
        "tables": len(schema.tables),
        "columns": sum(len(t.columns) for t in schema.tables),
        "fks": sum(len(t.fks) for t in schema.tables),
        "unique": sum(1 for t in schema.tables for ix in t.indexes if ix.unique),
        "indexes_with_pk": sum(len(t.indexes) + 1 for t in schema.tables),
        "checks": sum(len(t.checks) for t in schema.tables),
    }


def read_max_cols(script_dir):
    path = os.path.join(script_dir, "..", "storage", "catalog.h")
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^#define\s+CK_INDEX_MAX_COLS\s+(\d+)\s*$", f.read(), re.M)
    if not m:
        raise DDLError("%s: no '#define CK_INDEX_MAX_COLS n'" % path)
    return int(m.group(1))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True, help="C file to write")
    ap.add_argument("ddl", nargs="+", help="DDL files: the master schema, then optional modules")
    args = ap.parse_args(argv)

    try:
        max_cols = read_max_cols(os.path.dirname(os.path.abspath(__file__)))
        schema = Schema()
        sources = []
        blob = b""
        for i, path in enumerate(args.ddl):
            with open(path, "rb") as f:
                raw = f.read()
            blob += raw
            src = Source(path, raw.decode("utf-8"))
            sources.append(src)
            parse_file(schema, src, optional=i > 0)
        if len(schema.tables) > 255:
            raise DDLError("more than 255 tables: table ids are one byte")
        resolve_types(schema)
        resolve_keys(schema, max_cols)
        compile_checks(schema)
        got = totals(schema)
        if got != EXPECTED_TOTALS:
            diff = ", ".join("%s %d (expected %d)" % (k, got[k], EXPECTED_TOTALS[k])
                             for k in EXPECTED_TOTALS if got[k] != EXPECTED_TOTALS[k])
            raise DDLError("totals differ from the measured schema: " + diff)
        version = hashlib.blake2b(blob, digest_size=8).hexdigest()
        text = emit(schema, sources, version, max_cols)
    except (DDLError, OSError, UnicodeDecodeError) as e:
        print("ddl2catalog: error: %s" % e, file=sys.stderr)
        return 1
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)  # never leave a half-written catalog for make to trust
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
