#!/usr/bin/python3
"""Security: PHI never at rest in clear, ciphertexts bound to their row, roles and
clinic scopes, user management rules, the payment audit trail, system
administration, and key rotation while the server serves."""

import os
import re
import shutil
import subprocess
import threading

import msgpack

from ckserver import ADMIN_EMAIL, ADMIN_PASSWORD, RpcError, Server, run_tests

SECRET_NAMES = ["Zebulon", "Quixotica", "Marmaduke", "Ottoline"]


def add_user(admin, email, role, clinic_id=None, password="pw-" + "x" * 8):
    row = {"email": email, "first_name": "F", "last_name": "L", "role": role, "status": "active",
           "password": password}
    if clinic_id:
        row["clinic_id"] = clinic_id
    return admin.call("row.insert", {"table": "users", "row": row})


def login(s, email, password="pw-" + "x" * 8):
    c = s.client()
    c.login("demo", email, password)
    return c


def clinic(c, code):
    return c.call("row.insert", {"table": "clinics", "row": {"name": "C " + code, "code": code}})


def patient(c, clinic_id, mrn, first, last, **extra):
    row = {"clinic_id": clinic_id, "medical_record_number": mrn,
           "demographics": {"first_name": first, "last_name": last, "date_of_birth": "1971-02-03",
                            "phone": "+1 555 867 5309", "email": "%s.%s@example.org" % (first, last),
                            "address": "%s Street 1" % last}}
    row.update(extra)
    return c.call("row.insert", {"table": "patients", "row": row})


def test_phi_never_in_clear_at_rest():
    with Server() as s:
        s.start()
        c = s.admin()
        cl = clinic(c, "PHI")
        ids = []
        for i, name in enumerate(SECRET_NAMES):
            p = patient(c, cl["id"], "PHI-%d" % i, name, name + "son",
                        medical_history={"allergies": ["penicillin"], "note": name + " history"})
            ids.append(p["id"])
            assert p["demographics"]["first_name"] == name
        c.call("row.update", {"table": "patients", "id": ids[0],
                              "set": {"demographics": {"first_name": "Zebulon", "last_name": "Renamed"}}})
        s.stop()  # flush everything to data.mdb
        data = open(os.path.join(s.data, "db", "data.mdb"), "rb").read()
        for name in SECRET_NAMES + ["penicillin", "867 5309", "1971-02-03", "Renamed"]:
            assert name.encode() not in data, name
        # What `strings` would show, too (also catches UTF-16 and short fragments).
        if shutil.which("strings"):
            out = subprocess.run(["strings", "-n", "5", os.path.join(s.data, "db", "data.mdb")],
                                 capture_output=True, text=True).stdout
            for name in SECRET_NAMES:
                assert name not in out
        # The change log holds sealed rows only, and the server still reads them.
        s.start()
        c = s.admin()
        assert c.call("row.get", {"table": "patients", "id": ids[0]})["demographics"]["last_name"] == "Renamed"
        assert c.call("row.get", {"table": "patients", "id": ids[1]})["medical_history"]["allergies"] == ["penicillin"]


def mdb_tool(name):
    return shutil.which(name)


def test_ciphertext_is_bound_to_its_row():
    """Move one patient's encrypted_demographics into another patient's row (with the
    LMDB tools, as an attacker with the disk would): decryption must fail."""
    if not (mdb_tool("mdb_dump") and mdb_tool("mdb_load")):
        print("  (lmdb-utils missing: the storage-level swap is covered by check_phi)")
        return
    with Server() as s:
        s.start()
        c = s.admin()
        cl = clinic(c, "SWAP")
        a = patient(c, cl["id"], "A", "Alpha", "One")
        b = patient(c, cl["id"], "B", "Bravo", "Two")
        s.stop()
        env = os.path.join(s.data, "db")
        dump = subprocess.run(["mdb_dump", "-s", "rows", env], capture_output=True, text=True, check=True).stdout
        lines = dump.split("\n")
        header_end = lines.index("HEADER=END")
        body = lines[header_end + 1:]
        pairs = []
        i = 0
        while i + 1 < len(body) and body[i].startswith(" "):
            pairs.append([body[i].strip(), body[i + 1].strip()])
            i += 2
        # patients rows: key tenant(16)|table id|row id; the row is a msgpack array.
        want = {a["id"].replace("-", ""): None, b["id"].replace("-", ""): None}
        for p in pairs:
            if p[0][-32:] in want:
                want[p[0][-32:]] = p
        pa, pb = want[a["id"].replace("-", "")], want[b["id"].replace("-", "")]
        ra = msgpack.unpackb(bytes.fromhex(pa[1]), raw=False)
        rb = msgpack.unpackb(bytes.fromhex(pb[1]), raw=False)
        col = [i for i, v in enumerate(ra) if isinstance(v, bytes) and len(v) > 41 and v[0] == 1][0]
        ra[col], rb[col] = rb[col], ra[col]
        pa[1] = msgpack.packb(ra, use_bin_type=True).hex()
        pb[1] = msgpack.packb(rb, use_bin_type=True).hex()
        text = "\n".join(lines[:header_end + 1] + [" %s\n %s" % (k, v) for k, v in pairs] + ["DATA=END", ""])
        subprocess.run(["mdb_load", "-s", "rows", env], input=text, text=True, check=True)
        s.start()
        c = s.admin()
        for pid in (a["id"], b["id"]):
            e = c.error("row.get", {"table": "patients", "id": pid})
            assert e.code == "internal" and "cannot be decrypted" in e.message, e
            # The message names no PHI.
            assert "Alpha" not in e.message and "Bravo" not in e.message


def test_roles_without_phi_and_clinic_scope():
    with Server() as s:
        s.start()
        admin = s.admin()
        ca, cb = clinic(admin, "SA"), clinic(admin, "SB")
        pa = patient(admin, ca["id"], "SA-1", "Amy", "Alder")
        pb = patient(admin, cb["id"], "SB-1", "Bob", "Birch")
        add_user(admin, "analyst@demo.clinic", "analyst")
        add_user(admin, "rx@demo.clinic", "receptionist", ca["id"])
        an = login(s, "analyst@demo.clinic")
        row = an.call("row.get", {"table": "patients", "id": pa["id"]})
        assert "demographics" not in row and "medical_history" not in row and row["medical_record_number"] == "SA-1"
        assert an.error("row.update", {"table": "patients", "id": pa["id"], "set": {"status": "inactive"}}).code == "forbidden"
        rx = login(s, "rx@demo.clinic")
        assert rx.call("auth.whoami")["clinic_id"] == ca["id"]
        assert rx.call("row.get", {"table": "patients", "id": pa["id"]})["demographics"]["first_name"] == "Amy"
        # Another clinic's rows are not found; writing into another clinic is forbidden.
        assert rx.error("row.get", {"table": "patients", "id": pb["id"]}).code == "not_found"
        assert rx.error("row.update", {"table": "patients", "id": pb["id"], "set": {"status": "inactive"}}).code == "not_found"
        # No delete right at all: forbidden before the row is even looked at.
        assert rx.error("row.delete", {"table": "patients", "id": pa["id"]}).code == "forbidden"
        add_user(admin, "ca@demo.clinic", "clinic_admin", ca["id"])
        boss = login(s, "ca@demo.clinic")
        assert boss.error("row.delete", {"table": "patients", "id": pb["id"]}).code == "not_found"
        assert boss.error("row.delete", {"table": "patients", "id": pb["id"], "mode": "hard"}).code == "not_found"
        e = rx.error("row.insert", {"table": "patients", "row": {"clinic_id": cb["id"], "medical_record_number": "X",
                                                               "demographics": {}}})
        assert e.code == "forbidden"
        # Omitting clinic_id means the session's clinic.
        mine = rx.call("row.insert", {"table": "patients", "row": {"medical_record_number": "SA-2",
                                                                 "demographics": {"first_name": "N"}}})
        assert mine["clinic_id"] == ca["id"]
        e = rx.error("row.update", {"table": "patients", "id": pa["id"], "set": {"clinic_id": cb["id"]}})
        assert e.code == "forbidden"
        # Another clinic's rows are no parents either (as for another tenant's).
        e = rx.error("row.insert", {"table": "appointments", "row": {
            "patient_id": pb["id"], "appointment_date": "2026-12-01T09:00:00Z"}})
        assert e.code == "fk_violation" and e.details["column"] == "patient_id"
        ok = rx.call("row.insert", {"table": "appointments", "row": {
            "patient_id": pa["id"], "appointment_date": "2026-12-01T09:00:00Z"}})
        assert ok["clinic_id"] == ca["id"]
        # A receptionist has no clinical group: forbidden, whatever the row.
        e = rx.error("row.get", {"table": "clinical_notes", "id": pa["id"]})
        assert e.code == "forbidden" and e.details["group"] == "clinical"
        assert admin.call("row.get", {"table": "patients", "id": pb["id"]})["status"] == "active"


def test_user_management_rules():
    with Server() as s:
        s.start()
        admin = s.admin()
        ca = clinic(admin, "UM")
        boss = add_user(admin, "boss@demo.clinic", "clinic_admin", ca["id"])
        assert "password_hash" not in boss and "password" not in boss
        b = login(s, "boss@demo.clinic")
        # A clinic admin cannot create a tenant admin, nor raise their own role.
        e = b.error("row.insert", {"table": "users", "row": {"email": "x@demo.clinic", "first_name": "x",
                                                           "last_name": "y", "role": "tenant_admin",
                                                           "password": "pw", "clinic_id": ca["id"]}})
        assert e.code == "forbidden"
        e = b.error("row.update", {"table": "users", "id": boss["id"], "set": {"role": "tenant_admin"}})
        assert e.code == "forbidden"
        e = b.error("row.update", {"table": "users", "id": boss["id"], "set": {"role": "dentist"}})
        assert e.code == "forbidden"  # not even down: a user's own role is someone else's decision
        staff = b.call("row.insert", {"table": "users", "row": {"email": "new@demo.clinic", "first_name": "n",
                                                              "last_name": "m", "role": "dentist", "password": "first pw",
                                                              "clinic_id": ca["id"]}})
        # Email is unique per tenant, case-insensitively.
        e = b.error("row.insert", {"table": "users", "row": {"email": "NEW@demo.clinic", "first_name": "n",
                                                           "last_name": "m", "role": "dentist", "password": "pw",
                                                           "clinic_id": ca["id"]}})
        assert e.code == "unique_violation" and e.details["constraint"] == "unique_tenant_email"
        # A password change is hashed too; the old one stops working.
        b.call("row.update", {"table": "users", "id": staff["id"], "set": {"password": "second pw"}})
        assert s.client().error("auth.login", {"tenant": "demo", "email": "new@demo.clinic",
                                               "password": "first pw"}).code == "unauthenticated"
        login(s, "new@demo.clinic", "second pw")
        # Non-administrators cannot write users at all.
        d = login(s, "new@demo.clinic", "second pw")
        assert d.error("row.update", {"table": "users", "id": staff["id"], "set": {"phone": "1"}}).code == "forbidden"
        assert admin.error("row.delete", {"table": "users", "id": admin.call("auth.whoami")["user_id"]}).code == "forbidden"


def test_live_sessions_follow_the_user():
    """A role change, a deactivation or a deletion reaches connections already logged in."""
    import time
    with Server(extra_args=["--session-recheck", "0.2"]) as s:
        s.start()
        admin = s.admin()
        ca = clinic(admin, "LIVE")
        u = add_user(admin, "live@demo.clinic", "dentist", ca["id"])
        v = add_user(admin, "gone@demo.clinic", "receptionist", ca["id"])
        c, g = login(s, "live@demo.clinic"), login(s, "gone@demo.clinic")
        assert c.call("auth.whoami")["role"] == "dentist"
        admin.call("row.update", {"table": "users", "id": u["id"], "set": {"role": "hygienist"}})
        admin.call("row.delete", {"table": "users", "id": v["id"], "mode": "hard"})
        time.sleep(0.4)
        assert c.call("auth.whoami")["role"] == "hygienist"
        assert g.error("auth.whoami").code == "unauthenticated"
        admin.call("row.update", {"table": "users", "id": u["id"], "set": {"status": "suspended"}})
        time.sleep(0.4)
        assert c.error("row.get", {"table": "clinics", "id": ca["id"]}).code == "unauthenticated"


def test_permission_grants_and_denies():
    with Server() as s:
        s.start()
        admin = s.admin()
        ca = clinic(admin, "PG")
        u = add_user(admin, "hyg@demo.clinic", "hygienist", ca["id"])
        h = login(s, "hyg@demo.clinic")
        perms = h.call("auth.whoami")["permissions"]
        assert perms["billing"] == [] and perms["clinical"] == ["read", "write"]
        admin.call("row.update", {"table": "users", "id": u["id"], "set": {
            "permissions": {"grant": {"billing": ["read"]}, "deny": {"clinical": ["write"]}}}})
        h = login(s, "hyg@demo.clinic")
        perms = h.call("auth.whoami")["permissions"]
        assert perms["billing"] == ["read"] and perms["clinical"] == ["read"]
        matrix = s.client().call("sys.permissions")
        assert set(matrix["roles"]) == {"super_admin", "tenant_admin", "clinic_admin", "dentist", "hygienist",
                                        "dental_assistant", "receptionist", "billing_specialist", "pharmacist",
                                        "pharmacy_technician", "analyst", "support"}
        assert matrix["groups"] == ["core", "clinical", "marketplace", "pharmacy", "billing", "ai_analytics",
                                    "features", "system"]


def test_payment_audit_trail():
    with Server() as s:
        s.start()
        c = s.admin()
        me = c.call("auth.whoami")["user_id"]
        cl = clinic(c, "PAY")
        p = patient(c, cl["id"], "PAY-1", "Pat", "Payer")
        inv = c.call("row.insert", {"table": "invoices", "row": {
            "clinic_id": cl["id"], "patient_id": p["id"], "invoice_number": "INV-1", "issue_date": "2026-11-26",
            "subtotal": "100.00", "total_amount": "100.00"}})
        pay = c.call("row.insert", {"table": "payments", "row": {
            "clinic_id": cl["id"], "invoice_id": inv["id"], "payment_number": "P-1", "amount": "40.00",
            "payment_method": "cash"}})
        c.call("row.update", {"table": "payments", "id": pay["id"], "set": {"status": "completed"}})
        c.call("row.update", {"table": "payments", "id": pay["id"], "set": {"notes": "receipt given"}})
        c.call("row.delete", {"table": "payments", "id": pay["id"], "mode": "hard"})
        log = [x["row"] for x in c.call("changes.since", {"seq": 0, "limit": 10000})["changes"]
               if x["table"] == "payment_audit_log" and x["op"] == "insert"]
        assert [r["action"] for r in log] == ["created", "status_changed", "updated", "deleted"]
        assert all(r["performed_by"] == me and r["amount"] == "40.00" for r in log)
        assert log[1]["previous_status"] == "pending" and log[1]["new_status"] == "completed"
        assert log[0]["old_values"] is None and log[0]["new_values"]["payment_number"] == "P-1"
        assert log[3]["new_values"] is None and log[3]["old_values"]["notes"] == "receipt given"
        # The audit trail outlives the payment: its rows now have payment_id NULL.
        for r in log:
            row = c.call("row.get", {"table": "payment_audit_log", "id": r["id"]})
            assert row["payment_id"] is None
        # A refused payment write leaves no audit row.
        n = len(log)
        e = c.error("row.insert", {"table": "payments", "row": {
            "clinic_id": cl["id"], "invoice_id": inv["id"], "payment_number": "P-2", "amount": "-1.00",
            "payment_method": "cash"}})
        assert e.code == "invalid_value"
        log2 = [x for x in c.call("changes.since", {"seq": 0, "limit": 10000})["changes"]
                if x["table"] == "payment_audit_log" and x["op"] == "insert"]
        assert len(log2) == n


def test_system_administration():
    with Server() as s:
        s.start()
        sysc = s.system()
        r = sysc.call("tenant.create", {"slug": "acme", "admin_email": "a@acme", "admin_password": "acme pw"})
        assert len(r["tenant_id"]) == 36
        c = s.client()
        c.login("acme", "a@acme", "acme pw")
        cl = clinic(c, "ACME")
        admin = s.admin()
        assert admin.error("tenant.create", {"slug": "x", "admin_email": "x@x", "admin_password": "x"}).code == "forbidden"
        assert admin.error("tenant.delete", {"tenant": "acme"}).code == "forbidden"
        assert sysc.error("tenant.create", {"slug": "ACME", "admin_email": "b@b", "admin_password": "b"}).code == "unique_violation"
        res = sysc.call("tenant.delete", {"tenant": "acme"})
        assert res["deleted"] == 1 and res["cascaded"]["clinics"] == 1 and res["cascaded"]["users"] == 1
        assert s.client().error("auth.login", {"tenant": "acme", "email": "a@acme",
                                               "password": "acme pw"}).code == "unauthenticated"
        assert sysc.error("row.get", {"table": "clinics", "tenant": "acme", "id": cl["id"]}).code == "not_found"


def test_key_rotation_while_serving():
    with Server() as s:
        s.start()
        c = s.admin()
        cl = clinic(c, "ROT")
        ids = [patient(c, cl["id"], "ROT-%d" % i, "Rot%d" % i, "Ation")["id"] for i in range(60)]
        stop = threading.Event()
        errors = []

        def traffic():
            t = s.admin()
            k = 0
            while not stop.is_set():
                k += 1
                try:
                    p = t.call("row.get", {"table": "patients", "id": ids[k % len(ids)]})
                    assert p["demographics"]["last_name"] == "Ation"
                    ids.append(patient(t, cl["id"], "ROT-T-%d" % k, "During", "Ation")["id"])
                except (RpcError, AssertionError) as e:
                    errors.append(e)

        th = threading.Thread(target=traffic)
        th.start()
        out = s.cli("keys", "rotate", "--data", s.data, "--batch", "7").stdout
        stop.set()
        th.join()
        assert not errors, errors[:3]
        assert "added key k2" in out and "removed the old keys" in out, out
        keys = open(os.path.join(s.data, "phi.keys")).read()
        assert re.findall(r"^key (\S+)", keys, re.M) == ["k2"]
        listing = s.cli("keys", "list", "--data", s.data).stdout
        demo_patients = 5
        assert re.search(r"^k2\s+yes\s+%d$" % (len(ids) + demo_patients), listing, re.M), listing
        for pid in ids:
            p = c.call("row.get", {"table": "patients", "id": pid})
            assert p["demographics_key_id"] == "k2" and p["demographics"]["last_name"] == "Ation"
        s.stop()
        s.start()
        assert s.admin().call("row.get", {"table": "patients", "id": ids[0]})["demographics"]["first_name"] == "Rot0"


if __name__ == "__main__":
    run_tests([test_phi_never_in_clear_at_rest, test_ciphertext_is_bound_to_its_row,
               test_roles_without_phi_and_clinic_scope, test_user_management_rules,
               test_live_sessions_follow_the_user,
               test_permission_grants_and_denies, test_payment_audit_trail, test_system_administration,
               test_key_rotation_while_serving])
