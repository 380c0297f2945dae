#!/usr/bin/python3
"""The foundation, end to end: every method of issue 2 driven by a real msgpack
client in another language against a real server, pipelining and msgid matching,
malformed and oversized input, and the command line's refusals."""

import os
import socket
import struct
import subprocess
import time

import msgpack

from ckserver import ADMIN_EMAIL, ADMIN_PASSWORD, CLINICKV, Client, RpcError, Server, run_tests

UUID_OF_NOBODY = "01234567-89ab-7def-8123-456789abcdef"


def new_clinic(c, code):
    return c.call("row.insert", {"table": "clinics", "row": {"name": "Clinic " + code, "code": code}})


def new_patient(c, clinic_id, mrn, **extra):
    row = {"clinic_id": clinic_id, "medical_record_number": mrn,
           "demographics": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-12-10"}}
    row.update(extra)
    return c.call("row.insert", {"table": "patients", "row": row})


def test_sys_and_schema():
    with Server() as s:
        s.start()
        c = s.client()
        assert c.call("sys.ping") == "pong"
        info = c.call("sys.info")
        assert info["protocol"] == 1 and info["tables"] == 40 and info["schema_version"]
        assert isinstance(info["uptime_s"], int)
        d = c.call("schema.describe")
        assert len(d["tables"]) == 40
        names = [t["name"] for t in d["tables"]]
        assert names[0] == "tenants" and "pharmacy_sale_items" in names
        one = c.call("schema.describe", {"table": "payments"})["tables"]
        assert len(one) == 1
        fk = [f for f in one[0]["foreign_keys"] if f["name"] == "fk_payments_invoice"][0]
        assert fk == {"name": "fk_payments_invoice", "column": "invoice_id",
                      "parent_table": "invoices", "parent_column": "id", "on_delete": "RESTRICT"}
        cols = {col["name"]: col for col in one[0]["columns"]}
        assert cols["amount"]["type"] == "DECIMAL(10,2)" and cols["amount"]["nullable"] is False
        assert cols["refunded_amount"]["default"] == "0.00"
        assert c.error("schema.describe", {"table": "nope"}).code == "unknown_table"


def test_auth():
    with Server() as s:
        s.start()
        c = s.client()
        # Nothing but sys.*, schema.describe and auth before a login.
        assert c.error("row.get", {"table": "patients", "id": UUID_OF_NOBODY}).code == "unauthenticated"
        assert c.error("auth.whoami").code == "unauthenticated"
        # Refusals look the same whatever was wrong.
        for tenant, email, pw in [("demo", ADMIN_EMAIL, "wrong"), ("nope", ADMIN_EMAIL, ADMIN_PASSWORD),
                                  ("demo", "nobody@demo.clinic", ADMIN_PASSWORD)]:
            e = c.error("auth.login", {"tenant": tenant, "email": email, "password": pw})
            assert e.code == "unauthenticated" and e.message == "login refused", e
        assert c.error("auth.login", {"tenant": "demo"}).code == "bad_request"
        me = c.login("demo", ADMIN_EMAIL.upper(), ADMIN_PASSWORD)  # emails compare case-insensitively
        assert me["user"]["role"] == "tenant_admin" and len(me["token"]) == 64
        assert me["expires_at"].endswith("Z")
        who = c.call("auth.whoami")
        assert who["user_id"] == me["user"]["id"] and who["system_admin"] is False
        assert who["permissions"]["core"] == ["read", "write", "delete"]
        # The token resumes the session on another connection, also by tenant id.
        c2 = s.client()
        r = c2.call("auth.resume", {"token": me["token"]})
        assert r["user"]["id"] == me["user"]["id"]
        assert c2.call("auth.whoami")["tenant_id"] == me["user"]["tenant_id"]
        c3 = s.client()
        c3.login(me["user"]["tenant_id"], ADMIN_EMAIL, ADMIN_PASSWORD)
        # Logout ends the session: the token no longer resumes.
        assert c.call("auth.logout") is True
        assert c.error("auth.whoami").code == "unauthenticated"
        assert s.client().error("auth.resume", {"token": me["token"]}).code == "unauthenticated"
        assert s.client().error("auth.resume", {"token": "zz"}).code == "unauthenticated"
        # The stored user row never shows the password hash.
        users = c3.call("row.get", {"table": "users", "id": me["user"]["id"]})
        assert "password_hash" not in users and users["last_login_at"]


def test_lockout_and_session_expiry():
    with Server(extra_args=["--session-ttl", "2"]) as s:
        s.start()
        c = s.client()
        for _ in range(5):
            c.error("auth.login", {"tenant": "demo", "email": "frontdesk@demo.clinic", "password": "nope"})
        # Locked now, even with the right password.
        e = c.error("auth.login", {"tenant": "demo", "email": "frontdesk@demo.clinic", "password": "password"})
        assert e.code == "unauthenticated"
        a = s.admin()
        user = a.call("row.get", {"table": "users", "id": a.call("auth.whoami")["user_id"]})
        assert user["failed_login_attempts"] == 0
        # A session expires after --session-ttl seconds.
        time.sleep(2.5)
        assert a.error("auth.whoami").code == "unauthenticated"


def test_row_crud_and_validation():
    with Server() as s:
        s.start()
        c = s.admin()
        clinic = new_clinic(c, "C1")
        assert clinic["tenant_id"] == c.call("auth.whoami")["tenant_id"]
        assert clinic["created_at"] == clinic["updated_at"] and clinic["created_at"].endswith("Z")
        assert clinic["number_of_chairs"] == 1 and clinic["country_code"] == "US"
        assert clinic["has_pharmacy"] is False and clinic["created_by"] == c.call("auth.whoami")["user_id"]
        p = new_patient(c, clinic["id"], "MRN-1")
        assert p["id"][14] == "7"  # a UUIDv7 generated by the server
        assert p["demographics"]["first_name"] == "Ada" and "encrypted_demographics" not in p
        got = c.call("row.get", {"table": "patients", "id": p["id"]})
        assert got == p
        time.sleep(0.01)
        u = c.call("row.update", {"table": "patients", "id": p["id"], "set": {"status": "inactive"},
                                  "expect_updated_at": p["updated_at"]})
        assert u["status"] == "inactive" and u["updated_at"] > p["updated_at"]
        assert u["created_at"] == p["created_at"]
        e = c.error("row.update", {"table": "patients", "id": p["id"], "set": {"status": "active"},
                                   "expect_updated_at": p["updated_at"]})
        assert e.code == "conflict"
        # Values of every kind, refused with the column named.
        cases = [
            ("clinics", {"name": "x", "code": "C2", "number_of_chairs": -1}, "invalid_value", "number_of_chairs"),
            ("clinics", {"name": "x" * 256, "code": "C2"}, "invalid_value", "name"),
            ("clinics", {"name": "x", "code": "C2", "is_active": "yes"}, "invalid_value", "is_active"),
            ("clinics", {"name": "x"}, "not_null_violation", "code"),
            ("clinics", {"name": None, "code": "C2"}, "not_null_violation", "name"),
            ("clinics", {"name": "x", "code": "C2", "colour": "red"}, "unknown_column", "colour"),
            ("clinics", {"name": "x", "code": "C2", "operating_hours": "9-5"}, "invalid_value", "operating_hours"),
            ("patients", {"clinic_id": "not-a-uuid", "medical_record_number": "M"}, "invalid_value", "clinic_id"),
            ("patients", {"clinic_id": clinic["id"], "medical_record_number": "M", "status": "asleep",
                          "demographics": {}}, "invalid_value", "status"),
            ("patients", {"clinic_id": clinic["id"], "medical_record_number": "M", "next_recall_date": "2026-02-30",
                          "demographics": {}}, "invalid_value", "next_recall_date"),
            ("patients", {"clinic_id": clinic["id"], "medical_record_number": "M"}, "not_null_violation", "demographics"),
            ("treatment_plans", {"patient_id": p["id"], "clinic_id": clinic["id"], "title": "t",
                                 "estimated_total": 12.5}, "invalid_value", "estimated_total"),
            ("appointments", {"clinic_id": clinic["id"], "patient_id": p["id"],
                              "appointment_date": "2038-01-19T03:14:08Z"}, "invalid_value", "appointment_date"),
        ]
        for table, row, code, column in cases:
            e = c.error("row.insert", {"table": table, "row": row})
            assert e.code == code and e.details.get("column") == column, (table, row, e)
        assert c.error("row.insert", {"table": "nope", "row": {}}).code == "unknown_table"
        assert c.error("row.get", {"table": "patients", "id": UUID_OF_NOBODY}).code == "not_found"
        assert c.error("row.get", {"table": "patients", "id": "x"}).code == "bad_request"
        # CHECK constraints name the constraint.
        e = c.error("row.insert", {"table": "appointments", "row": {
            "clinic_id": clinic["id"], "patient_id": p["id"], "appointment_date": "2026-12-01T09:00:00Z",
            "duration_minutes": 3}})
        assert e.code == "invalid_value" and e.details["constraint"] == "chk_appointments_duration"
        # DECIMAL: strings or integers in, strings with the column's scale out.
        plan = c.call("row.insert", {"table": "treatment_plans", "row": {
            "patient_id": p["id"], "clinic_id": clinic["id"], "title": "crowns", "plan_number": "TP-1",
            "estimated_total": 1200,
            "insurance_estimate": "300.5"}})
        assert plan["estimated_total"] == "1200.00" and plan["insurance_estimate"] == "300.50"
        # The msgpack timestamp extension is accepted for TIMESTAMP columns.
        ts = msgpack.Timestamp(1795000000, 250000000)
        appt = c.call("row.insert", {"table": "appointments", "row": {
            "clinic_id": clinic["id"], "patient_id": p["id"], "appointment_date": ts}})
        assert appt["appointment_date"] == "2026-11-18T11:06:40.250Z", appt["appointment_date"]
        # tenant_id may be omitted or given as the session's; another tenant's is forbidden.
        e = c.error("row.insert", {"table": "clinics", "row": {"name": "x", "code": "C9",
                                                             "tenant_id": UUID_OF_NOBODY}})
        assert e.code == "forbidden"
        ok = c.call("row.insert", {"table": "clinics", "row": {"name": "x", "code": "C9",
                                                             "tenant_id": clinic["tenant_id"]}})
        assert ok["tenant_id"] == clinic["tenant_id"]
        # Missing parents are refused.
        e = c.error("row.insert", {"table": "appointments", "row": {
            "clinic_id": clinic["id"], "patient_id": UUID_OF_NOBODY, "appointment_date": "2026-12-01T09:00:00Z"}})
        assert e.code == "fk_violation" and e.details["constraint"] == "fk_appointments_patient"
        # Server-maintained columns cannot be forged.
        e = c.error("row.insert", {"table": "users", "row": {"email": "x@y", "first_name": "a", "last_name": "b",
                                                           "password_hash": "$argon2id$nope"}})
        assert e.code == "forbidden"
        e = c.error("row.update", {"table": "patients", "id": p["id"], "set": {"name_search_hash": "0" * 64}})
        assert e.code == "forbidden"


def test_tenant_isolation_by_key():
    with Server() as s:
        s.start()
        a = s.admin()
        s.cli("tenant", "create", "--data", s.data, "--tenant", "other", "--admin-email", "boss@other",
              env={"CLINICKV_ADMIN_PASSWORD": "other password"})
        b = s.client()
        b.login("other", "boss@other", "other password")
        clinic = new_clinic(a, "A1")
        p = new_patient(a, clinic["id"], "A-1")
        assert b.error("row.get", {"table": "patients", "id": p["id"]}).code == "not_found"
        assert b.error("row.update", {"table": "patients", "id": p["id"], "set": {"status": "inactive"}}).code == "not_found"
        # A's clinic is no parent for B.
        bclinic = new_clinic(b, "B1")
        e = b.error("row.insert", {"table": "patients", "row": {"clinic_id": clinic["id"], "medical_record_number": "B",
                                                              "demographics": {}}})
        assert e.code == "fk_violation"
        # Unique keys hold per tenant: the same MRN and clinic code in B are fine.
        assert new_clinic(b, "A1")["code"] == "A1"
        assert new_patient(b, bclinic["id"], "A-1")["medical_record_number"] == "A-1"
        assert a.call("row.get", {"table": "patients", "id": p["id"]})["status"] == "active"
        # The tenants table is global, but each tenant reads only its own row.
        ta, tb = a.call("auth.whoami")["tenant_id"], b.call("auth.whoami")["tenant_id"]
        assert b.call("row.get", {"table": "tenants", "id": tb})["slug"] == "other"
        assert b.error("row.get", {"table": "tenants", "id": ta}).code == "not_found"


def test_pipelining_and_msgids():
    with Server() as s:
        s.start()
        c = s.admin()
        clinic = new_clinic(c, "PIPE")
        # 1,000 requests before reading anything: reads and writes interleaved.
        ids = []
        payload = b""
        for i in range(1000):
            if i % 3 == 0:
                req = [0, 10_000 + i, "row.insert", [{"table": "clinics", "row": {"name": "p", "code": "P%d" % i}}]]
            elif i % 3 == 1:
                req = [0, 10_000 + i, "row.get", [{"table": "clinics", "id": clinic["id"]}]]
            else:
                req = [0, 10_000 + i, "sys.ping", []]
            payload += msgpack.packb(req, use_bin_type=True)
            ids.append(10_000 + i)
        c.send_raw(payload)
        seen = {}
        while len(seen) < 1000:
            msg = c.read_message()
            assert msg is not None
            seen[msg[1]] = msg
        assert sorted(seen) == ids
        for i, mid in enumerate(ids):
            _, _, err, res = seen[mid]
            assert err is None, err
            if i % 3 == 0:
                assert res["code"] == "P%d" % i
            elif i % 3 == 1:
                assert res["id"] == clinic["id"]
            else:
                assert res == "pong"
        # A connection reads its own writes even when it does not wait for them.
        m1 = c.send("row.insert", {"table": "clinics", "row": {"name": "own", "code": "OWN"}})
        m2 = c.send("row.update", {"table": "clinics", "id": clinic["id"], "set": {"name": "renamed"}})
        m3 = c.send("row.get", {"table": "clinics", "id": clinic["id"]})
        assert Client.result(c.wait(m3))["name"] == "renamed"
        Client.result(c.wait(m1)), Client.result(c.wait(m2))
        # msgids are the client's: 0 and 2^32-1 come back as sent.
        for mid in (0, 0xFFFFFFFF):
            c.send("sys.ping", msgid=mid)
            assert c.wait(mid)[3] == "pong"


def raw_conn(s):
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    return sock


def read_all(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


def test_malformed_and_oversized_input():
    with Server() as s:
        s.start()
        bystander = s.admin()
        pending = bystander.send("sys.ping")

        # Malformed msgpack (0xc1): closed without an answer.
        sock = raw_conn(s)
        sock.sendall(b"\x94\x00\x01\xc1")
        assert read_all(sock) == b""

        # A 5-byte message claiming a 4 GiB string: too_large, then closed.
        sock = raw_conn(s)
        sock.sendall(b"\x94\x00\x07\xdb\xff\xff\xff\xff")
        msgs = list(msgpack.Unpacker(__import__("io").BytesIO(read_all(sock)), raw=False))
        assert len(msgs) == 1 and msgs[0][0] == 1 and msgs[0][1] == 7
        assert msgs[0][2][0] == "too_large"

        # Over 16 MiB: too_large.
        sock = raw_conn(s)
        big = msgpack.packb([0, 8, "sys.ping", [{"x": b"\0" * (16 << 20)}]], use_bin_type=True)
        try:
            sock.sendall(big)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = read_all(sock)
        msgs = list(msgpack.Unpacker(__import__("io").BytesIO(data), raw=False))
        assert msgs and msgs[0][2][0] == "too_large", msgs

        # Nesting deeper than 32.
        sock = raw_conn(s)
        nested = 1
        for _ in range(33):
            nested = [nested]
        deep = [0, 9, "sys.ping", [{"x": nested}]]
        sock.sendall(msgpack.packb(deep))
        msgs = list(msgpack.Unpacker(__import__("io").BytesIO(read_all(sock)), raw=False))
        assert msgs and msgs[0][2][0] == "too_large"

        # Well-formed but not requests: answered as bad_request, connection kept.
        c = s.client()
        c.send_raw(msgpack.packb("hello"))
        msg = c.read_message()
        assert msg[0] == 1 and msg[1] == 0 and msg[2][0] == "bad_request"
        c.send_raw(msgpack.packb([0, 5, "sys.ping", "params"]))
        assert c.read_message()[2][0] == "bad_request"
        c.send_raw(msgpack.packb([0, 6, "no.such.method", []]))
        e = c.read_message()
        assert e[1] == 6 and e[2][0] == "bad_request"
        # Notifications are ignored (generic clients announce themselves with one).
        c.send_raw(msgpack.packb([2, "nvim_set_client_info", ["x", {}, "remote", {}, {}]]))
        # A method name may arrive as bin.
        c.send_raw(msgpack.packb([0, 11, b"sys.ping", []], use_bin_type=True))
        assert c.wait(11)[3] == "pong"
        # Wrong param types are bad requests.
        assert c.error("schema.describe", {"table": 7}).code == "bad_request"

        # The other connection never noticed.
        assert bystander.wait(pending)[3] == "pong"
        assert bystander.call("auth.whoami")["role"] == "tenant_admin"
        # A truncated request followed by a hang-up does not disturb the server.
        sock = raw_conn(s)
        sock.sendall(msgpack.packb([0, 1, "sys.ping", []])[:3])
        sock.close()
        assert s.client().call("sys.ping") == "pong"


def test_unix_socket_system_admin():
    with Server() as s:
        s.start()
        sysc = s.system()
        who = sysc.call("auth.whoami")
        assert who["system_admin"] is True and who["tenant_id"] is None
        # A system administrator names the tenant.
        assert sysc.error("row.insert", {"table": "clinics", "row": {"name": "x", "code": "S"}}).code == "bad_request"
        clinic = sysc.call("row.insert", {"table": "clinics", "tenant": "demo", "row": {"name": "x", "code": "S"}})
        assert clinic["created_by"] is None
        assert sysc.call("row.get", {"table": "clinics", "tenant": "demo", "id": clinic["id"]})["code"] == "S"
        # The admin key works over TCP.
        key = open(os.path.join(s.data, "admin.key")).read().strip()
        c = s.client()
        assert c.call("auth.login", {"admin_key": key}) == {"system_admin": True}
        assert c.call("auth.whoami")["system_admin"] is True
        assert s.client().error("auth.login", {"admin_key": "0" * 64}).code == "unauthenticated"
        # Tenant users cannot write tenants or platform metrics.
        a = s.admin()
        tid = a.call("auth.whoami")["tenant_id"]
        assert a.call("row.get", {"table": "tenants", "id": tid})["slug"] == "demo"
        assert a.error("row.update", {"table": "tenants", "id": tid, "set": {"name": "x"}}).code == "forbidden"
        assert a.error("row.insert", {"table": "performance_metrics", "row": {}}).code == "forbidden"


def test_no_pharmacy():
    with Server(pharmacy=False, demo=False) as s:
        s.start()
        c = s.admin()
        assert len(c.call("schema.describe")["tables"]) == 32
        assert c.call("sys.info")["tables"] == 32
        for t in ("pharmacy_drugs", "pharmacy_sales"):
            assert c.error("row.get", {"table": t, "id": UUID_OF_NOBODY}).code == "unknown_table"
            assert c.error("schema.describe", {"table": t}).code == "unknown_table"


def test_command_line_refusals():
    with Server(demo=False) as s:
        # init on an existing data directory refuses and changes nothing.
        before = {f: os.stat(os.path.join(s.data, f)).st_mtime for f in os.listdir(s.data)}
        p = s.cli("init", "--data", s.data, "--tenant", "x", "--admin-email", "a@b", check=False,
                  env={"CLINICKV_ADMIN_PASSWORD": "pw"})
        assert p.returncode != 0 and "already" in p.stderr
        after = {f: os.stat(os.path.join(s.data, f)).st_mtime for f in os.listdir(s.data)}
        assert before == after
        # A missing or foreign data directory gets a message, not a crash.
        p = s.cli("serve", "--data", os.path.join(s.tmp, "missing"), check=False)
        assert p.returncode == 1 and "no data directory" in p.stderr
        foreign = os.path.join(s.tmp, "foreign")
        os.makedirs(os.path.join(foreign, "db"))
        open(os.path.join(foreign, "db", "data.mdb"), "wb").write(b"not lmdb" * 1000)
        p = s.cli("serve", "--data", foreign, "--listen", "none", "--socket", "none", check=False)
        assert p.returncode == 1 and "not a clinickv data directory" in p.stderr, p.stderr
        # Every subcommand has --help.
        for sub in (["init"], ["serve"], ["tenant"], []):
            p = s.cli(*(sub + ["--help"]))
            assert "usage" in p.stdout
        s.start()
        # A second server on the same directory is refused.
        p = subprocess.run([CLINICKV, "serve", "--data", s.data, "--listen", "none", "--socket", "none"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and "another clinickv server is running" in p.stderr
        # A port in use is named.
        other = Server(demo=False)
        try:
            p = subprocess.run([CLINICKV, "serve", "--data", other.data, "--listen", "127.0.0.1:%d" % s.port],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 1 and "in use" in p.stderr, p.stderr
        finally:
            other.cleanup()
        # tenant create while the server runs; its admin logs in right away.
        s.cli("tenant", "create", "--data", s.data, "--tenant", "second", "--admin-email", "root@second",
              "--admin-password", "pw-second")
        c = s.client()
        assert c.login("second", "root@second", "pw-second")["user"]["role"] == "tenant_admin"
        p = s.cli("tenant", "create", "--data", s.data, "--tenant", "SECOND", "--admin-email", "x@y",
                  "--admin-password", "p", check=False)
        assert p.returncode == 1 and "unique" in p.stderr.lower()


def test_clean_shutdown_keeps_writes():
    with Server() as s:
        s.start()
        c = s.admin()
        clinic = new_clinic(c, "KEEP")
        ids = [c.send("row.insert", {"table": "clinics", "row": {"name": "k", "code": "K%d" % i}}) for i in range(200)]
        acked = [Client.result(c.wait(m))["id"] for m in ids]
        s.stop()  # SIGTERM: exit status 0 and no sanitizer report, or this fails
        s.start()
        c = s.admin()
        for cid in acked + [clinic["id"]]:
            c.call("row.get", {"table": "clinics", "id": cid})


def test_sigterm_under_load():
    """SIGTERM while writes pour in: a clean exit (no leak, no sanitizer report), and every
    write the server acknowledged is there after a restart; the rest got `busy` or no
    answer, never a false success."""
    import signal
    with Server() as s:
        s.start()
        c = s.admin()
        payload = b"".join(msgpack.packb([0, 100 + i, "row.insert", [{"table": "clinics", "row": {
            "name": "t", "code": "TERM%d" % i}}]], use_bin_type=True) for i in range(2000))
        c.send_raw(payload)
        first = c.read_message()
        s.proc.send_signal(signal.SIGTERM)
        acked = []
        msg = first
        while msg is not None:
            if msg[2] is None:
                acked.append(msg[3]["id"])
            else:
                assert msg[2][0] == "busy", msg
            try:
                msg = c.read_message()
            except (ConnectionResetError, OSError):
                break
        s.stop()  # exit status 0, no sanitizer report
        s.start()
        c = s.admin()
        for cid in acked:
            c.call("row.get", {"table": "clinics", "id": cid})
        print("  %d of 2000 writes acknowledged before the shutdown, all present after it" % len(acked))


def test_map_grows_instead_of_failing():
    """A 1 MiB map fills after a few hundred rows; the writer grows it and retries."""
    with Server(demo=False, extra_args=["--map-size", "1M"]) as s:
        s.start()
        c = s.admin()
        big = "x" * 2000
        msgids = [c.send("row.insert", {"table": "clinics", "row": {"name": "m", "code": "M%d" % i,
                                                                   "address_line1": big[:255], "website": big[:500]}})
                  for i in range(3000)]
        ids = [c.result(c.wait(m))["id"] for m in msgids]
        info = c.call("sys.info")
        assert info["writer"]["map_grows"] > 0 and info["map_size"] > (1 << 20), info
        assert c.call("row.get", {"table": "clinics", "id": ids[0]})["code"] == "M0"
        assert c.call("row.get", {"table": "clinics", "id": ids[-1]})["code"] == "M2999"


def test_hello_script():
    """The README's run command prints `python3 scripts/hello.py`: it must work."""
    with Server(demo=True) as s:
        s.start()
        pw = os.path.join(s.tmp, "pw")
        open(pw, "w").write(ADMIN_PASSWORD)
        here = os.path.dirname(os.path.abspath(__file__))
        p = subprocess.run(["/usr/bin/python3", os.path.join(here, "..", "scripts", "hello.py")],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, CLINICKV_PORT=str(s.port), CLINICKV_PASSWORD_FILE=pw))
        assert p.returncode == 0, p.stderr
        assert "the schema has 40 tables" in p.stdout and "Lovelace" in p.stdout


if __name__ == "__main__":
    run_tests([test_sys_and_schema, test_auth, test_lockout_and_session_expiry, test_row_crud_and_validation,
               test_tenant_isolation_by_key, test_pipelining_and_msgids, test_malformed_and_oversized_input,
               test_unix_socket_system_admin, test_no_pharmacy, test_command_line_refusals,
               test_clean_shutdown_keeps_writes, test_sigterm_under_load, test_map_grows_instead_of_failing,
               test_hello_script])
