#!/usr/bin/python3
"""The permission matrix, tested from its own data: sys.permissions lists, for each
role, the actions it may take on each table group; for every role, group and action
a real user of that role tries the action on a table of that group, and the server
allows exactly what the matrix says (and answers forbidden otherwise)."""

from ckserver import RpcError, Server, run_tests
from rowfactory import RowFactory

PASSWORD = "matrix pw"
SPECIAL = ("users", "tenants", "performance_metrics")  # tables with rules beyond the matrix


def representative_tables(desc):
    """One table per group: the first (DDL order) that belongs to a clinic, else the first."""
    reps = {}
    for t in desc["tables"]:
        if t["name"] in SPECIAL:
            continue
        in_clinic = any(c["name"] == "clinic_id" for c in t["columns"])
        g = t["group"]
        if g not in reps or (in_clinic and not reps[g][1]):
            reps[g] = (t["name"], in_clinic)
    return {g: name for g, (name, _) in reps.items()}


def scalar_update(fac, table):
    t = fac.tables[table]
    for col in t.writable():
        if col in t.fks or col in t.unique_cols:
            continue
        if t.types[col].kind in ("varchar", "text", "json"):
            return {col: fac.value(table, col)}
    raise AssertionError("no column to update in %s" % table)


def test_every_role_group_action():
    with Server(demo=False) as s:
        s.start()
        sysc = s.system()
        admin = s.admin()
        desc = admin.call("schema.describe")
        fa = RowFactory(admin, desc)
        clinic = fa.make("clinics")
        matrix = sysc.call("sys.permissions")
        reps = representative_tables(desc)
        assert sorted(reps) == sorted(matrix["groups"]), reps
        checked = 0
        for role, spec in matrix["roles"].items():
            email = "%s@matrix" % role
            row = {"email": email, "first_name": role, "last_name": "M", "role": role,
                   "password": PASSWORD, "status": "active"}
            if spec["clinic_scoped"]:
                row["clinic_id"] = clinic["id"]
            sysc.call("row.insert", {"table": "users", "tenant": "demo", "row": row})
            c = s.client()
            c.login("demo", email, PASSWORD)
            who = c.call("auth.whoami")
            assert who["permissions"] == spec["groups"], (role, who["permissions"])
            for group, table in reps.items():
                allowed = set(spec["groups"][group])
                over = {"clinic_id": clinic["id"]} if "clinic_id" in fa.tables[table].columns else {}
                target = fa.make(table, over)
                for action in ("read", "write", "delete"):
                    try:
                        if action == "read":
                            got = c.call("row.get", {"table": table, "id": target["id"]})
                            assert got["id"] == target["id"]
                        elif action == "write":
                            c.call("row.update", {"table": table, "id": target["id"],
                                                  "set": scalar_update(fa, table)})
                        else:
                            fresh = fa.make(table, over)
                            c.call("row.delete", {"table": table, "id": fresh["id"], "mode": "hard"})
                            assert admin.error("row.get", {"table": table, "id": fresh["id"],
                                                           "with_deleted": True}).code == "not_found"
                        ok = True
                    except RpcError as e:
                        assert e.code == "forbidden", (role, group, action, e)
                        assert e.details["group"] == group and e.details["action"] == action
                        ok = False
                    assert ok == (action in allowed), (role, group, table, action, allowed)
                    checked += 1
            # PHI: only roles with phi see demographics.
            p = fa.make("patients", {"clinic_id": clinic["id"]})
            if "read" in spec["groups"]["core"]:
                got = c.call("row.get", {"table": "patients", "id": p["id"]})
                assert ("demographics" in got) == spec["phi"], (role, got.keys())
            c.close()
        assert checked == len(matrix["roles"]) * len(matrix["groups"]) * 3
        print("  %d roles x %d groups x 3 actions = %d checks, each as the matrix says" % (
            len(matrix["roles"]), len(matrix["groups"]), checked))


if __name__ == "__main__":
    run_tests([test_every_role_group_action])
