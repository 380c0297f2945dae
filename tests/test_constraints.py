"""Every constraint of the DDL, exercised through a real server, generated from
schema.describe rather than written one by one.

- Foreign keys (all 168): an insert naming a missing parent is refused with
  fk_violation {constraint, column, parent_table}, and a hard delete of the parent
  has exactly the effect of its ON DELETE rule (CASCADE: the child is gone;
  SET NULL: only that column changed; RESTRICT: restrict_violation
  {constraint, child_table, count} and nothing changed). Which row a client can
  make name a missing parent depends on the column:
    * value columns (81): the client writes them; the test sends a random id on
      insert, and another tenant's existing id on update (treated as missing);
    * created_by/updated_by (49): the server writes the acting user; a session of a
      user who has since been hard-deleted tries to write (insert: created_by,
      update: updated_by). ON DELETE: deleting a user who wrote rows in every table;
    * tenant_id (38): always the session's tenant; a session of a tenant deleted
      with `clinickv tenant delete` (while the server runs) tries to write.
      ON DELETE: that deletion, whose per-table counts must equal the tenant's rows.
- Unique constraints (all 35): exact duplicates, case and trailing-space variants
  of string keys, updates onto another row's key, NULLs that never collide, a
  soft-deleted row holding its key, and keys of tenant tables holding per tenant
  (tenants' own keys are global).
- CHECK constraints (all 37): an insert and an update that make just that CHECK
  false are refused with invalid_value {constraint}.
- NOT NULL, ENUM, lengths (in characters) and TIMESTAMP's range, for every table.
- Soft delete and restore on the four tables that have deleted_at.
- Indexes (all 253): "exercised" means that rows were written to the index's table
  (inserted, updated, SET NULL-ed, deleted around them) and that `clinickv check`,
  run read-only beside the running server, confirmed with zero problems that the
  index holds exactly one entry per row of its table, each pointing at a row that
  has it; for the 40 PRIMARY keys, that the table has rows which decode and satisfy
  the catalog.

The test prints how many of each it exercised and fails unless those numbers equal
the DDL's (schema/README.md "Measured counts").
"""

import json
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckserver import ADMIN_EMAIL, RpcError, Server, run_tests  # noqa: E402
from rowfactory import RowFactory  # noqa: E402

# shared/schema/README.md, "Measured counts" (MariaDB information_schema, 00 + 01).
DDL_FKS, DDL_UNIQUE, DDL_INDEXES, DDL_CHECKS, DDL_TABLES = 168, 35, 253, 37, 40
AUDIT = ("created_by", "updated_by")
PASSWORD = "a long enough test password"


class World:
    srv = None
    admin = None       # the demo tenant's admin
    system = None      # a system administrator on the Unix socket
    tables = None      # name -> describe map
    fac = None         # RowFactory of the demo tenant (admin)
    sysfac = None      # RowFactory for the global tables
    t2 = None          # the second tenant: {"slug", "client", "fac", "rows", "pending"}
    # What was exercised: sets of constraint names.
    fk_insert = set()
    fk_update = set()
    fk_on_delete = set()
    unique = set()
    checks = set()
    indexes = 0


W = World()


def expect(code, fn, *args, **details):
    """Call fn(*args) expecting RpcError `code` whose details include `details`."""
    try:
        res = fn(*args)
    except RpcError as e:
        assert e.code == code, "expected %s, got %s: %s %s" % (code, e.code, e.message, e.details)
        for k, v in details.items():
            assert e.details.get(k) == v, "detail %s: expected %r, got %r (%s)" % (
                k, v, e.details.get(k), e.message)
        return e
    raise AssertionError("expected %s, got success: %r" % (code, res))


def fks(kind):
    """(table, fk) of every FK of a kind: "value", "audit" or "tenant"."""
    out = []
    for name, t in W.tables.items():
        for fk in t["foreign_keys"]:
            col = fk["column"]
            k = "tenant" if col == "tenant_id" else "audit" if col in AUDIT else "value"
            if k == kind:
                out.append((name, fk))
    return out


def insert(client, fac, table, row):
    return client.call("row.insert", fac.params(table, row=row))


def update(client, fac, table, id, set_):
    return client.call("row.update", fac.params(table, id=id, set=set_))


def delete(client, fac, table, id, mode="hard"):
    return client.call("row.delete", fac.params(table, id=id, mode=mode))


def login(tenant, email, password):
    c = W.srv.client()
    c.login(tenant, email, password)
    return c


def make_user(fac, role="tenant_admin"):
    """A user who can log in; returns (row, email)."""
    email = "u%s@example.com" % uuid.uuid4().hex[:10]
    row = fac.make("users", {"email": email, "password": PASSWORD, "role": role,
                             "status": "active"})
    return row, email


def check_json(*extra):
    p = W.srv.cli("check", "--data", W.srv.data, "--json", *extra, check=False)
    assert p.returncode in (0, 1), "clinickv check failed (%d): %s" % (p.returncode, p.stderr)
    return p.returncode, json.loads(p.stdout)


# ----------------------------------------------------------------------------- setup

def test_setup_and_ddl_counts():
    W.srv = Server(extra_args=["--durability", "relaxed"])
    W.srv.start()
    W.admin = W.srv.admin()
    W.system = W.srv.system()
    desc = W.admin.call("schema.describe")["tables"]
    W.tables = {t["name"]: t for t in desc}
    W.fac = RowFactory(W.admin, desc)
    W.sysfac = RowFactory(W.system, desc, tenant=W.srv.tenant)
    assert len(W.tables) == DDL_TABLES
    assert sum(len(t["foreign_keys"]) for t in desc) == DDL_FKS
    assert sum(len(t["unique"]) for t in desc) == DDL_UNIQUE
    assert sum(len(t["indexes"]) for t in desc) == DDL_INDEXES
    assert sum(len(t["checks"]) for t in desc) == DDL_CHECKS
    assert len(fks("value")) + len(fks("audit")) + len(fks("tenant")) == DDL_FKS
    # The second tenant, made with the command line while the server runs.
    slug = "second"
    W.srv.cli("tenant", "create", "--data", W.srv.data, "--tenant", slug, "--admin-email",
              ADMIN_EMAIL, env={"CLINICKV_ADMIN_PASSWORD": PASSWORD})
    c2 = login(slug, ADMIN_EMAIL, PASSWORD)
    W.t2 = {"slug": slug, "client": c2, "fac": RowFactory(c2, desc), "rows": {}}


def factory(table):
    return W.sysfac if W.fac.tables[table].global_table else W.fac


def client_for(table):
    return W.system if W.fac.tables[table].global_table else W.admin


# ----------------------------------------------------------------------------- foreign keys

def test_fk_value_columns_missing_parent():
    """Insert with a random parent id; update to another tenant's existing parent."""
    fac, t2fac = W.fac, W.t2["fac"]
    for table, fk in fks("value"):
        col, parent = fk["column"], fk["parent_table"]
        row = fac.build(table)
        row[col] = str(uuid.uuid4())
        expect("fk_violation", insert, W.admin, fac, table, row, constraint=fk["name"],
               column=col, parent_table=parent, table=table)
        W.fk_insert.add(fk["name"])
        # A child that exists, pointed at the other tenant's row of the parent table.
        child = fac.make(table)
        foreign = t2fac.make(parent)["id"]
        expect("fk_violation", update, W.admin, fac, table, child["id"], {col: foreign},
               constraint=fk["name"], column=col, parent_table=parent)
        assert fac.get(table, child["id"])[col] == child.get(col)
        W.fk_update.add(fk["name"])


def test_fk_audit_columns_deleted_user():
    """A tenant admin's session outlives the admin's row: created_by/updated_by would
    name a missing user, and the server refuses rather than store a dangling id."""
    fac = W.fac
    ghost, email = make_user(fac)
    stale = login(W.srv.tenant, email, PASSWORD)
    # Rows for the stale session to write and update, made before the user goes.
    pending, existing = {}, {}
    for table, fk in fks("audit"):
        if fk["column"] == "created_by":
            pending[table] = fac.build(table)
        else:
            existing[table] = fac.make(table)
    res = delete(W.admin, fac, "users", ghost["id"])
    assert res["deleted"] == 1
    for table, fk in fks("audit"):
        if fk["column"] == "created_by":
            expect("fk_violation", insert, stale, fac, table, pending[table],
                   constraint=fk["name"], column="created_by", parent_table="users")
        else:
            row = existing[table]
            expect("fk_violation", update, stale, fac, table, row["id"], {},
                   constraint=fk["name"], column="updated_by", parent_table="users")
            assert fac.get(table, row["id"])["updated_by"] == row["updated_by"]
        W.fk_insert.add(fk["name"])
    stale.close()


def test_on_delete_audit_columns():
    """A user who wrote a row of every table is hard-deleted: SET NULL on every
    created_by/updated_by that named them, nothing else changed, no row removed."""
    fac = W.fac
    author, email = make_user(fac)
    conn = login(W.srv.tenant, email, PASSWORD)
    afac = RowFactory(conn, list(W.tables.values()))
    written = {}
    for table in sorted({t for t, _ in fks("audit")}):
        row = afac.make(table)
        written[table] = fac.get(table, row["id"])
        for col in AUDIT:
            if col in written[table]:
                assert written[table][col] == author["id"], (table, col)
    conn.close()
    res = delete(W.admin, fac, "users", author["id"])
    for table, before in written.items():
        after = fac.get(table, before["id"])
        assert res["set_null"].get(table, 0) >= 1, (table, res)
        for col in before:
            if col in AUDIT:
                assert after[col] is None, (table, col, after[col])
            else:
                assert after[col] == before[col], (table, col, before[col], after[col])
    for table, fk in fks("audit"):
        W.fk_on_delete.add(fk["name"])


def test_on_delete_value_columns():
    """For every value FK: a fresh parent, one child naming it, a hard delete of the parent."""
    fac = W.fac
    for table, fk in fks("value"):
        col, ptable, rule = fk["column"], fk["parent_table"], fk["on_delete"]
        parent = fac.make(ptable)
        child = fac.make(table, {col: parent["id"]})
        before = fac.get(table, child["id"])
        if rule == "RESTRICT":
            expect("restrict_violation", delete, W.admin, fac, ptable, parent["id"],
                   constraint=fk["name"], child_table=table, count=1)
            assert fac.get(table, child["id"]) == before
            assert fac.exists(ptable, parent["id"])
            delete(W.admin, fac, table, child["id"])
            res = delete(W.admin, fac, ptable, parent["id"])
            assert res["deleted"] == 1
        else:
            res = delete(W.admin, fac, ptable, parent["id"])
            assert res["deleted"] == 1
            assert not fac.exists(ptable, parent["id"])
            # The server's own audit trail adds payment_audit_log rows of its own.
            exact = table != "payment_audit_log"
            if rule == "CASCADE":
                assert not fac.exists(table, child["id"]), fk["name"]
                n = res["cascaded"].get(table, 0)
                assert n == 1 or (not exact and n >= 1), (fk["name"], res)
            else:
                after = fac.get(table, child["id"])
                assert after[col] is None, fk["name"]
                for c in before:
                    if c != col:
                        assert after[c] == before[c], (fk["name"], c, before[c], after[c])
                n = res["set_null"].get(table, 0)
                assert n == 1 or (not exact and n >= 1), (fk["name"], res)
        W.fk_on_delete.add(fk["name"])


# ----------------------------------------------------------------------------- unique keys

def test_unique_constraints():
    t2fac, t2 = W.t2["fac"], W.t2["client"]
    for table, t in W.tables.items():
        fac, client = factory(table), client_for(table)
        ft = fac.tables[table]
        for u in t["unique"]:
            cols = [c for c in u["columns"] if c != "tenant_id"]
            a = fac.make(table, fill_cols=cols)
            key = {c: a[c] for c in cols}
            dup = fac.build(table, key, fill_cols=cols)
            e = expect("unique_violation", insert, client, fac, table, dup, constraint=u["name"])
            assert e.details["columns"] == u["columns"], e.details
            strings = [c for c in cols if ft.is_text(c)]
            if strings:
                variant = dict(key, **{c: RowFactory.variant(a[c]) for c in strings})
                dup = fac.build(table, variant, fill_cols=cols)
                expect("unique_violation", insert, client, fac, table, dup, constraint=u["name"])
            # Moving another row onto the key.
            b = fac.make(table, fill_cols=cols)
            expect("unique_violation", update, client, fac, table, b["id"], key,
                   constraint=u["name"])
            # NULL never collides.
            for c in cols:
                if t_nullable(t, c):
                    nul = dict(key, **{c: None})
                    fac.make(table, nul, fill_cols=cols)
                    fac.make(table, nul, fill_cols=cols)
            # Keys of tenant tables hold per tenant: the same values elsewhere are fine.
            if not ft.global_table and not any(c in ft.fks for c in cols):
                insert(t2, t2fac, table, t2fac.build(table, key, fill_cols=cols))
            W.unique.add(u["name"])
    # A soft-deleted row keeps its key.
    for table in ("users", "patients"):
        u = W.tables[table]["unique"][0]
        cols = [c for c in u["columns"] if c != "tenant_id"]
        a = W.fac.make(table)
        r = delete(W.admin, W.fac, table, a["id"], mode="soft")
        assert r["deleted"] == 1
        dup = W.fac.build(table, {c: a[c] for c in cols})
        expect("unique_violation", insert, W.admin, W.fac, table, dup, constraint=u["name"])


def t_nullable(t, col):
    return next(c for c in t["columns"] if c["name"] == col)["nullable"]


# ----------------------------------------------------------------------------- CHECKs, values

def test_check_constraints():
    for table, t in W.tables.items():
        fac, client = factory(table), client_for(table)
        for ck in t["checks"]:
            row = fac.build(table)
            bad = fac.violate_check(table, ck["name"], row)
            assert bad is not None, "no row violates %s" % ck["name"]
            expect("invalid_value", insert, client, fac, table, bad, constraint=ck["name"])
            a = fac.make(table)
            cols = [c for c in re.findall(r"[a-z_]+", ck["expression"]) if c in bad]
            expect("invalid_value", update, client, fac, table, a["id"],
                   {c: bad[c] for c in cols}, constraint=ck["name"])
            W.checks.add(ck["name"])


def test_values_not_null_enum_length_timestamp():
    counts = {"not_null": 0, "enum": 0, "length": 0, "timestamp": 0}
    for table, t in W.tables.items():
        fac, client = factory(table), client_for(table)
        ft = fac.tables[table]
        writable = ft.writable()
        base = fac.build(table)
        req = [c for c in writable if ft.required(c) and c not in ft.fks]
        if req:
            row = dict(base)
            row.pop(req[0], None)
            expect("not_null_violation", insert, client, fac, table, row, column=req[0])
            counts["not_null"] += 1
        dflt = [c for c in writable if not t_nullable(t, c) and ft.columns[c].get("default")
                is not None]
        if dflt:
            expect("not_null_violation", insert, client, fac, table, dict(base, **{dflt[0]: None}),
                   column=dflt[0])
            counts["not_null"] += 1
        for c in writable:
            ct = ft.types[c]
            if ct.kind == "enum":
                expect("invalid_value", insert, client, fac, table,
                       dict(base, **{c: "no_such_" + c}), column=c)
                counts["enum"] += 1
                break
        for c in writable:
            ct = ft.types[c]
            if ct.kind == "varchar" and ft.is_text(c) and c not in ft.unique_cols and \
                    ct.length <= 1000:
                # Lengths count characters: n of 'é' fit, n + 1 do not.
                expect("invalid_value", insert, client, fac, table,
                       dict(base, **{c: "é" * (ct.length + 1)}), column=c)
                ok = fac.insert(table, dict(base, **{c: "é" * ct.length}))
                assert ok[c] == "é" * ct.length
                base = fac.build(table)
                counts["length"] += 1
                break
        for c in writable:
            ct = ft.types[c]
            if ct.kind == "timestamp":
                for bad in ("2038-01-19T03:14:08Z", "1970-01-01T00:00:00Z"):
                    expect("invalid_value", insert, client, fac, table, dict(base, **{c: bad}),
                           column=c)
                row = dict(base, **{c: "2038-01-19T03:14:07Z"})
                fac.satisfy_checks(table, row, fixed={c})
                ok = fac.insert(table, row)
                assert ok[c] == "2038-01-19T03:14:07.000Z", ok[c]
                counts["timestamp"] += 1
                break
        # And one plain valid row, so every table (global ones too) has rows.
        fac.make(table)
    print("  values: %(not_null)d NOT NULL, %(enum)d ENUM, %(length)d length, "
          "%(timestamp)d TIMESTAMP range refusals" % counts)


def test_soft_delete_and_restore():
    fac = W.fac
    soft = [n for n, t in W.tables.items() if any(c["name"] == "deleted_at" for c in t["columns"])]
    assert sorted(soft) == ["appointments", "clinical_notes", "patients", "users"], soft
    for table in soft:
        a = fac.make(table)
        # No mode: soft, on the tables that have deleted_at.
        res = W.admin.call("row.delete", fac.params(table, id=a["id"]))
        assert res == {"deleted": 1, "cascaded": {}, "set_null": {}}, res
        expect("not_found", W.admin.call, "row.get", fac.params(table, id=a["id"]))
        gone = fac.get(table, a["id"], with_deleted=True)
        assert gone["deleted_at"] is not None
        expect("not_found", update, W.admin, fac, table, a["id"], {})
        expect("not_found", delete, W.admin, fac, table, a["id"], "soft")
        # A soft-deleted parent still satisfies a foreign key, as in MySQL.
        children = [(c, fk) for c, fk in fks("value") if fk["parent_table"] == table]
        child_table, fk = children[0]
        fac.make(child_table, {fk["column"]: a["id"]})
        back = W.admin.call("row.restore", fac.params(table, id=a["id"]))
        assert back["deleted_at"] is None
        assert fac.get(table, a["id"], with_deleted=False)["id"] == a["id"]
    # Tables without deleted_at: no soft delete, and no mode means hard.
    inv = fac.make("invoices")
    expect("bad_request", delete, W.admin, fac, "invoices", inv["id"], "soft")
    res = W.admin.call("row.delete", fac.params("invoices", id=inv["id"]))
    assert res["deleted"] == 1 and not fac.exists("invoices", inv["id"])


# ----------------------------------------------------------------------------- tenants

def test_fk_tenant_deleted_tenant():
    """The second tenant gets a row in every tenant table, is deleted with
    `clinickv tenant delete` while the server runs, and its still-open session then
    tries to write: every tenant_id FK refuses."""
    t2, t2fac, slug = W.t2["client"], W.t2["fac"], W.t2["slug"]
    tenant_fks = dict((table, fk) for table, fk in fks("tenant"))
    for table in tenant_fks:
        t2fac.make(table)
    pending = {table: t2fac.build(table) for table in tenant_fks}
    code, before = check_json("--tenant", slug)
    assert code == 0 and before["ok"], before["problems"]
    p = W.srv.cli("tenant", "delete", "--data", W.srv.data, "--tenant", slug)
    removed = {m.group(1): int(m.group(2))
               for m in re.finditer(r"^  (\w+) +(\d+)$", p.stdout, re.M)}
    for table in tenant_fks:
        # CASCADE: every row of the tenant, counted per table.
        assert removed.get(table, 0) == before["rows"][table] > 0, (table, removed, before["rows"])
        W.fk_on_delete.add(tenant_fks[table]["name"])
    for table, fk in tenant_fks.items():
        # tenant_id's FK comes first in every table, so it is the one reported.
        assert W.tables[table]["foreign_keys"][0] == fk, table
        expect("fk_violation", insert, t2, t2fac, table, pending[table], constraint=fk["name"],
               column="tenant_id", parent_table="tenants")
        W.fk_insert.add(fk["name"])
    t2.close()
    p = W.srv.cli("check", "--data", W.srv.data, "--tenant", slug, check=False)
    assert p.returncode == 3 and "no tenant" in p.stderr, (p.returncode, p.stderr)


# ----------------------------------------------------------------------------- the checker

def test_clinickv_check_confirms_every_index():
    code, rep = check_json()
    assert code == 0 and rep["ok"] and rep["problems_total"] == 0, rep["problems"]
    exercised = 0
    for table, t in W.tables.items():
        rows = rep["rows"][table]
        assert rows > 0, "no %s rows" % table
        entries = rep["index_entries"][table]
        for ix in t["indexes"]:
            # One entry per row, each found from its row and pointing back at it.
            assert entries[ix["name"]] == rows, (table, ix["name"], entries[ix["name"]], rows)
            exercised += 1
    assert rep["entries_total"] == rep["entries_verified"]
    W.indexes = exercised
    text = W.srv.cli("check", "--data", W.srv.data).stdout
    assert "no problems" in text


def test_summary():
    print("  exercised: %d FKs with a missing parent (of %d), %d FK ON DELETE rules, "
          "%d FKs updated to another tenant's row" % (len(W.fk_insert), DDL_FKS,
                                                      len(W.fk_on_delete), len(W.fk_update)))
    print("  exercised: %d unique constraints (of %d), %d CHECKs (of %d), %d indexes incl. "
          "PRIMARY (of %d)" % (len(W.unique), DDL_UNIQUE, len(W.checks), DDL_CHECKS, W.indexes,
                               DDL_INDEXES))
    assert len(W.fk_insert) == DDL_FKS
    assert len(W.fk_on_delete) == DDL_FKS
    assert len(W.fk_update) == len(fks("value"))
    assert len(W.unique) == DDL_UNIQUE
    assert len(W.checks) == DDL_CHECKS
    assert W.indexes == DDL_INDEXES
    W.srv.stop()


def cleanup():
    if W.srv:
        W.srv.cleanup()


if __name__ == "__main__":
    try:
        run_tests([
            test_setup_and_ddl_counts,
            test_fk_value_columns_missing_parent,
            test_fk_audit_columns_deleted_user,
            test_on_delete_audit_columns,
            test_on_delete_value_columns,
            test_unique_constraints,
            test_check_constraints,
            test_values_not_null_enum_length_timestamp,
            test_soft_delete_and_restore,
            test_fk_tenant_deleted_tenant,
            test_clinickv_check_confirms_every_index,
            test_summary,
        ])
    finally:
        cleanup()
