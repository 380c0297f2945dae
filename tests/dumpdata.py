"""Data and tool helpers for the dump/restore tests (a helper module, not a test).

    import dumpdata
    fac = dumpdata.populate(srv)          # rows in all 40 tables, through row.insert
    dumpdata.mutate(fac, 1)               # inserts, updates, soft and hard deletes
    p = dumpdata.tool("clinickv-dump", "--data", d, "-o", path)

The rows are made by tests/rowfactory.py from schema.describe, with every writable
column filled, plus what the factory does not make by itself: the self-references and
circular foreign keys a dump must order (product_categories.parent_id,
clinical_notes.amended_from_note_id, appointments.recurrence_id), strings that SQL and
JSON must escape, and nested JSON values.
"""

import os
import subprocess

import ckserver
from rowfactory import RowFactory

PASSWORD = ckserver.ADMIN_PASSWORD
# Everything SQL or JSON must escape, and characters outside ASCII.
NASTY = "O'Brien \\ \"Dental\"\nSupply\t\r\x1a Zoë ☺ 𝄞 -- ; DROP TABLE x;"
NASTY_JSON = {"quote": "it's \"ok\"", "slash": "a\\b", "nested": [1, -2, 2.5, None, True,
              {"ü": ["x\ny"]}], "big": 9007199254740993, "neg": -(2 ** 40)}


def tool(name, *args, check=True, input=None, env=None):
    """Run build/NAME ARGS; a CompletedProcess with bytes output. check: exit 0 expected.
    Any sanitizer report fails the test either way."""
    e = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", **(env or {}))
    p = subprocess.run([ckserver.binary(name)] + [str(a) for a in args], capture_output=True,
                       input=input, env=e, timeout=900)
    err = p.stderr.decode("utf-8", "replace")
    assert "Sanitizer" not in err and "runtime error" not in err, err
    if check and p.returncode != 0:
        raise AssertionError("%s %s failed (%d):\n%s%s" % (name, " ".join(map(str, args)), p.returncode,
                                                        p.stdout.decode("utf-8", "replace"), err))
    return p


def clinickv(*args, check=True):
    return tool("clinickv", *args, check=check)


def describe(client):
    return client.call("schema.describe")["tables"]


def populate(srv, client=None, rounds=2):
    """Rows in every table of the tenant `client` is logged into (the demo tenant's admin
    by default), and platform rows (performance_metrics) through the system socket.
    Returns the factory (its client stays open: close fac.client when done)."""
    c = client or srv.admin()
    desc = describe(c)
    fac = RowFactory(c, describe=desc, fill="all")
    for t in desc:
        if t["name"] in ("tenants", "performance_metrics"):
            continue
        for _ in range(rounds):
            fac.make(t["name"])
    # Self-references and the circular pair: parents named by rows of the same table,
    # or of a later one in load order.
    cat = fac.make("product_categories")
    fac.make("product_categories", {"parent_id": cat["id"], "description": NASTY})
    note = fac.make("clinical_notes")
    fac.make("clinical_notes", {"amended_from_note_id": note["id"]})
    rec = fac.make("appointment_recurrences")
    appt = fac.make("appointments", {"notes": NASTY, "planned_procedures": NASTY_JSON})
    c.call("row.update", {"table": "appointments", "id": appt["id"],
                          "set": {"recurrence_id": rec["id"]}})
    fac.make("suppliers", {"name": NASTY[:200]})
    with srv.system() as s:
        sfac = RowFactory(s, describe=desc, fill="all")
        for _ in range(rounds):
            sfac.make("performance_metrics")
    return fac


def mutate(fac, n):
    """A round of writes of every kind: inserts, updates, soft delete and restore, and
    hard deletes that cascade and set NULL (ON DELETE rules), so a replay of the change
    log has all of them to apply."""
    c = fac.client
    for t in ("patients", "appointments", "invoices", "invoice_items", "pharmacy_sales",
              "pharmacy_sale_items", "orders", "order_items", "clinical_notes"):
        fac.make(t)
    pat = fac.make("patients")
    c.call("row.update", {"table": "patients", "id": pat["id"],
                          "set": {"preferred_language": "fr", "consent_flags": {"round": n}}})
    c.call("row.delete", {"table": "patients", "id": pat["id"]})            # soft
    c.call("row.restore", {"table": "patients", "id": pat["id"]})
    order = fac.make("orders")
    fac.make("order_items", {"order_id": order["id"]})
    c.call("row.delete", {"table": "orders", "id": order["id"], "mode": "hard"})  # cascades
    appt = fac.make("appointments")
    fac.make("appointment_recurrences", {"appointment_id": appt["id"]})
    fac.make("clinical_notes", {"appointment_id": appt["id"]})
    # cascades to recurrences and conflicts, sets clinical_notes.appointment_id NULL
    c.call("row.delete", {"table": "appointments", "id": appt["id"], "mode": "hard"})
    prod = fac.make("products")
    c.call("row.update", {"table": "products", "id": prod["id"], "set": {"unit_price": "12.50"}})


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def seq_of(path):
    with open(path) as f:
        return int(f.read())
