#!/usr/bin/python3
"""Durability under kill -9: many clients write (single rows and whole point-of-sale
transactions), the server is killed mid-stream, restarted, and every acknowledged
write must be there, and no transaction may be half there. Bounded rounds."""

import os
import random
import subprocess
import threading
import time

from ckserver import ADMIN_EMAIL, ADMIN_PASSWORD, RpcError, Server, binary, run_tests
from posdata import make_pharmacy, sale_ops

ROUNDS = int(os.environ.get("CLINICKV_CRASH_ROUNDS", "4"))
CLIENTS = 12
STOCK = 1_000_000


def writer(s, stop, acked, clinic, drug, batches, n):
    try:
        c = s.client()
        c.login("demo", ADMIN_EMAIL, ADMIN_PASSWORD)
        k = 0
        while not stop.is_set():
            k += 1
            tag = "%d-%d-%d" % (os.getpid(), n, k)
            try:
                if k % 2:
                    r = c.call("row.insert", {"table": "clinics", "row": {"name": "crash", "code": "K" + tag}})
                    acked.append(("clinic", r["id"]))
                else:
                    c.call("txn.run", {"ops": sale_ops(clinic, drug, batches, [1, 1, 1], "S" + tag)})
                    acked.append(("sale", "S" + tag))
            except (ConnectionError, OSError, RpcError):
                return  # the server died under us: whatever was not acknowledged may be lost
    except (ConnectionError, OSError):
        return


def one_round(s, setup, rnd):
    clinic, drug, batches = setup
    stop = threading.Event()
    acked = []
    threads = [threading.Thread(target=writer, args=(s, stop, acked, clinic, drug, batches, n))
               for n in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(0.6 + random.random())
    s.kill9()
    stop.set()
    for t in threads:
        t.join()
    acked = list(acked)
    s.start()
    sysc = s.system()
    c = s.admin()
    for kind, key in acked:
        if kind == "clinic":
            c.call("row.get", {"table": "clinics", "id": key})
    # All committed sales, from the change log: each whole, and the stock agrees.
    ch = sysc.call("changes.since", {"seq": 0, "limit": 10000})
    changes = ch["changes"]
    while len(changes) and ch["changes"]:
        ch = sysc.call("changes.since", {"seq": ch["last_seq"], "limit": 10000})
        changes += ch["changes"]
    sales = {x["id"]: x["row"]["sale_number"] for x in changes if x["table"] == "pharmacy_sales" and x["op"] == "insert"}
    items = {}
    for x in changes:
        if x["table"] == "pharmacy_sale_items" and x["op"] == "insert":
            items.setdefault(x["row"]["sale_id"], []).append(x["row"]["inventory_id"])
    assert set(items) <= set(sales)
    for sid in sales:
        assert sorted(items.get(sid, [])) == sorted(batches), "half-applied sale %s" % sid
    numbers = set(sales.values())
    for kind, key in acked:
        if kind == "sale":
            assert key in numbers, "acknowledged sale %s lost" % key
    for b in batches:
        q = c.call("row.get", {"table": "pharmacy_drug_inventory", "id": b})["quantity"]
        assert q == STOCK - len(sales), (q, len(sales))
    c.close()
    sysc.close()
    return len(acked)


def test_kill9_rounds():
    with Server() as s:
        s.start()
        c = s.admin()
        setup = make_pharmacy(c, batches=3, quantity=STOCK)
        c.close()
        total = 0
        for rnd in range(ROUNDS):
            total += one_round(s, (setup[0]["id"], setup[1]["id"], setup[2]), rnd)
        assert total > 0
        s.stop()
        check = binary("clinickv")
        p = subprocess.run([check, "check", "--data", s.data], capture_output=True, text=True)
        if "unknown command" not in p.stderr:
            assert p.returncode == 0, p.stdout + p.stderr
        print("  %d rounds, %d acknowledged writes verified after kill -9" % (ROUNDS, total))


if __name__ == "__main__":
    run_tests([test_kill9_rounds])
