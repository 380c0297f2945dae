"""Thousands of random writes, made by clinickv and replayed into MariaDB: the same
accept/refuse decisions and the same rows.

A system administrator writes into a fresh tenant, across 26 related tables (clinics,
staff, patients, scheduling, clinical notes, billing with RESTRICT-protected payments,
the supplies marketplace, the pharmacy), a random mix of operations, most valid and
many that must be refused: parents that do not exist or belong to another tenant,
duplicates of unique keys spelled the same or as utf8mb4_unicode_ci variants (case,
trailing spaces, accents, ß), values that break a CHECK, a NOT NULL, an ENUM or a
length, updates onto another row's key, soft deletes and restores, and hard deletes
that cascade, set NULL or are refused by RESTRICT. Rows are generated from
schema.describe by tests/rowfactory.py.

Every operation becomes one line of SQL for MariaDB (the DDL of schema/ loaded into a
database created with utf8mb4_unicode_ci, tests/mariadb.py), using, for the
operations clinickv accepted, the values clinickv stored (its ids, and its
created_at/updated_at/updated_by, which it maintains itself). Then:

- each operation's outcome is the same on both sides, refusals mapped to their
  MariaDB errors (fk_violation 1452, unique_violation 1062, restrict_violation 1451,
  a CHECK 4025, other invalid values 1265/1406/1264/1292, NOT NULL 1048/1364);
- the two databases end with the same rows, compared by primary key and every
  column. Normalised: TIMESTAMP(0) columns, where clinickv keeps milliseconds and
  MariaDB drops them; DECIMAL/INT/BOOL/JSON as values. Not compared: the PHI
  columns (clinickv stores ciphertext, the replay a placeholder) and
  payment_audit_log, which clinickv writes itself for every payment change;
- a Python model of the rows predicts every hard delete (RESTRICT refusals, the
  rows cascaded and set NULL per table) and must agree with clinickv's answer;
- `clinickv check` finds no problem, and its row counts equal the model's.

The one intended difference: clinickv applies ON DELETE rules order-independently,
InnoDB depth-first in constraint-name order (docs/storage.md "Constraints"). Where a
delete that clinickv accepts removes a RESTRICT child together with its parent (an
invoice and its payments, a batch and its sale lines), InnoDB may refuse depending on
the order it visits them; the replay detects these from the model and sends MariaDB
the delete as a tenant offboarding script would: those RESTRICT children first, then
the row (counted as "order-dependent deletes").

Skipped (exit 77) when MariaDB is not installed: apt-get install -y mariadb-server
mariadb-client. CLINICKV_REPLAY_SEED and CLINICKV_REPLAY_OPS fix the seed and size.
"""

import decimal
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mariadb  # noqa: E402
from ckserver import RpcError, Server, SOURCE  # noqa: E402
from rowfactory import RowFactory  # noqa: E402

SEED = int(os.environ.get("CLINICKV_REPLAY_SEED") or random.SystemRandom().randrange(1 << 30))
OPS = int(os.environ.get("CLINICKV_REPLAY_OPS") or 3000)
SLUG = "replay"

TABLES = [
    "clinics", "users", "patients", "appointments", "appointment_recurrences",
    "appointment_conflicts", "clinical_notes", "treatment_plans", "suppliers",
    "product_categories", "products", "orders", "order_items", "inventory",
    "inventory_transactions", "insurance_providers", "patient_insurance", "invoices",
    "invoice_items", "payments", "pharmacy_drug_categories", "pharmacy_suppliers",
    "pharmacy_drugs", "pharmacy_drug_inventory", "pharmacy_sales", "pharmacy_sale_items",
]
# Hard deletes aim mostly at the leaves; a clinic now and then takes a whole subtree.
DELETE_WEIGHT = {"clinics": 0.25, "users": 0.5, "patients": 0.5, "products": 0.7,
                 "pharmacy_drugs": 0.7, "invoices": 1.5, "pharmacy_drug_inventory": 1.5}

# Strings that utf8mb4_unicode_ci calls equal in groups, and some that it keeps apart
# (docs/collation.md: measured on MariaDB, and clinickv agrees on each).
TRICKY = [["LOT-A1", "lot-a1", "Lot-A1  "], ["José", "JOSE", "jose "], ["Straße", "STRASSE"],
          ["ﬁle-9", "FILE-9"], ["Œuvre", "oeuvre"], ["æther"], ["aether"], ["Øre"], ["ore"],
          ["Łódź"], ["lodz"], [" LOT-A1"], ["naïve", "NAIVE"]]

# MariaDB error numbers -> the clinickv code for the same refusal.
MARIADB_CODES = {1452: "fk_violation", 1062: "unique_violation", 1451: "restrict_violation",
                 4025: "invalid_value", 1265: "invalid_value", 1406: "invalid_value",
                 1264: "invalid_value", 1292: "invalid_value", 1366: "invalid_value",
                 1048: "not_null_violation", 1364: "not_null_violation"}

D = decimal.Decimal


def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n") + "'"


class Replay:
    def __init__(self, client, describe, rng):
        self.c = client
        self.rng = rng
        self.fac = RowFactory(client, describe, tenant=SLUG)
        self.t = {n: self.fac.tables[n] for n in TABLES}
        self.model = {n: {} for n in TABLES}
        # parent table -> [(child table, column, rule)], within the replayed tables
        self.refs = {n: [] for n in TABLES}
        for n in TABLES:
            for col, fk in self.t[n].fks.items():
                if fk["parent_table"] in self.refs and col not in ("tenant_id", "created_by",
                                                                     "updated_by"):
                    self.refs[fk["parent_table"]].append((n, col, fk["on_delete"]))
        self.lines = []       # SQL, one line per operation
        self.outcomes = []    # clinickv's outcome per line: None (accepted) or an error code
        self.kinds = []       # what each operation was meant to test
        self.order_dependent = 0
        self.foreign = {}     # table -> ids of rows of another tenant
        self.now = "2026-06-01T00:00:00.000Z"

    # -- values

    def params(self, table, **kw):
        return self.fac.params(table, **kw)

    def live(self, table):
        return [r for r in self.model[table].values() if r.get("deleted_at") is None]

    def any_row(self, table):
        rows = list(self.model[table].values())
        return self.rng.choice(rows) if rows else None

    def text_value(self, table, col, tricky=True):
        t = self.t[table]
        if tricky and col in t.unique_cols and self.rng.random() < 0.2:
            return self.rng.choice(self.rng.choice(TRICKY))
        return self.fac.value(table, col)

    def col_value(self, table, col, tricky=True):
        """A new valid value for a non-FK column; tricky: unique strings are sometimes
        taken from TRICKY, so that they collide (or do not) by the collation."""
        ct = self.t[table].types[col]
        if ct.kind == "enum":
            v = self.rng.choice(ct.enum)
            return v.upper() if self.rng.random() < 0.1 else v  # ENUMs match as the collation does
        if ct.kind in ("varchar", "char", "text"):
            return self.text_value(table, col, tricky)
        return self.fac.value(table, col, self.rng.randrange(1, 10 ** 6))

    def gen_row(self, table, tricky=True):
        """A valid-looking row whose parents are existing rows; None when a required
        parent table is empty. Operations meant to fail one way pass tricky=False, so
        that no unique string collides by chance and the refusal has one cause."""
        t, rng = self.t[table], self.rng
        row = {"id": str(uuid.uuid4())}
        for col in t.writable():
            ct = t.types[col]
            if col in t.fks:
                ptable = t.fks[col]["parent_table"]
                cands = list(self.model.get(ptable, {}))
                if t.required(col):
                    if not cands:
                        return None
                    row[col] = rng.choice(cands)
                elif cands and rng.random() < 0.5:
                    row[col] = rng.choice(cands)
                continue
            if ct.kind in ("blob", "varbinary"):
                continue
            if not (t.required(col) or rng.random() < 0.3):
                continue
            row[col] = self.col_value(table, col, tricky)
        for field, enc in t.phi.items():
            if not t.columns[enc]["nullable"] or rng.random() < 0.3:
                row[field] = self.fac.phi_value(table, field, rng.randrange(10 ** 6))
        try:
            self.fac.satisfy_checks(table, row, fixed=set(t.fks) | {"id"})
        except ValueError:
            return None
        return row

    # -- SQL

    def sql_value(self, table, col, v):
        t = self.t[table]
        if v is None:
            return "NULL"
        ct = t.types.get(col)
        if isinstance(v, bool):
            return "1" if v else "0"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, (bytes, bytearray)):
            return "X'%s'" % v.hex()
        if isinstance(v, (dict, list)):
            return sql_str(json.dumps(v, ensure_ascii=False))
        if ct is not None and ct.kind == "timestamp":
            m = re.fullmatch(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:\.\d+)?)Z?", v)
            if m:
                return "'%s %s'" % (m.group(1), m.group(2))
        return sql_str(v)

    def sql_columns(self, table, row, server_made):
        """Column -> SQL literal for a row map in wire form: PHI plain fields become a
        placeholder in their encrypted_* column; NOT NULL key ids get one when clinickv
        did not make them."""
        t = self.t[table]
        out = {}
        for col, v in row.items():
            if col in t.phi:
                enc = t.phi[col]
                out[enc] = "NULL" if v is None else "X'78'"
                continue
            if col not in t.columns:
                continue
            out[col] = self.sql_value(table, col, v)
        if not server_made:
            for col in t.order:
                if col.endswith("_key_id") and t.phi and not t.columns[col]["nullable"]:
                    out.setdefault(col, "'k1'")
        return out

    def insert_sql(self, table, row, server_made):
        cols = self.sql_columns(table, row, server_made)
        if not server_made:
            cols["tenant_id"] = sql_str(self.tenant_id)
            for col in ("created_at", "updated_at"):
                if col in self.t[table].columns:
                    cols[col] = self.sql_value(table, col, self.now)
        names = list(cols)
        return "INSERT INTO %s (%s) VALUES (%s);" % (table, ",".join(names),
                                                      ",".join(cols[n] for n in names))

    def update_sql(self, table, id, row, server_made):
        cols = self.sql_columns(table, row, server_made)
        for col in ("id", "tenant_id", "created_at", "created_by"):
            cols.pop(col, None)
        if not server_made and "updated_at" in self.t[table].columns:
            cols["updated_at"] = self.sql_value(table, "updated_at", self.now)
        sets = ",".join("%s=%s" % (k, v) for k, v in cols.items()) or "id=id"
        return "UPDATE %s SET %s WHERE id=%s;" % (table, sets, sql_str(id))

    # -- running one operation on clinickv

    def run(self, kind, method, params):
        try:
            return None, self.c.call(method, params)
        except RpcError as e:
            if e.code not in ("fk_violation", "unique_violation", "restrict_violation",
                              "invalid_value", "not_null_violation"):
                raise AssertionError("%s %s: unexpected %s: %s %s" % (kind, params.get("table"),
                                                                       e.code, e.message, e.details))
            return e.code, None

    def record(self, kind, outcome, line):
        self.kinds.append(kind)
        self.outcomes.append(outcome)
        self.lines.append(line)

    # -- operations

    def op_insert(self, table, kind="insert", overrides=None, tricky=None):
        if tricky is None:
            tricky = kind in ("insert", "insert_duplicate")
        row = self.gen_row(table, tricky)
        if row is None:
            return False
        row.update(overrides or {})
        t = self.t[table]
        if kind == "insert_missing_parent":
            fkcols = [c for c in t.fks if c in row and c not in ("tenant_id",)]
            if not fkcols:
                return False
            col = self.rng.choice(fkcols)
            ptable = t.fks[col]["parent_table"]
            foreign = self.foreign.get(ptable)
            row[col] = self.rng.choice(foreign) if foreign and self.rng.random() < 0.5 \
                else str(uuid.uuid4())
        elif kind == "insert_duplicate":
            if not t.unique or not self.model[table]:
                return False
            other = self.any_row(table)
            u = self.rng.choice(t.unique)
            for col in u["columns"]:
                if col == "tenant_id":
                    continue
                v = other.get(col)
                if t.is_text(col) and v is not None and self.rng.random() < 0.5:
                    v = RowFactory.variant(v)
                row[col] = v
        elif kind == "insert_check":
            names = [n for n, _ in t.checks]
            if not names:
                return False
            bad = self.fac.violate_check(table, self.rng.choice(names), row)
            if bad is None:
                return False
            row = bad
        elif kind == "insert_not_null":
            # Not TIMESTAMP columns given NULL: MariaDB (unlike MySQL, and unlike
            # PROTOCOL.md) stores the current time for NULL in a TIMESTAMP NOT NULL
            # column, also with explicit_defaults_for_timestamp (measured on 10.11).
            req = [c for c in t.writable() if not t.columns[c]["nullable"] and c not in t.phi
                   and (t.required(c) or t.types[c].kind != "timestamp")]
            if not req:
                return False
            col = self.rng.choice(req)
            if t.required(col):
                row.pop(col, None)
            else:
                row[col] = None
        elif kind == "insert_bad_value":
            cols = [c for c in t.writable() if t.types[c].kind in ("enum", "varchar")
                    and c not in t.fks]
            if not cols:
                return False
            col = self.rng.choice(cols)
            ct = t.types[col]
            row[col] = "no_such_value" if ct.kind == "enum" else "é" * (ct.length + 1)
        err, res = self.run(kind, "row.insert", self.params(table, row=row))
        if err is None:
            self.model[table][res["id"]] = res
            self.record(kind, None, self.insert_sql(table, res, True))
        else:
            self.record(kind, err, self.insert_sql(table, row, False))
        return True

    def op_update(self, table, kind="update"):
        rows = self.live(table)
        if not rows:
            return False
        t, rng = self.t[table], self.rng
        r = rng.choice(rows)
        cols = [c for c in t.writable() if c not in t.phi.values()]
        sets = {}
        if kind == "update":
            # One column: one possible cause of refusal.
            for col in rng.sample(cols, 1):
                if t.types[col].kind in ("blob", "varbinary"):
                    continue
                if col in t.fks:
                    ptable = t.fks[col]["parent_table"]
                    cands = [i for i in self.model.get(ptable, {}) if i != r["id"]]
                    if not t.required(col) and (not cands or rng.random() < 0.3):
                        sets[col] = None
                    elif cands:
                        sets[col] = rng.choice(cands)
                elif t.columns[col]["nullable"] and rng.random() < 0.2:
                    sets[col] = None
                else:
                    sets[col] = self.col_value(table, col)
        elif kind == "update_missing_parent":
            fkcols = [c for c in t.fks if c in cols]
            if not fkcols:
                return False
            col = rng.choice(fkcols)
            foreign = self.foreign.get(t.fks[col]["parent_table"])
            sets[col] = rng.choice(foreign) if foreign and rng.random() < 0.5 else str(uuid.uuid4())
        elif kind == "update_duplicate":
            others = [o for o in self.model[table].values() if o["id"] != r["id"]]
            if not t.unique or not others:
                return False
            other = rng.choice(others)
            u = rng.choice(t.unique)
            for col in u["columns"]:
                if col != "tenant_id":
                    v = other.get(col)
                    if t.is_text(col) and v is not None and rng.random() < 0.5:
                        v = RowFactory.variant(v)
                    sets[col] = v
        elif kind == "update_check":
            names = [n for n, _ in t.checks]
            if not names:
                return False
            name = rng.choice(names)
            merged = {k: v for k, v in r.items() if k in t.columns}
            bad = self.fac.violate_check(table, name, merged)
            if bad is None:
                return False
            expr_cols = [c for c in re.findall(r"[a-z_]+", dict(
                (c["name"], c["expression"]) for c in t.desc["checks"])[name]) if c in bad]
            sets = {c: bad[c] for c in expr_cols}
        if not sets:
            return False
        err, res = self.run(kind, "row.update", self.params(table, id=r["id"], set=sets))
        if err is None:
            self.model[table][r["id"]] = res
            self.record(kind, None, self.update_sql(table, r["id"], res, True))
        else:
            self.record(kind, err, self.update_sql(table, r["id"], sets, False))
        return True

    def op_soft_delete(self, table):
        if "deleted_at" not in self.t[table].columns:
            return False
        rows = self.live(table)
        if not rows:
            return False
        r = self.rng.choice(rows)
        err, res = self.run("soft_delete", "row.delete", self.params(table, id=r["id"], mode="soft"))
        assert err is None and res == {"deleted": 1, "cascaded": {}, "set_null": {}}, (err, res)
        now = self.c.call("row.get", self.params(table, id=r["id"], with_deleted=True))
        assert now["deleted_at"] is not None
        self.model[table][r["id"]] = now
        self.record("soft_delete", None, self.update_sql(table, r["id"], {
            "deleted_at": now["deleted_at"], "updated_at": now["updated_at"],
            "updated_by": now.get("updated_by")}, True))
        return True

    def op_restore(self, table):
        rows = [r for r in self.model[table].values() if r.get("deleted_at") is not None]
        if not rows:
            return False
        r = self.rng.choice(rows)
        err, res = self.run("restore", "row.restore", self.params(table, id=r["id"]))
        assert err is None and res["deleted_at"] is None, (err, res)
        self.model[table][r["id"]] = res
        self.record("restore", None, self.update_sql(table, r["id"], {
            "deleted_at": None, "updated_at": res["updated_at"],
            "updated_by": res.get("updated_by")}, True))
        return True

    def plan_delete(self, table, id):
        """The model's hard delete: (rows that go, survivors blocking, SET NULLs, order-dependent
        RESTRICT children) as clinickv defines it (order-independent)."""
        gone = [(table, id)]
        seen = {(table, id)}
        i = 0
        while i < len(gone):
            pt, pid = gone[i]
            i += 1
            for ct, col, rule in self.refs[pt]:
                if rule != "CASCADE":
                    continue
                for cid, crow in self.model[ct].items():
                    if crow.get(col) == pid and (ct, cid) not in seen:
                        seen.add((ct, cid))
                        gone.append((ct, cid))
        blockers, nulls, inner = [], {}, []
        for pt, pid in gone:
            for ct, col, rule in self.refs[pt]:
                for cid, crow in self.model[ct].items():
                    if crow.get(col) != pid:
                        continue
                    if rule == "RESTRICT":
                        (inner if (ct, cid) in seen else blockers).append((ct, cid))
                    elif rule == "SET NULL" and (ct, cid) not in seen:
                        nulls.setdefault((ct, cid), set()).add(col)
        return gone, blockers, nulls, inner

    def op_hard_delete(self, table):
        r = self.any_row(table)
        if r is None:
            return False
        return self.op_hard_delete_row(table, r)

    def op_hard_delete_row(self, table, r):
        gone, blockers, nulls, inner = self.plan_delete(table, r["id"])
        err, res = self.run("hard_delete", "row.delete", self.params(table, id=r["id"], mode="hard"))
        assert (err == "restrict_violation") == bool(blockers), (table, err, blockers)
        line = "DELETE FROM %s WHERE id=%s;" % (table, sql_str(r["id"]))
        if err is None:
            cascaded, set_null = {}, {}
            for ct, cid in gone[1:]:
                cascaded[ct] = cascaded.get(ct, 0) + 1
            for (ct, cid) in nulls:
                set_null[ct] = set_null.get(ct, 0) + 1
            got_c = {k: v for k, v in res["cascaded"].items() if k in self.model}
            got_n = {k: v for k, v in res["set_null"].items() if k in self.model}
            assert got_c == cascaded and got_n == set_null, (table, res, cascaded, set_null)
            for ct, cid in gone:
                del self.model[ct][cid]
            for (ct, cid), cols in nulls.items():
                for col in cols:
                    self.model[ct][cid][col] = None
            if inner:
                # InnoDB may meet these RESTRICT children before their turn comes in the
                # cascade. First a probe of the plain delete, rolled back whatever happens
                # (not compared: it shows whether InnoDB's order refused it); then the
                # delete as a tenant offboarding script would run it: those children first.
                self.order_dependent += 1
                self.record("probe", None, "START TRANSACTION; %s ROLLBACK;" % line)
                pre = {}
                for ct, cid in inner:
                    pre.setdefault(ct, []).append(cid)
                line = " ".join("DELETE FROM %s WHERE id IN (%s);" % (ct, ",".join(map(sql_str, ids)))
                                for ct, ids in pre.items()) + " " + line
        self.record("hard_delete", err, line)
        return True

    def paid_clinic_delete(self):
        """A clinic whose invoice has a payment taken at that clinic: clinickv deletes it
        (the payment goes with the clinic), InnoDB refuses the plain DELETE (README:
        "Deleting a tenant, clinic, patient or invoice fails with error 1451 while a
        payment still references one of its invoices")."""
        clinics = list(self.model["clinics"])
        patients = [p for p in self.model["patients"].values() if p["clinic_id"] in clinics]
        if not patients:
            return False
        p = self.rng.choice(patients)
        clinic = p["clinic_id"]
        before = len(self.model["invoices"])
        self.op_insert("invoices", overrides={"clinic_id": clinic, "patient_id": p["id"]},
                       tricky=False)
        if len(self.model["invoices"]) == before:
            return False
        inv = list(self.model["invoices"])[-1]
        self.op_insert("payments", overrides={"clinic_id": clinic, "invoice_id": inv},
                       tricky=False)
        r = self.model["clinics"][clinic]
        gone, blockers, nulls, inner = self.plan_delete("clinics", r["id"])
        if blockers:
            return False
        n = len(self.lines)
        self.op_hard_delete_row("clinics", r)
        return len(self.lines) > n


def run_mariadb(db, database, lines):
    """Run the script with --force, so every statement runs; {line number: error}.
    (tests/mariadb.py's sql() stops at the first error, and the replay needs them all.)"""
    cmd = [db.programs["client"], "--no-defaults", "--socket=" + db.socket, "--user=root",
           "--default-character-set=utf8mb4",
           "--init-command=SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
           "--force", "--batch", "--database=" + database]
    text = "SET time_zone = '+00:00';\n" + "\n".join(lines) + "\n"
    p = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=600)
    errors = {}
    for m in re.finditer(r"^ERROR (\d+) \(\w+\) at line (\d+): (.*)$",
                         p.stderr.decode("utf-8", "replace"), re.M):
        # Line 1 is the SET: lines[k] is on line k + 2.
        errors.setdefault(int(m.group(2)) - 2, (int(m.group(1)), m.group(3)))
    return errors


def normalise(table, ftable, col, v):
    """A value from either side in one comparable form."""
    if v is None:
        return None
    ct = ftable.types[col]
    if ct.kind == "timestamp":
        s = v.replace("T", " ").rstrip("Z")
        if ct.fsp == 0:
            s = s[:19]
        else:
            s = s[:19] + "." + (s[20:23] if len(s) > 19 else "000").ljust(3, "0")
        return s
    if ct.kind in ("decimal", "int"):
        return D(v)
    if ct.kind == "bool":
        return D(int(v)) if isinstance(v, (bool, int)) else D(v)
    if ct.kind == "json":
        return json.loads(v) if isinstance(v, str) else v
    return v


def main():
    avail = mariadb.available()
    if not avail:
        print("SKIP: " + avail.reason)
        sys.exit(77)
    print("seed %d, %d operations" % (SEED, OPS), flush=True)
    rng = random.Random(SEED)
    started = time.time()
    with Server(extra_args=["--durability", "relaxed"]) as srv, mariadb.server() as db:
        srv.start()
        system = srv.system()
        describe = system.call("schema.describe")["tables"]
        rp = Replay(system, describe, rng)

        # Rows of another tenant (the demo one), to name as parents that are "missing".
        admin = srv.admin()
        other = RowFactory(admin, describe)
        for table in TABLES:
            rp.foreign.setdefault(table, []).append(other.make(table)["id"])

        tenant = system.call("row.insert", {"table": "tenants",
                                            "row": {"slug": SLUG, "name": "Replay"}})
        rp.tenant_id = tenant["id"]
        rp.t["tenants"] = rp.fac.tables["tenants"]
        head = rp.insert_sql("tenants", tenant, True)

        db.sql("CREATE DATABASE replay CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        for name in ("00-master-schema.sql", "01-pharmacy-module.sql"):
            db.source(os.path.join(SOURCE, "schema", name), database="replay")

        # A base population in dependency order, then the random mix.
        for _ in range(4):
            for table in TABLES:
                rp.op_insert(table)
        kinds = [("insert", 34), ("insert_missing_parent", 5), ("insert_duplicate", 6),
                 ("insert_check", 4), ("insert_not_null", 2), ("insert_bad_value", 2),
                 ("update", 18), ("update_missing_parent", 3), ("update_duplicate", 4),
                 ("update_check", 3), ("soft_delete", 4), ("restore", 2), ("hard_delete", 6)]
        names = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        del_weights = [DELETE_WEIGHT.get(t, 1.0) for t in TABLES]
        soft = [t for t in TABLES if "deleted_at" in rp.t[t].columns]
        while len(rp.lines) < OPS:
            kind = rng.choices(names, weights)[0]
            if kind == "hard_delete":
                rp.op_hard_delete(rng.choices(TABLES, del_weights)[0])
            elif kind == "soft_delete":
                rp.op_soft_delete(rng.choice(soft))
            elif kind == "restore":
                rp.op_restore(rng.choice(soft))
            elif kind.startswith("insert"):
                rp.op_insert(rng.choice(TABLES), kind)
            else:
                rp.op_update(rng.choice(TABLES), kind)
        # A few deletes where only the order of InnoDB's visits can refuse.
        for _ in range(3):
            for _ in range(4):
                for table in TABLES:
                    rp.op_insert(table)
            for _ in range(10):
                if rp.paid_clinic_delete():
                    break
        ck_time = time.time() - started

        # clinickv's own view: the checker, and the model's row counts.
        p = srv.cli("check", "--data", srv.data, "--json", check=False)
        rep = json.loads(p.stdout)
        assert p.returncode == 0 and rep["ok"], rep["problems"][:20]
        p = srv.cli("check", "--data", srv.data, "--tenant", SLUG, "--json", check=False)
        mine = json.loads(p.stdout)
        for table in TABLES:
            assert mine["rows"][table] == len(rp.model[table]), (table, mine["rows"][table],
                                                                  len(rp.model[table]))
            for r in rp.model[table].values():
                got = system.call("row.get", rp.params(table, id=r["id"], with_deleted=True))
                assert got == r, (table, got, r)

        # MariaDB: the same operations, one line each (line 1 is the tenant).
        errors = run_mariadb(db, "replay", [head] + rp.lines)
        assert -1 not in errors and 0 not in errors, (errors.get(-1), errors.get(0))
        mismatches = []
        probes_refused = 0
        for i, (kind, ours) in enumerate(zip(rp.kinds, rp.outcomes)):
            theirs = errors.get(i + 1)
            if kind == "probe":
                probes_refused += bool(theirs and theirs[0] == 1451)
                continue
            theirs_code = MARIADB_CODES.get(theirs[0], "mariadb %d" % theirs[0]) if theirs else None
            if theirs_code != ours:
                mismatches.append("op %d %s: clinickv %s, MariaDB %s\n    %s" % (
                    i, kind, ours or "accepted", theirs and "%d %s" % theirs or "accepted",
                    rp.lines[i][:400]))
        assert not mismatches, "%d different decisions:\n%s" % (len(mismatches),
                                                                  "\n".join(mismatches[:20]))

        compared = 0
        diffs = []
        for table in TABLES:
            ft = rp.t[table]
            cols = [c for c in ft.order if not c.startswith("encrypted_") and c != "password_hash"]
            out = db.sql("SET time_zone = '+00:00'; SELECT %s FROM %s WHERE tenant_id = %s"
                         % (",".join(cols), table, sql_str(rp.tenant_id)), database="replay")
            theirs = {row[0]: dict(zip(cols, row)) for row in out}
            assert cols[0] == "id"
            ours = rp.model[table]
            if set(theirs) != set(ours):
                diffs.append("%s: ids only in clinickv %s, only in MariaDB %s" % (
                    table, sorted(set(ours) - set(theirs))[:5], sorted(set(theirs) - set(ours))[:5]))
                continue
            for id, row in ours.items():
                for col in cols:
                    a = normalise(table, ft, col, row.get(col))
                    b = normalise(table, ft, col, theirs[id][col])
                    if a != b:
                        diffs.append("%s %s.%s: clinickv %r, MariaDB %r" % (table, id, col, a, b))
                compared += 1
        assert not diffs, "%d differences:\n%s" % (len(diffs), "\n".join(diffs[:30]))

        refused = {}
        for o in (o for o, k in zip(rp.outcomes, rp.kinds) if k != "probe"):
            if o:
                refused[o] = refused.get(o, 0) + 1
        ops = [o for o, k in zip(rp.outcomes, rp.kinds) if k != "probe"]
        accepted = sum(1 for o in ops if o is None)
        print("%d operations: %d accepted, %d refused (%s)" % (
            len(ops), accepted, len(ops) - accepted,
            ", ".join("%s %d" % kv for kv in sorted(refused.items()))))
        by_kind = {}
        for k in rp.kinds:
            if k != "probe":
                by_kind[k] = by_kind.get(k, 0) + 1
        print("by kind: " + ", ".join("%s %d" % kv for kv in sorted(by_kind.items())))
        print("same decision on all %d; %d rows in %d tables equal, column by column"
              % (len(rp.outcomes) - rp.order_dependent, compared, len(TABLES)))
        print("%d order-dependent deletes (InnoDB refused %d of them as plain DELETEs), sent to "
              "MariaDB RESTRICT children first" % (rp.order_dependent, probes_refused))
        assert rp.order_dependent >= 1 and probes_refused >= 1
        print("clinickv %.1f s, total %.1f s" % (ck_time, time.time() - started))
        srv.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
