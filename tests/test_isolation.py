#!/usr/bin/python3
"""Tenant isolation under attack, generated from the schema: for every table, tenant
B tries to get, query, update, delete, restore, include and reference (as an FK
value) tenant A's rows by their real ids, and gets not_found / fk_violation every
time, with A's data unchanged. Then the same for clinic scopes: staff of clinic X
against the rows of clinic Y in the same tenant."""

from ckserver import RpcError, Server, run_tests
from rowfactory import RowFactory

SERVER_MAINTAINED = ("created_by", "updated_by")


def soft_delete(t):
    return "deleted_at" in t.columns


def child_tables(fac, table):
    """Every FK pointing at table, as `include` names it: child_table.fk_column."""
    return sorted("%s.%s" % (name, col) for name, t in fac.tables.items()
                  for col, fk in t.fks.items() if fk["parent_table"] == table)


def writable_scalar(fac, table):
    """A column B may try to set on A's row, with a valid value."""
    t = fac.tables[table]
    for col in t.writable():
        if col in t.fks or col in t.unique_cols:
            continue
        kind = t.types[col].kind
        if kind in ("varchar", "text", "int", "bool", "decimal", "enum", "json"):
            return col, fac.value(table, col)
    return None, None


def snapshot(client, made, tenant=None):
    out = {}
    for table, rid in made:
        p = {"table": table, "id": rid, "with_deleted": True}
        if tenant:
            p["tenant"] = tenant
        out[(table, rid)] = client.call("row.get", p)
    return out


def attack_row(attacker, fac_victim, fac_attacker, table, row, counts):
    """Every way of reaching one foreign row. Returns nothing; asserts. The answer is
    not_found, or forbidden where the attacker's role may not take the action at all
    (a denial comes before any row is looked at)."""
    rid = row["id"]
    t = fac_victim.tables[table]
    perms = attacker.call("auth.whoami")["permissions"][t.desc["group"]]

    def expect(action):
        return "not_found" if action in perms else "forbidden"

    e = attacker.error("row.get", {"table": table, "id": rid, "with_deleted": True})
    assert e.code == expect("read"), (table, "get", e)
    if "read" in perms:
        r = attacker.call("row.query", {"table": table, "where": {"id": rid}, "with_deleted": True})
        assert r["rows"] == [], (table, "query", r)
    col, val = writable_scalar(fac_victim, table)
    if col:
        e = attacker.error("row.update", {"table": table, "id": rid, "set": {col: val}})
        assert e.code == expect("write"), (table, "update", e)
    for mode in (["soft", "hard"] if soft_delete(t) else ["hard"]):
        e = attacker.error("row.delete", {"table": table, "id": rid, "mode": mode})
        assert e.code == expect("delete"), (table, "delete", mode, e)
    if soft_delete(t):
        e = attacker.error("row.restore", {"table": table, "id": rid})
        assert e.code == expect("delete"), (table, "restore", e)
    e = attacker.error("txn.run", {"ops": [{"op": "get", "table": table, "id": rid}]})
    assert e.code == expect("read") and e.details["op"] == 0, (table, "txn.run get", e)
    if "read" not in perms:
        counts["rows"] += 1
        return
    # Includes: the foreign row's children and parents are as unreachable as the row.
    children = child_tables(fac_victim, table)
    for i in range(0, len(children), 8):  # a query names at most 8 includes
        r = attacker.call("row.query", {"table": table, "where": {"id": rid}, "include": children[i:i + 8]})
        assert r["rows"] == [], (table, "include", r)
    counts["rows"] += 1


def reference_attacks(attacker, fac_attacker, victim_rows, counts):
    """Every FK of the schema that a client writes: the attacker's row naming the
    victim's parent row is refused with fk_violation, the column named."""
    for table, t in fac_attacker.tables.items():
        if t.global_table:
            continue
        for col, fk in t.fks.items():
            if col in SERVER_MAINTAINED or col == "tenant_id":
                continue
            parent = fk["parent_table"]
            if parent not in victim_rows:
                continue
            try:
                row = fac_attacker.build(table, {col: victim_rows[parent]["id"]})
            except RpcError as e:
                if e.code == "forbidden":
                    continue  # the attacker's role may not write this table at all
                raise AssertionError("cannot build %s for the attack: %s" % (table, e))
            e = attacker.error("row.insert", {"table": table, "row": row})
            if e.code == "forbidden" and e.details.get("action") == "write":
                continue
            if col == "clinic_id" and e.code == "forbidden":
                counts["fks"] += 1  # naming another clinic is refused before any lookup
                continue
            assert e.code == "fk_violation" and e.details["column"] == col, (table, col, e)
            counts["fks"] += 1


def test_tenant_isolation_every_table():
    with Server(demo=False) as s:
        s.start()
        a = s.admin()
        s.system().call("tenant.create", {"slug": "intruder", "admin_email": "x@intruder",
                                          "admin_password": "intruder pw"})
        b = s.client()
        b.login("intruder", "x@intruder", "intruder pw")
        desc = a.call("schema.describe")
        fa, fb = RowFactory(a, desc), RowFactory(b, desc)
        victim = {}
        for name, t in fa.tables.items():
            if not t.global_table:
                victim[name] = fa.make(name, fill_cols=[c for c in t.fks if c not in SERVER_MAINTAINED])
        before = snapshot(a, fa.made)
        counts = {"rows": 0, "fks": 0}
        for table, row in victim.items():
            attack_row(b, fa, fb, table, row, counts)
        reference_attacks(b, fb, victim, counts)
        # The tenants row of A, and A's users as parents of B's audit columns, are out of reach too.
        ta = a.call("auth.whoami")["tenant_id"]
        assert b.error("row.get", {"table": "tenants", "id": ta}).code == "not_found"
        assert snapshot(a, fa.made) == before
        assert counts["rows"] == len(victim) == 38
        print("  %d tables attacked (get, query, update, delete, restore, txn.run, include), "
              "%d foreign keys refused; tenant A's %d rows unchanged" % (counts["rows"], counts["fks"], len(before)))


def test_clinic_scope_every_table():
    with Server(demo=False) as s:
        s.start()
        a = s.admin()
        desc = a.call("schema.describe")
        fa = RowFactory(a, desc)
        x = fa.make("clinics")
        y = fa.make("clinics")
        a.call("row.insert", {"table": "users", "row": {
            "email": "boss@x", "first_name": "B", "last_name": "X", "role": "clinic_admin",
            "clinic_id": x["id"], "password": "boss pw", "status": "active"}})
        staff = s.client()
        staff.login("demo", "boss@x", "boss pw")
        fs = RowFactory(staff, desc)
        # Rows of clinic Y (every table that belongs to a clinic), made by the tenant admin.
        fa.cache["clinics"] = [y["id"]]
        victim = {}
        for name, t in fa.tables.items():
            if t.global_table or name in ("users",):
                continue
            if "clinic_id" in t.columns or name == "clinics":
                victim[name] = y if name == "clinics" else fa.make(name, {"clinic_id": y["id"]})
        before = snapshot(a, fa.made)
        counts = {"rows": 0, "fks": 0}
        for table, row in victim.items():
            attack_row(staff, fa, fs, table, row, counts)
        # Writing into clinic Y is forbidden; naming Y's rows as parents is an fk_violation.
        fs.cache["clinics"] = [x["id"]]
        for table in victim:
            if table == "clinics":
                continue
            try:
                row = fs.build(table, {"clinic_id": y["id"]})
            except RpcError as e:
                assert e.code == "forbidden", e  # the role cannot even make the parents
                continue
            e = staff.error("row.insert", {"table": table, "row": row})
            assert e.code == "forbidden", (table, e)
        reference_attacks(staff, fs, victim, counts)
        assert snapshot(a, fa.made) == before
        print("  %d clinic tables attacked, %d foreign keys refused; clinic Y unchanged" % (
            counts["rows"], counts["fks"]))


if __name__ == "__main__":
    run_tests([test_tenant_isolation_every_table, test_clinic_scope_every_table])
