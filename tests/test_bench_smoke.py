"""The benchmark tools must not rot: clinickv-gen makes a tiny data set (S=0.001) into a
temporary directory, a real server serves it, and clinickv-bench runs every operation for
one second with two clients. Each run must answer every request (errors == 0) and complete
some (ops > 0). Timings are printed, never asserted. docs/bench.md describes the tools.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckserver  # noqa: E402

GEN = ckserver.binary("clinickv-gen")
BENCH = ckserver.binary("clinickv-bench")
OPS = ["ping", "get_patient", "patient_appointments", "book_appointment", "pharmacy_sale",
       "expiring_drugs", "sales_today", "front_desk"]
ANCHOR = "2026-11-26"

state = {}


def gen(data, *extra):
    return subprocess.run([GEN, "--data", data, "--scale", "0.001", "--seed", "7", "--anchor", ANCHOR] +
                          list(extra), capture_output=True, text=True, timeout=300)


def read_ids(data):
    rows = {}
    with open(os.path.join(data, "bench", "ids")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            rows.setdefault(fields[0], []).append(fields[1:])
    return rows


def bench(op, clients=2, duration=1, extra=()):
    srv = state["server"]
    p = subprocess.run([BENCH, "--data", srv.data, "--connect", "127.0.0.1:%d" % srv.port, "--op", op,
                        "--clients", str(clients), "--duration", str(duration), "--json"] + list(extra),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "clinickv-bench --op %s failed (%d): %s" % (op, p.returncode, p.stderr)
    res = json.loads(p.stdout)
    print("     %-21s %8.0f ops/s  p50 %7.1f us  p99 %8.1f us  errors %d  rejected %d" % (
        op, res["ops_per_s"], res["p50_us"], res["p99_us"], res["errors"], res["rejected"]), flush=True)
    return res


def test_gen_makes_a_data_set_the_server_opens():
    srv = ckserver.Server(init=False)
    state["server"] = srv
    p = gen(srv.data)
    assert p.returncode == 0, p.stderr
    ids = read_ids(srv.data)
    # gen.py's counts at S=0.001: 10 tenants, 3 clinics each, 5 patients per tenant (2% soft-deleted)
    assert len(ids["tenant"]) == 10
    assert len(ids["clinic"]) == 30
    assert 40 <= len(ids["patient"]) <= 50
    assert len(ids["batch"]) == 50
    assert ids["anchor"] == [[ANCHOR]]
    srv.start()
    # the generated rows are real rows: a tenant admin logs in with the generated password and
    # reads a patient, whose demographics the server opens (sealed with the data dir's key)
    tenant = ids["tenant"][3]
    with srv.client() as c:
        c.login(tenant[2], tenant[3], ids["password"][0][0])
        pid = next(p[1] for p in ids["patient"] if p[0] == "3")
        row = c.call("row.get", {"table": "patients", "id": pid})
        assert row["id"] == pid
        assert isinstance(row.get("demographics"), dict), row
        assert row["demographics"]["first_name"]
        batch = next(b for b in ids["batch"] if b[0] == "3")
        inv = c.call("row.get", {"table": "pharmacy_drug_inventory", "id": batch[1]})
        assert inv["drug_id"] == batch[2] and inv["clinic_id"] == batch[3]


def test_gen_is_deterministic_and_refuses_an_existing_directory():
    srv = state["server"]
    other = os.path.join(srv.tmp, "again")
    assert gen(other).returncode == 0
    with open(os.path.join(other, "bench", "ids")) as a, open(os.path.join(srv.data, "bench", "ids")) as b:
        assert a.read() == b.read(), "same seed, scale and anchor must give the same data set"
    p = gen(other)
    assert p.returncode != 0 and "already" in p.stderr, p.stderr


def test_every_operation_runs_without_errors():
    for op in OPS:
        res = bench(op)
        assert res["errors"] == 0, "%s: %s" % (op, res["first_error"])
        assert res["ops"] > 0, op
        assert res["ops_per_s"] > 0 and res["p50_us"] > 0 and res["p999_us"] >= res["p50_us"], res
        if op == "front_desk":
            assert set(res["mix"]) >= {"get_patient", "patient_appointments", "book_appointment",
                                       "pharmacy_sale"}, res
            assert sum(res["mix"].values()) == res["ops"], res


def test_pipelined_requests_and_a_request_count():
    res = bench("get_patient", clients=1, duration=30, extra=["--pipeline", "8", "--requests", "500"])
    assert res["errors"] == 0, res["first_error"]
    assert 500 <= res["ops"] <= 500 + 8, res


def test_writes_are_visible_to_the_reports():
    # the pharmacy_sale runs above sold today: sales_today finds those sales with their items
    res = bench("sales_today", clients=1)
    assert res["errors"] == 0 and res["rows_per_op"] >= 1, res


def test_a_wrong_server_is_an_error_not_silence():
    srv = state["server"]
    p = subprocess.run([BENCH, "--data", srv.data, "--connect", "127.0.0.1:%d" % ckserver.free_port(),
                        "--op", "get_patient", "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "connect" in p.stderr, p.stderr


def test_stop():
    state["server"].cleanup()


if __name__ == "__main__":
    for b in (GEN, BENCH):
        if not os.path.exists(b):
            print("skipped: %s is not built" % b)
            sys.exit(77)
    ckserver.run_tests([test_gen_makes_a_data_set_the_server_opens,
                        test_gen_is_deterministic_and_refuses_an_existing_directory,
                        test_every_operation_runs_without_errors,
                        test_pipelined_requests_and_a_request_count,
                        test_writes_are_visible_to_the_reports,
                        test_a_wrong_server_is_an_error_not_silence,
                        test_stop])
