"""Valid rows for every table, built from schema.describe alone (a helper module, not a test).

    from rowfactory import RowFactory
    fac = RowFactory(admin_client)              # a tenant admin, or
    fac = RowFactory(system_client, tenant="demo")   # a system admin naming the tenant
    inv = fac.make("invoices")                   # inserts the parents it needs first
    item = fac.make("invoice_items", {"invoice_id": inv["id"], "quantity": "2.00"})
    row = fac.build("payments")                  # a valid row map, not inserted (parents are)

A row satisfies what the server enforces: NOT NULL, types, lengths, ENUMs, the CHECK
constraints (parsed from their DDL text and solved by a small search over the values
they mention), unique keys (string values carry a counter; FK columns that are part of
a unique key get a parent of their own) and foreign keys (parents are made first, or
reused: a cached parent is confirmed with row.get before it is used again, so deleting
rows behind the factory's back is fine).

The factory writes what a client may write, nothing the server maintains: no id
unless given (the server makes one), no tenant_id, created_*/updated_*, deleted_at;
in PHI tables the plain field (`demographics`, `content`, `subscriber_info`,
`medical_history`) instead of encrypted_*, and never *_key_id or *_search_hash
(storage/phi.h); users get no password_hash (`password=` to make one that can log in).

Everything is derived from the describe output, so a schema change needs no change here.
Only the standard library and tests/ckserver.py's Client are used.
"""

import datetime
import decimal
import itertools
import random
import re

D = decimal.Decimal

AUDIT_COLUMNS = ("created_at", "updated_at", "created_by", "updated_by", "deleted_at")


# ----------------------------------------------------------------------------- types

class ColType:
    """A column's SQL type, parsed from describe's spelling ("DECIMAL(10,2)", "INT UNSIGNED")."""

    INT_RANGES = {
        "TINYINT": (-128, 127), "SMALLINT": (-32768, 32767), "MEDIUMINT": (-8388608, 8388607),
        "INT": (-2147483648, 2147483647), "BIGINT": (-2 ** 63, 2 ** 63 - 1),
    }

    def __init__(self, sql):
        self.sql = sql
        self.kind = None
        self.length = None
        self.precision = self.scale = None
        self.enum = None
        self.min = self.max = None
        self.fsp = 0
        up = sql.upper()
        m = re.fullmatch(r"ENUM\((.*)\)", sql)
        if m:
            self.kind = "enum"
            self.enum = re.findall(r"'((?:[^']|'')*)'", m.group(1))
            return
        m = re.fullmatch(r"(VARCHAR|CHAR|VARBINARY)\((\d+)\)", up)
        if m:
            self.kind = m.group(1).lower()
            self.length = int(m.group(2))
            return
        m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", up)
        if m:
            self.kind = "decimal"
            self.precision, self.scale = int(m.group(1)), int(m.group(2))
            lim = D(10) ** (self.precision - self.scale) - D(1).scaleb(-self.scale)
            self.min, self.max = -lim, lim
            return
        if up == "TINYINT(1)":
            self.kind = "bool"
            return
        m = re.fullmatch(r"(TINYINT|SMALLINT|MEDIUMINT|INT|BIGINT)( UNSIGNED)?", up)
        if m:
            self.kind = "int"
            lo, hi = self.INT_RANGES[m.group(1)]
            if m.group(2):
                lo, hi = 0, hi * 2 + 1
            self.min, self.max = lo, hi
            return
        m = re.fullmatch(r"TIMESTAMP(?:\((\d)\))?", up)
        if m:
            self.kind = "timestamp"
            self.fsp = int(m.group(1) or 0)
            return
        self.kind = {"DATE": "date", "TEXT": "text", "JSON": "json", "LONGBLOB": "blob"}.get(up)
        if self.kind is None:
            raise ValueError("rowfactory: unknown SQL type %r" % sql)

    @property
    def is_string(self):
        """A string compared under the collation (UUID id and FK columns, though
        VARCHAR(36) in the DDL, are not: Table.text_columns() leaves them out)."""
        return self.kind in ("varchar", "char", "text")

    @property
    def is_number(self):
        return self.kind in ("int", "decimal", "bool")

    def fits(self, v):
        """Is the wire value v inside the type (so that the server would not say invalid_value)?"""
        if v is None:
            return True
        if self.kind == "int":
            return isinstance(v, int) and self.min <= v <= self.max
        if self.kind == "decimal":
            d = D(v)
            return self.min <= d <= self.max and d == d.quantize(D(1).scaleb(-self.scale))
        if self.kind in ("varchar", "char"):
            return len(v) <= self.length
        return True


# ----------------------------------------------------------------------------- CHECK constraints

TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|=|<|>)|(?P<par>[()])|"
                   r"(?P<word>[A-Za-z_][A-Za-z_0-9]*))")


def parse_check(text):
    """Parse a CHECK expression of the DDL's grammar (docs/catalog.md "CHECK programs") into
    nested tuples: ("or"|"and", a, b), ("not", a), ("cmp", op, a, b), ("between", x, lo, hi),
    ("isnull", x, negated), ("col", name), ("num", Decimal)."""
    toks = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError("cannot parse CHECK %r at %d" % (text, pos))
        pos = m.end()
        if m.group("num"):
            toks.append(("num", D(m.group("num"))))
        elif m.group("op"):
            toks.append(("op", m.group("op")))
        elif m.group("par"):
            toks.append(("par", m.group("par")))
        else:
            w = m.group("word")
            up = w.upper()
            toks.append(("kw", up) if up in ("AND", "OR", "NOT", "BETWEEN", "IS", "NULL") else ("col", w))
    toks.append(("end", None))
    i = [0]

    def peek():
        return toks[i[0]]

    def take(kind=None, val=None):
        t = toks[i[0]]
        if (kind and t[0] != kind) or (val is not None and t[1] != val):
            raise ValueError("CHECK %r: expected %s %s, got %r" % (text, kind, val, t))
        i[0] += 1
        return t

    def operand():
        t = take()
        if t[0] in ("col", "num"):
            return t
        raise ValueError("CHECK %r: unexpected %r" % (text, t))

    def predicate():
        if peek() == ("par", "("):
            take()
            e = disjunction()
            take("par", ")")
            return e
        a = operand()
        t = peek()
        if t == ("kw", "BETWEEN"):
            take()
            lo = operand()
            take("kw", "AND")
            hi = operand()
            return ("between", a, lo, hi)
        if t == ("kw", "IS"):
            take()
            neg = peek() == ("kw", "NOT")
            if neg:
                take()
            take("kw", "NULL")
            return ("isnull", a, neg)
        if t[0] == "op":
            take()
            return ("cmp", t[1], a, operand())
        raise ValueError("CHECK %r: expected a predicate at %r" % (text, t))

    def negation():
        if peek() == ("kw", "NOT"):
            take()
            return ("not", negation())
        return predicate()

    def conjunction():
        e = negation()
        while peek() == ("kw", "AND"):
            take()
            e = ("and", e, negation())
        return e

    def disjunction():
        e = conjunction()
        while peek() == ("kw", "OR"):
            take()
            e = ("or", e, conjunction())
        return e

    e = disjunction()
    take("end")
    return e


def check_columns(expr, out=None):
    """The column names an expression reads, in order of appearance."""
    out = [] if out is None else out
    if expr[0] == "col":
        if expr[1] not in out:
            out.append(expr[1])
    elif expr[0] != "num":
        for part in expr[1:]:
            if isinstance(part, tuple):
                check_columns(part, out)
    return out


def check_numbers(expr, out=None):
    out = [] if out is None else out
    if expr[0] == "num":
        out.append(expr[1])
    elif expr[0] != "col":
        for part in expr[1:]:
            if isinstance(part, tuple):
                check_numbers(part, out)
    return out


def _comparable(v):
    """A wire value as something that orders like SQL: numbers as Decimal, booleans as 0/1,
    dates and instants as their ISO text (which orders by time within one column type)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return D(int(v))
    if isinstance(v, int):
        return D(v)
    if isinstance(v, str):
        try:
            return D(v)
        except decimal.InvalidOperation:
            return v.replace(" ", "T").rstrip("Z")
    return v


def eval_check(expr, row):
    """SQL three-valued logic over a row of wire values: True, False or None (unknown)."""
    op = expr[0]
    if op == "col":
        return _comparable(row.get(expr[1]))
    if op == "num":
        return expr[1]
    if op == "isnull":
        v = eval_check(expr[1], row)
        return (v is not None) if expr[2] else (v is None)
    if op == "cmp":
        a, b = eval_check(expr[2], row), eval_check(expr[3], row)
        if a is None or b is None:
            return None
        return {"=": a == b, "<>": a != b, "!=": a != b, "<": a < b, "<=": a <= b,
                ">": a > b, ">=": a >= b}[expr[1]]
    if op == "between":
        x, lo, hi = (eval_check(e, row) for e in expr[1:])
        if x is None or lo is None or hi is None:
            return None
        return lo <= x <= hi
    if op == "not":
        v = eval_check(expr[1], row)
        return None if v is None else not v
    a, b = eval_check(expr[1], row), eval_check(expr[2], row)
    if op == "and":
        if a is False or b is False:
            return False
        return None if a is None or b is None else True
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


# ----------------------------------------------------------------------------- tables

class Table:
    """One table of schema.describe, with what the factory needs precomputed."""

    def __init__(self, desc):
        self.desc = desc
        self.name = desc["name"]
        self.columns = {c["name"]: c for c in desc["columns"]}
        self.order = [c["name"] for c in desc["columns"]]
        self.types = {c["name"]: ColType(c["type"]) for c in desc["columns"]}
        self.fks = {f["column"]: f for f in desc["foreign_keys"]}
        self.unique = desc["unique"]
        self.checks = [(c["name"], parse_check(c["expression"])) for c in desc["checks"]]
        self.global_table = "tenant_id" not in self.columns
        self.phi = {c[len("encrypted_"):]: c for c in self.order
                    if c.startswith("encrypted_") and self.types[c].kind == "blob"}
        self.unique_cols = set(itertools.chain.from_iterable(u["columns"] for u in self.unique))

    def server_maintained(self, col):
        """Columns a client never writes (they are refused, or overwritten by the server)."""
        if col in ("id", "tenant_id") or col in AUDIT_COLUMNS:
            return True
        if col == "password_hash" and self.name == "users":
            return True
        if col.endswith("_search_hash"):
            return True
        if self.phi and (col in self.phi.values() or col.endswith("_key_id")):
            return True
        return False

    def is_text(self, col):
        """A string column that holds text, not a UUID (id and FK columns are VARCHAR(36))."""
        return self.types[col].is_string and col != "id" and col not in self.fks

    def writable(self):
        return [c for c in self.order if not self.server_maintained(c)]

    def required(self, col):
        """NOT NULL without a default: an insert must give it. An ENUM NOT NULL column
        without DEFAULT has its first member as implicit default (as in MySQL)."""
        c = self.columns[col]
        return not c["nullable"] and c.get("default") is None and self.types[col].kind != "enum"


# ----------------------------------------------------------------------------- the factory

class RowFactory:
    """Makes valid rows of any table through a connected Client."""

    def __init__(self, client, describe=None, tenant=None, fill="required", reuse=True):
        """client: a ckserver.Client, logged in as a role that may write the tables used
        (a tenant admin writes every tenant table), or a system administrator (then
        `tenant` names the tenant, slug or id, for tenant tables).
        describe: schema.describe's {"tables": [...]} or its list (fetched when None).
        fill: "required" gives only NOT NULL columns without default (plus what the
        CHECKs and unique keys need); "all" gives every writable column a value.
        reuse: parents not tied to a unique key are reused (fewer rows); False makes a
        fresh parent for every FK."""
        self.client = client
        if describe is None:
            describe = client.call("schema.describe")
        if isinstance(describe, dict):
            describe = describe["tables"]
        self.tables = {t["name"]: Table(t) for t in describe}
        self.tenant = tenant
        self.fill = fill
        self.reuse = reuse
        self.counter = itertools.count(1)
        # Strings carry the factory's own tag, so two factories never collide on a unique key.
        self.tag = "".join(random.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(4))
        self.cache = {}       # table -> ids of rows made here, newest last
        self.made = []        # (table, id) of every row inserted, in order

    # -- the protocol

    def params(self, table, **kw):
        if self.tenant is not None and not self.tables[table].global_table:
            kw["tenant"] = self.tenant
        kw["table"] = table
        return kw

    def insert(self, table, row):
        """row.insert; returns the stored row and remembers it as a possible parent."""
        out = self.client.call("row.insert", self.params(table, row=row))
        self.cache.setdefault(table, []).append(out["id"])
        self.made.append((table, out["id"]))
        return out

    def get(self, table, id, with_deleted=True):
        return self.client.call("row.get", self.params(table, id=id, with_deleted=with_deleted))

    def exists(self, table, id):
        try:
            self.get(table, id)
            return True
        except Exception as e:  # RpcError: not_found
            if getattr(e, "code", None) == "not_found":
                return False
            raise

    # -- values

    def n(self):
        return next(self.counter)

    def value(self, table, col, n=None):
        """A valid value for one column (FK columns excepted), distinct per call for strings
        and integers, so unique keys do not collide."""
        t = self.tables[table]
        ct = t.types[col]
        n = self.n() if n is None else n
        k = ct.kind
        if k == "enum":
            # The default where there is one: the first member may be privileged
            # (users.role: super_admin, which a tenant admin may not grant).
            d = t.columns[col].get("default")
            return d if d in ct.enum else ct.enum[0]
        if k == "bool":
            return False
        if k == "int":
            lo = max(ct.min, 1)
            return lo + n % max(1, min(ct.max, 30000) - lo)
        if k == "decimal":
            return str(min(D(1 + n % 50), ct.max).quantize(D(1).scaleb(-ct.scale)))
        if k == "date":
            return (datetime.date(2026, 1, 1) + datetime.timedelta(days=n % 3000)).isoformat()
        if k == "timestamp":
            t0 = datetime.datetime(2026, 1, 1, 9, 0, 0) + datetime.timedelta(minutes=7 * n % 500000)
            if ct.fsp:
                return t0.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (n % 1000)
            return t0.strftime("%Y-%m-%dT%H:%M:%SZ")
        if k == "json":
            return {"n": n}
        if k in ("blob", "varbinary"):
            return b"v%d" % n
        if k == "char":
            # Letters, so that a case variant differs; exactly the column's width.
            s = "".join(chr(ord("A") + (n // 26 ** i) % 26) for i in range(ct.length))
            return s[: ct.length]
        s = "%s %s-%s%d" % (table[:3].capitalize(), col[:8], self.tag, n)
        return s if ct.kind == "text" else s[: ct.length]

    def phi_value(self, table, field, n):
        if field == "demographics":
            return {"first_name": "Pat%d" % n, "last_name": "Ient%s%d" % (self.tag, n),
                    "date_of_birth": "1980-01-%02d" % (1 + n % 28)}
        return {"text": "%s %d" % (field, n)}

    # -- parents

    def parent(self, table, col, fresh):
        """The id of a row of col's parent table: a reused one when allowed, else a new one."""
        ptable = self.tables[table].fks[col]["parent_table"]
        if not fresh:
            ids = self.cache.get(ptable, [])
            while ids:
                pid = ids[-1]
                if self.exists(ptable, pid):
                    return pid
                ids.pop()
        return self.make(ptable)["id"]

    # -- rows

    def build(self, table, overrides=None, fill_cols=(), fresh_parents=None):
        """A valid row map for table (not inserted); the parents it needs are inserted.
        overrides: column -> value, taken as given (None writes NULL); fill_cols: nullable
        columns to give a value too; fresh_parents: FK columns whose parent must be new."""
        t = self.tables[table]
        overrides = dict(overrides or {})
        fresh_parents = set(fresh_parents or ())
        n = self.n()
        row = {}
        for col in t.writable():
            if col in overrides:
                continue
            want = t.required(col) or self.fill == "all" or col in fill_cols
            if not want:
                continue
            if col in t.fks:
                fk = t.fks[col]
                if fk["parent_table"] == table and not t.required(col):
                    continue  # a self-reference: no row to name yet
                if not t.required(col) and col not in fill_cols and fk["parent_table"] not in self.cache:
                    continue  # an optional link: only to rows that already exist
                fresh = (not self.reuse) or col in fresh_parents or col in t.unique_cols
                row[col] = self.parent(table, col, fresh)
            else:
                row[col] = self.value(table, col, n)
        for field, enc in t.phi.items():
            if field in overrides:
                continue
            if not t.columns[enc]["nullable"] or self.fill == "all" or field in fill_cols:
                row[field] = self.phi_value(table, field, n)
        row.update(overrides)
        self.satisfy_checks(table, row, fixed=set(overrides))
        return row

    def make(self, table, overrides=None, **kw):
        """build() and insert; returns the stored row as the server answered it."""
        return self.insert(table, self.build(table, overrides, **kw))

    # -- CHECK constraints

    def effective(self, table, row):
        """row as the server will store it, as far as CHECKs care: omitted columns take
        their literal defaults."""
        t = self.tables[table]
        eff = dict(row)
        writable = set(t.writable())
        for col, c in t.columns.items():
            if col not in writable:
                continue
            d = c.get("default")
            if d is None and not c["nullable"] and t.types[col].kind == "enum":
                d = t.types[col].enum[0]
            if col not in eff and d is not None and d not in ("CURRENT_TIMESTAMP",
                                                              "CURRENT_TIMESTAMP(3)", "UUID()"):
                eff[col] = d
        return eff

    def check_failures(self, table, row):
        """Names of the table's CHECKs that are false for row (unknown passes, as in SQL)."""
        eff = self.effective(table, row)
        return [name for name, e in self.tables[table].checks if eval_check(e, eff) is False]

    def candidates(self, table, col, expr, current, row=None):
        """Values worth trying for col against a CHECK: the constants it mentions and their
        neighbours, the values of the other columns it compares col with and theirs, the
        current value and a few plain ones, that fit the column's type."""
        t = self.tables[table]
        ct = t.types[col]
        # Dates and instants are compared with each other: start from every one in play.
        peers = [current] + [(row or {}).get(c) for c in check_columns(expr)
                             if c != col and c in t.types and t.types[c].kind == ct.kind]
        peers = [p for p in peers if p is not None]
        nums = check_numbers(expr)
        out = []
        if ct.kind in ("int", "decimal"):
            step = D(1) if ct.kind == "int" else D(1).scaleb(-ct.scale)
            base = set(nums) | {D(0), D(1)}
            vals = set()
            for b in base:
                vals |= {b, b + step, b - step, b + 1, b - 1}
            if len(nums) >= 2:
                vals.add((min(nums) + max(nums)) / 2)
            for v in sorted(vals):
                if ct.kind == "int":
                    if v != v.to_integral_value():
                        continue
                    w = int(v)
                else:
                    w = str(v.quantize(step))
                if ct.fits(w):
                    out.append(w)
        elif ct.kind == "bool":
            out = [True, False]
        elif ct.kind == "date":
            for p in peers or ["2026-01-01"]:
                d0 = datetime.date.fromisoformat(p)
                out += [(d0 + datetime.timedelta(days=k)).isoformat() for k in (0, 1, -1, 30, -30)]
        elif ct.kind == "timestamp":
            for p in peers or ["2026-01-01T09:00:00"]:
                t0 = datetime.datetime.fromisoformat(p.rstrip("Z").replace(" ", "T")[:19])
                out += [(t0 + datetime.timedelta(days=k)).strftime("%Y-%m-%dT%H:%M:%SZ")
                        for k in (0, 1, -1, 30, -30)]
        else:
            # Strings, ENUMs and the like are only ever tested for NULL in a CHECK: any
            # value will do for "not NULL".
            if current is not None:
                out.append(current)
            elif col not in t.fks:
                out.append(self.value(table, col))
        if t.columns[col]["nullable"]:
            out.append(None)
        return out

    def satisfy_checks(self, table, row, fixed=()):
        """Adjust row (in place) until every CHECK holds, changing only columns the CHECKs
        read and that are not in `fixed`: one column at a time, then pairs."""
        t = self.tables[table]
        for _ in range(len(t.checks) + 1):
            eff = self.effective(table, row)
            failing = [(name, e) for name, e in t.checks if eval_check(e, eff) is False]
            if not failing:
                return row
            name, e = failing[0]
            cols = [c for c in check_columns(e) if c not in fixed and c in t.types]
            if not self._search(table, row, e, cols):
                raise ValueError("rowfactory: cannot satisfy %s for %r" % (name, row))
        raise ValueError("rowfactory: CHECKs of %s keep failing" % table)

    def _search(self, table, row, expr, cols):
        def ok():
            return not self.check_failures(table, row)

        for col in cols:
            old = row.get(col, None)
            for v in self.candidates(table, col, expr, old, row):
                row[col] = v
                if ok():
                    return True
            self._restore(row, col, old)
        for a, b in itertools.combinations(cols, 2):
            olda, oldb = row.get(a), row.get(b)
            for va in self.candidates(table, a, expr, olda, row):
                for vb in self.candidates(table, b, expr, oldb, row):
                    row[a], row[b] = va, vb
                    if ok():
                        return True
            self._restore(row, a, olda)
            self._restore(row, b, oldb)
        return False

    @staticmethod
    def _restore(row, col, old):
        if old is None:
            row.pop(col, None)
        else:
            row[col] = old

    def violate_check(self, table, name, row):
        """A copy of the valid row in which CHECK `name` is false and every other CHECK still
        holds, with values inside their columns' types (so the server's refusal can only be
        that CHECK); None when no such assignment is found."""
        t = self.tables[table]
        expr = dict(t.checks)[name]
        cols = [c for c in check_columns(expr) if c in t.types]
        others = [(n2, e) for n2, e in t.checks if n2 != name]

        def bad(r):
            eff = self.effective(table, r)
            return eval_check(expr, eff) is False and all(
                eval_check(e, eff) is not False for _, e in others)

        row = self.effective(table, row)
        for col in cols:
            for v in self.candidates(table, col, expr, row.get(col), row):
                r = dict(row, **{col: v})
                if bad(r):
                    return r
        for a, b in itertools.combinations(cols, 2):
            for va in self.candidates(table, a, expr, row.get(a), row):
                for vb in self.candidates(table, b, expr, row.get(b), row):
                    r = dict(row, **{a: va, b: vb})
                    if bad(r):
                        return r
        return None

    # -- helpers for tests

    @staticmethod
    def variant(value):
        """Another spelling of a string that utf8mb4_unicode_ci calls equal: other case and
        trailing spaces (PAD SPACE)."""
        return value.swapcase() + "  "
