"""A hard delete of a clinic with 10,010 dependent rows, through a real server.

The clinic gets staff, patients, appointments, clinical notes, treatment plans,
invoices with items and payments, stock, stock movements and purchase orders with
lines (built with pipelined row.insert: many requests in flight on one connection).
Outside it: another clinic's pharmacy sales for its patients (SET NULL), and one
payment taken at the other clinic for one of its invoices (RESTRICT, three levels
down: clinic -> patient -> invoice <- payment). While part of it is written,
`clinickv check` runs beside the server and must find its snapshot consistent.

1. The delete is refused with restrict_violation naming fk_payments_invoice, the
   payments table and count 1, and every row stays where it was: the row counts of
   every table (`clinickv check --json`, read-only beside the server) and the change
   log's last sequence number are unchanged, and the check finds no problem.
2. Once that payment is gone the delete succeeds: the answer counts exactly what was
   cascaded and set to NULL per table; it was one write request in one group commit
   (sys.info's writer counters); the tables lost exactly those rows; the check is
   clean.
"""

import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckserver import CLINICKV, RpcError, Server, run_tests  # noqa: E402

PATIENTS = 200
APPTS_PER_PATIENT = 25
NOTES_PER_PATIENT = 5
INVOICES_PER_PATIENT = 3
ITEMS_PER_INVOICE = 3
STAFF = 10
PRODUCTS = 100
MOVES_PER_PRODUCT = 3
ORDERS = 50
LINES_PER_ORDER = 3
OUTSIDE_SALES = 5
WINDOW = 256  # requests in flight at once

EXPECTED_CASCADE = {
    "users": STAFF,
    "patients": PATIENTS,
    "appointments": PATIENTS * APPTS_PER_PATIENT,
    "clinical_notes": PATIENTS * NOTES_PER_PATIENT,
    "treatment_plans": PATIENTS,
    "invoices": PATIENTS * INVOICES_PER_PATIENT,
    "invoice_items": PATIENTS * INVOICES_PER_PATIENT * ITEMS_PER_INVOICE,
    "payments": PATIENTS * INVOICES_PER_PATIENT,
    "inventory": PRODUCTS,
    "inventory_transactions": PRODUCTS * MOVES_PER_PRODUCT,
    "orders": ORDERS,
    "order_items": ORDERS * LINES_PER_ORDER,
}
# The outside sales forget their patient; the payments' audit trail rows
# (storage/audit.c: one per payment insert) forget their payment.
EXPECTED_SET_NULL = {
    "pharmacy_sales": OUTSIDE_SALES,
    "payment_audit_log": PATIENTS * INVOICES_PER_PATIENT,
}


class S:
    srv = None
    admin = None
    clinic = None
    blocker = None  # the outside payment
    ids = {}        # table -> ids inside the clinic's tree


def new_id():
    return str(uuid.uuid4())


def pipeline(client, requests):
    """Send (table, row) inserts WINDOW at a time without waiting; raise on the first error."""
    requests = list(requests)
    for i in range(0, len(requests), WINDOW):
        chunk = requests[i:i + WINDOW]
        msgids = [client.send("row.insert", {"table": t, "row": r}) for t, r in chunk]
        for (t, r), m in zip(chunk, msgids):
            client.result(client.wait(m))


def add(table, row, batch):
    row.setdefault("id", new_id())
    batch.append((table, row))
    S.ids.setdefault(table, []).append(row["id"])
    return row["id"]


def counts():
    p = S.srv.cli("check", "--data", S.srv.data, "--json", check=False)
    rep = json.loads(p.stdout)
    assert p.returncode == 0 and rep["ok"], rep["problems"][:10]
    return rep["rows"]


def info():
    return S.admin.call("sys.info")


def test_build_the_clinic():
    S.srv = Server()
    S.srv.start()
    S.admin = S.srv.admin()
    start = time.time()
    clinic, other = new_id(), new_id()
    pipeline(S.admin, [("clinics", {"id": clinic, "name": "Doomed", "code": "DOOM"}),
                       ("clinics", {"id": other, "name": "Survivor", "code": "SURV"})])
    S.clinic = clinic

    level1 = []
    staff = [add("users", {"email": "staff%d@doomed.example" % i, "first_name": "S",
                           "last_name": str(i), "role": "dentist", "clinic_id": clinic}, level1)
             for i in range(STAFF)]
    patients = [add("patients", {"clinic_id": clinic, "medical_record_number": "D-%05d" % i,
                                 "demographics": {"first_name": "P", "last_name": "N%d" % i}},
                    level1) for i in range(PATIENTS)]
    products = []
    for i in range(PRODUCTS):
        pid = new_id()
        level1.append(("products", {"id": pid, "sku": "SKU-%04d" % i, "name": "Item %d" % i,
                                    "unit_price": "2.50"}))
        products.append(pid)
    orders = [add("orders", {"clinic_id": clinic, "order_number": "PO-%04d" % i}, level1)
              for i in range(ORDERS)]
    pipeline(S.admin, level1)

    level2 = []
    appts, invoices, plans = {}, [], {}
    for n, p in enumerate(patients):
        appts[p] = [add("appointments", {"clinic_id": clinic, "patient_id": p,
                                         "dentist_id": staff[n % STAFF],
                                         "appointment_date": "2026-%02d-%02dT%02d:00:00Z"
                                         % (1 + a % 12, 1 + n % 28, 8 + a % 9)}, level2)
                    for a in range(APPTS_PER_PATIENT)]
        plans[p] = add("treatment_plans", {"clinic_id": clinic, "patient_id": p,
                                           "plan_number": "TP-%05d" % n, "title": "Plan"}, level2)
    for i, p in enumerate(products):
        add("inventory", {"clinic_id": clinic, "product_id": p}, level2)
        for m in range(MOVES_PER_PRODUCT):
            add("inventory_transactions", {"clinic_id": clinic, "product_id": p,
                                           "transaction_type": "usage", "quantity": -1 - m}, level2)
    for i, o in enumerate(orders):
        for k in range(LINES_PER_ORDER):
            add("order_items", {"order_id": o, "product_id": products[(i * 3 + k) % PRODUCTS],
                                "product_name": "Item", "quantity": 1, "unit_price": "2.50",
                                "line_total": "2.50"}, level2)
    # `clinickv check` beside a server that is writing: whatever it overlaps, it reads
    # one snapshot, which must be consistent.
    check = subprocess.Popen([CLINICKV, "check", "--data", S.srv.data, "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pipeline(S.admin, level2)
    out, err = check.communicate(timeout=600)
    rep = json.loads(out)
    assert check.returncode == 0 and rep["ok"], (err, rep["problems"][:10])

    level3 = []
    for n, p in enumerate(patients):
        for k in range(NOTES_PER_PATIENT):
            add("clinical_notes", {"clinic_id": clinic, "patient_id": p, "author_id": staff[0],
                                   "appointment_id": appts[p][k], "content": {"text": "note"}},
                level3)
        for k in range(INVOICES_PER_PATIENT):
            inv = add("invoices", {"clinic_id": clinic, "patient_id": p,
                                   "treatment_plan_id": plans[p],
                                   "invoice_number": "D-%05d-%d" % (n, k),
                                   "issue_date": "2026-10-01"}, level3)
            invoices.append(inv)
    pipeline(S.admin, level3)

    level4 = []
    for i, inv in enumerate(invoices):
        for k in range(ITEMS_PER_INVOICE):
            add("invoice_items", {"invoice_id": inv, "line_number": k + 1, "description": "x",
                                  "unit_price": "10.00", "line_total": "10.00"}, level4)
        add("payments", {"clinic_id": clinic, "invoice_id": inv, "payment_number": "DP-%05d" % i,
                         "amount": "10.00", "payment_method": "cash"}, level4)
    # Outside the clinic: sales at the other clinic for its patients, and the blocker.
    outside = []
    for i in range(OUTSIDE_SALES):
        outside.append(("pharmacy_sales", {"clinic_id": other, "patient_id": patients[i],
                                           "sale_number": "S-%03d" % i}))
    S.blocker = new_id()
    outside.append(("payments", {"id": S.blocker, "clinic_id": other, "invoice_id": invoices[-1],
                                 "payment_number": "OUT-1", "amount": "5.00",
                                 "payment_method": "credit_card"}))
    pipeline(S.admin, level4 + outside)
    built = sum(len(v) for v in S.ids.values())
    assert built == sum(EXPECTED_CASCADE.values()), built
    print("  built %d rows in the clinic's tree in %.1f s" % (built, time.time() - start))


def test_restrict_deep_in_the_tree_changes_nothing():
    before = counts()
    seq = info()["changes"]["last_seq"]
    try:
        S.admin.call("row.delete", {"table": "clinics", "id": S.clinic, "mode": "hard"})
        raise AssertionError("the delete succeeded")
    except RpcError as e:
        assert e.code == "restrict_violation", e
        assert e.details["constraint"] == "fk_payments_invoice", e.details
        assert e.details["child_table"] == "payments", e.details
        assert e.details["count"] == 1, e.details
    assert info()["changes"]["last_seq"] == seq
    assert counts() == before
    assert S.admin.call("row.get", {"table": "clinics", "id": S.clinic})["id"] == S.clinic


def test_delete_the_clinic_in_one_transaction():
    S.admin.call("row.delete", {"table": "payments", "id": S.blocker, "mode": "hard"})
    before = counts()
    w0 = info()["writer"]
    start = time.time()
    res = S.admin.call("row.delete", {"table": "clinics", "id": S.clinic, "mode": "hard"})
    elapsed = time.time() - start
    w1 = info()["writer"]
    assert res["deleted"] == 1
    assert res["cascaded"] == EXPECTED_CASCADE, res["cascaded"]
    assert res["set_null"] == EXPECTED_SET_NULL, res["set_null"]
    total = sum(res["cascaded"].values())
    assert total >= 10000
    # One request, committed by one group commit: nothing else was writing.
    assert w1["write_requests"] - w0["write_requests"] == 1, (w0, w1)
    assert w1["group_commits"] - w0["group_commits"] == 1, (w0, w1)
    after = counts()
    for table, n in before.items():
        gone = res["cascaded"].get(table, 0) + (1 if table == "clinics" else 0)
        if table == "payment_audit_log":
            # Each removed payment leaves a "deleted" audit row (storage/audit.c).
            assert after[table] == n + EXPECTED_CASCADE["payments"], (table, n, after[table])
        else:
            assert after[table] == n - gone, (table, n, after[table])
    for table, ids in S.ids.items():
        for i in ids[:3] + ids[-3:]:
            try:
                S.admin.call("row.get", {"table": table, "id": i, "with_deleted": True})
                raise AssertionError("%s %s survived" % (table, i))
            except RpcError as e:
                assert e.code == "not_found"
    print("  hard delete of the clinic: %d rows cascaded, %d set to NULL, in %.2f s"
          % (total, sum(res["set_null"].values()), elapsed))
    S.srv.stop()


if __name__ == "__main__":
    try:
        run_tests([test_build_the_clinic, test_restrict_deep_in_the_tree_changes_nothing,
                   test_delete_the_clinic_in_one_transaction])
    finally:
        if S.srv:
            S.srv.cleanup()
