#!/usr/bin/python3
"""The write path: txn.run all-or-nothing, $ref/$add/check, concurrent sales that
would oversell, optimistic concurrency, and the change log."""

import threading

from ckserver import ADMIN_EMAIL, ADMIN_PASSWORD, Client, RpcError, Server, run_tests
from posdata import make_pharmacy, sale_ops


def test_sale_commits_whole():
    with Server() as s:
        s.start()
        c = s.admin()
        clinic, drug, batches = make_pharmacy(c, quantity=10)
        r = c.call("txn.run", {"ops": sale_ops(clinic["id"], drug["id"], batches, [1, 2, 3], "S-1")})
        res = r["results"]
        assert len(res) == 7
        sale = res[0]
        assert all(item["sale_id"] == sale["id"] for item in res[1:4])
        assert [x["quantity"] for x in res[4:]] == [9, 8, 7]
        for b, q in zip(batches, [9, 8, 7]):
            assert c.call("row.get", {"table": "pharmacy_drug_inventory", "id": b})["quantity"] == q


def test_failed_op_rolls_back_everything():
    with Server() as s:
        s.start()
        c = s.admin()
        clinic, drug, batches = make_pharmacy(c, quantity=2)
        before = [c.call("row.get", {"table": "pharmacy_drug_inventory", "id": b}) for b in batches]
        # The third decrement would go below zero: conflict, named by op index and `as`.
        e = c.error("txn.run", {"ops": sale_ops(clinic["id"], drug["id"], batches, [1, 1, 3], "S-X")})
        assert e.code == "conflict", e
        assert e.details["op"] == 6 and e.details["as"] == "stock2" and e.details["column"] == "quantity"
        after = [c.call("row.get", {"table": "pharmacy_drug_inventory", "id": b}) for b in batches]
        assert before == after  # quantities and updated_at unchanged
        # No sale row and no item survived.
        sale = c.call("txn.run", {"ops": [{"op": "insert", "table": "pharmacy_sales", "row": {
            "clinic_id": clinic["id"], "sale_number": "S-X"}}]})  # the number is free again
        assert sale["results"][0]["sale_number"] == "S-X"
        # Any failing op aborts: a duplicate, a missing parent, a bad $ref, an unknown op.
        cases = [
            ([{"op": "insert", "table": "pharmacy_sales", "row": {"clinic_id": clinic["id"], "sale_number": "S-X"}}],
             "unique_violation", 0),
            ([{"op": "insert", "table": "clinics", "row": {"name": "ok", "code": "OK1"}},
              {"op": "insert", "table": "pharmacy_sales", "row": {"clinic_id": {"$ref": "nope.id"}, "sale_number": "S-Y"}}],
             "bad_request", 1),
            ([{"op": "insert", "table": "clinics", "row": {"name": "ok", "code": "OK1"}, "as": "c"},
              {"op": "insert", "table": "pharmacy_sale_items", "row": {"sale_id": {"$ref": "c.id"}}}],
             "not_null_violation", 1),
            ([{"op": "explode", "table": "clinics"}], "bad_request", 0),
            ([{"op": "update", "table": "pharmacy_drug_inventory", "id": batches[0],
               "set": {"batch_id": {"$add": 1}}}], "invalid_value", 0),
        ]
        for ops, code, index in cases:
            e = c.error("txn.run", {"ops": ops})
            assert e.code == code and e.details["op"] == index, (ops, e)
        # The clinic inserted by a failed transaction's first op does not exist.
        e = c.error("txn.run", {"ops": [{"op": "insert", "table": "clinics", "row": {"name": "ok", "code": "OK1"}},
                                        {"op": "get", "table": "clinics", "id": clinic["id"],
                                         "check": {"name": "someone else"}}]})
        assert e.code == "conflict"
        ok = c.call("row.insert", {"table": "clinics", "row": {"name": "ok", "code": "OK1"}})
        assert ok["code"] == "OK1"


def test_limits_and_shapes():
    with Server(extra_args=["--max-txn-ops", "10"]) as s:
        s.start()
        c = s.admin()
        ops = [{"op": "get", "table": "clinics", "id": "01234567-89ab-7def-8123-456789abcdef"}] * 11
        assert c.error("txn.run", {"ops": ops}).code == "too_large"
        assert c.error("txn.run", {"ops": "x"}).code == "bad_request"
        assert c.call("txn.run", {"ops": []}) == {"results": []}
        # Reads inside see the transaction's own writes.
        r = c.call("txn.run", {"ops": [
            {"op": "insert", "table": "clinics", "as": "c", "row": {"name": "n", "code": "TX1"}},
            {"op": "get", "table": "clinics", "id": {"$ref": "c.id"}},
            {"op": "update", "table": "clinics", "id": {"$ref": "c.id"}, "set": {"number_of_chairs": {"$add": 2}}},
            {"op": "delete", "table": "clinics", "id": {"$ref": "c.id"}, "mode": "hard"}]})
        res = r["results"]
        assert res[1]["code"] == "TX1" and res[2]["number_of_chairs"] == 3 and res[3]["deleted"] == 1


def test_concurrent_sales_never_oversell():
    """32 clients sell from one batch of 40 units, 3 units per sale (plus one unit from
    each of two big batches): exactly 13 sales fit; the batch ends at 1, every other
    sale is refused whole."""
    with Server() as s:
        s.start()
        c = s.admin()
        clinic, drug, batches = make_pharmacy(c, batches=3, quantity=1000)
        c.call("row.update", {"table": "pharmacy_drug_inventory", "id": batches[0], "set": {"quantity": 40}})
        results = []
        lock = threading.Lock()

        def seller(n):
            cl = s.client()
            cl.login("demo", ADMIN_EMAIL, ADMIN_PASSWORD)
            for k in range(3):
                number = "C-%d-%d" % (n, k)
                try:
                    cl.call("txn.run", {"ops": sale_ops(clinic["id"], drug["id"], batches, [3, 1, 1], number)})
                    ok = True
                except RpcError as e:
                    assert e.code == "conflict" and e.details["as"] == "stock0", e
                    ok = False
                with lock:
                    results.append((number, ok))
            cl.close()

        threads = [threading.Thread(target=seller, args=(n,)) for n in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sold = [n for n, ok in results if ok]
        assert len(results) == 96 and len(sold) == 13, len(sold)
        q = [c.call("row.get", {"table": "pharmacy_drug_inventory", "id": b})["quantity"] for b in batches]
        assert q == [1, 1000 - 13, 1000 - 13], q
        # Every acknowledged sale is whole; no refused sale left anything behind (via the log).
        ch = s.system().call("changes.since", {"seq": 0, "limit": 10000})["changes"]
        sales = {x["row"]["sale_number"]: x["id"] for x in ch if x["table"] == "pharmacy_sales"}
        assert sorted(sales) == sorted(sold)
        items = [x["row"]["sale_id"] for x in ch if x["table"] == "pharmacy_sale_items"]
        assert sorted(items) == sorted(sid for sid in sales.values() for _ in range(3))


def test_changes_since():
    with Server(demo=False) as s:
        s.start()
        c = s.admin()
        last = c.call("changes.since", {"seq": 0})["last_seq"]
        clinic = c.call("row.insert", {"table": "clinics", "row": {"name": "a", "code": "CH1"}})
        c.call("row.update", {"table": "clinics", "id": clinic["id"], "set": {"name": "b"}})
        c.call("row.delete", {"table": "clinics", "id": clinic["id"], "mode": "hard"})
        r = c.call("changes.since", {"seq": last})
        ch = r["changes"]
        assert [x["op"] for x in ch] == ["insert", "update", "delete"]
        assert [x["seq"] for x in ch] == list(range(last + 1, last + 4)) and r["last_seq"] == last + 3
        assert ch[0]["row"]["name"] == "a" and ch[1]["row"]["name"] == "b" and ch[2]["row"] is None
        assert all(x["table"] == "clinics" and x["id"] == clinic["id"] for x in ch)
        me = c.call("auth.whoami")
        assert ch[0]["by"] == me["user_id"] and ch[0]["tenant_id"] == me["tenant_id"]
        assert ch[0]["at"].endswith("Z")
        # Paging with limit; nothing after the end.
        assert len(c.call("changes.since", {"seq": last, "limit": 2})["changes"]) == 2
        end = c.call("changes.since", {"seq": last + 3})
        assert end == {"changes": [], "last_seq": last + 3}
        assert c.error("changes.since", {"seq": 0, "limit": 0}).code == "bad_request"
        assert c.error("changes.since", {}).code == "bad_request"
        # Another tenant's admin sees only its own changes; staff may not read the log.
        s.cli("tenant", "create", "--data", s.data, "--tenant", "b", "--admin-email", "b@b",
              "--admin-password", "pw")
        b = s.client()
        b.login("b", "b@b", "pw")
        theirs = b.call("changes.since", {"seq": 0, "limit": 10000})["changes"]
        assert theirs and all(x["tenant_id"] == b.call("auth.whoami")["tenant_id"] for x in theirs)
        assert not any(x["id"] == clinic["id"] for x in theirs)
        every = s.system().call("changes.since", {"seq": 0, "limit": 10000})["changes"]
        assert len(every) > len(theirs)
        c.call("row.insert", {"table": "users", "row": {"email": "rx@a", "first_name": "r", "last_name": "x",
                                                      "role": "receptionist", "password": "pw-rx", "status": "active"}})
        r = s.client()
        r.login("demo", "rx@a", "pw-rx")
        assert r.error("changes.since", {"seq": 0}).code == "forbidden"


def test_log_retention():
    with Server(demo=False, extra_args=["--log-retention", "50"]) as s:
        s.start()
        c = s.admin()
        for i in range(120):
            c.call("row.insert", {"table": "clinics", "row": {"name": "r", "code": "R%d" % i}})
        info = c.call("sys.info")["changes"]
        assert info["last_seq"] - info["first_seq"] + 1 <= 51, info
        ch = s.system().call("changes.since", {"seq": 0, "limit": 10000})
        assert ch["changes"][0]["seq"] == info["first_seq"] and ch["last_seq"] == info["last_seq"]


if __name__ == "__main__":
    run_tests([test_sale_commits_whole, test_failed_op_rolls_back_everything, test_limits_and_shapes,
               test_concurrent_sales_never_oversell, test_changes_since, test_log_retention])
