"""row.query against a real server: every answer compared with a brute-force
filter-and-sort in Python over the same rows.

- random data and random queries (equality, ranges, in/ne/is_null, both
  directions, every page of every query);
- pagination while other clients insert and delete rows between pages;
- the seed's three common queries on a data set with noise in another tenant and
  soft-deleted rows, with explain showing that each visits only the keys it
  returns (plus the one that ends the walk);
- includes, no_index, limits, cursors, with_deleted, clinic scope, PHI search,
  the tenants row, txn.run's query op.

CLINICKV_QUERY_SEED fixes the random seed (printed at the start).
"""

import datetime
import os
import random
import sys
import zoneinfo
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckserver import RpcError, Server, run_tests  # noqa: E402

SEED = int(os.environ.get("CLINICKV_QUERY_SEED") or random.SystemRandom().randrange(1 << 30))
print("seed", SEED, flush=True)

# ---------------------------------------------------------------- the schema as data


class Schema:
    """Column types and indexes of a table, from schema.describe."""

    def __init__(self, client, table):
        t = client.call("schema.describe", {"table": table})["tables"][0]
        self.types = {c["name"]: c["type"] for c in t["columns"]}
        self.indexes = {ix["name"]: [c for c in ix["columns"] if c != "tenant_id"]
                        for ix in t["indexes"]}
        self.indexes["PRIMARY"] = []
        self.enums = {}
        for name, ty in self.types.items():
            if ty.startswith("ENUM("):
                values = [v.strip().strip("'") for v in ty[5:-1].split(",")]
                self.enums[name] = {v: i for i, v in enumerate(values)}

    def key(self, col, v):
        """How the server orders and compares a non-NULL value: collation key for
        strings (the test uses ASCII only), ordinal for ENUMs."""
        ty = self.types[col]
        if col in self.enums:
            return self.enums[col][v]
        if ty.startswith("DECIMAL"):
            return Decimal(v)
        if isinstance(v, str) and ty.startswith(("VARCHAR", "CHAR", "TEXT")):
            return v.lower().rstrip(" ")
        return v

    def sort_key(self, col, v):
        return (0,) if v is None else (1, self.key(col, v))


def matches(schema, row, where):
    for col, spec in where.items():
        v = row[col]
        ops = spec if isinstance(spec, dict) else {"eq": spec}
        for op, arg in ops.items():
            k = None if v is None else schema.key(col, v)
            if op == "eq":
                ok = v is None if arg is None else (v is not None and k == schema.key(col, arg))
            elif op == "ne":
                ok = v is not None if arg is None else (v is not None and k != schema.key(col, arg))
            elif op in ("gt", "gte", "lt", "lte"):
                a = schema.key(col, arg)
                ok = v is not None and {"gt": k > a, "gte": k >= a, "lt": k < a, "lte": k <= a}[op]
            elif op == "in":
                ok = any((a is None and v is None) or
                         (a is not None and v is not None and k == schema.key(col, a)) for a in arg)
            elif op == "is_null":
                ok = (v is None) == arg
            else:
                raise AssertionError("brute force has no operator " + op)
            if not ok:
                return False
    return True


def brute(schema, rows, where, index_cols, desc, with_deleted=False):
    """The rows a query must return, in the order of the index that serves it:
    its key columns (tenant_id aside), then id."""
    out = [r for r in rows if (with_deleted or r.get("deleted_at") is None) and
           matches(schema, r, where)]
    out.sort(key=lambda r: [schema.sort_key(c, r[c]) for c in index_cols] + [r["id"]],
             reverse=desc)
    return out


def all_pages(client, params, check_page=None):
    """Every row of a query, following next; asserts each page's size."""
    rows, after, pages = [], None, 0
    limit = params.get("limit", 100)
    while True:
        p = dict(params, explain=True)
        if after is not None:
            p["after"] = after
        res = client.call("row.query", p)
        pages += 1
        assert len(res["rows"]) <= limit, (len(res["rows"]), limit)
        if check_page:
            check_page(res)
        rows.extend(res["rows"])
        after = res["next"]
        if after is None:
            return rows, res["explain"], pages
        assert pages < 10000, "pagination does not end"


def ids(rows):
    return [r["id"] for r in rows]


def ts(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def pipelined(client, method, params_list):
    """Send every request, then read every response (group commit batches them)."""
    msgids = [client.send(method, p) for p in params_list]
    return [client.result(client.wait(m)) for m in msgids]


def demographics(first, last, dob):
    return {"first_name": first, "last_name": last, "date_of_birth": dob,
            "phone": "+1 555 %04d" % random.randrange(10000), "email": "%s.%s@example.com" % (
                first.lower(), last.lower())}


# ---------------------------------------------------------------- random data, random queries

STATUSES = ["scheduled", "confirmed", "completed", "cancelled", "no_show"]
OPERATORIES = ["Op 1", "op 1", "OP 2 ", "Room-3", "room-3", None]


def make_appointments(client, rng, n, clinics, patients, dentists, day):
    slots = [day + datetime.timedelta(hours=h) for h in range(0, 24 * 6, 3)]
    params = []
    for _ in range(n):
        params.append({"table": "appointments", "row": {
            "clinic_id": rng.choice(clinics),
            "patient_id": rng.choice(patients),
            "dentist_id": rng.choice(dentists + [None]),
            "appointment_date": ts(rng.choice(slots)),
            "status": rng.choice(STATUSES),
            "operatory": rng.choice(OPERATORIES),
            "duration_minutes": rng.choice([15, 30, 45, 60, 90]),
            "reason": rng.choice(["pain", "Pain", "checkup", None]),
        }})
    return pipelined(client, "row.insert", params)


def random_query(rng, schema, values):
    """A query built on one of appointments' indexes (equality on a prefix of its
    columns, a range and an order on the next), sometimes with a filter left for
    the rows. Returns (params, bounded)."""
    choices = ["idx_appointments_patient", "idx_appointments_tenant_patient_date",
               "idx_appointments_date_status", "idx_appointments_tenant_status_date",
               "idx_appointments_clinic_date", "idx_appointments_clinic_operatory_date",
               "idx_appointments_dentist_date", "PRIMARY"]
    name = rng.choice(choices)
    cols = schema.indexes[name] if name != "PRIMARY" else ["id"]
    where = {}
    k = rng.randrange(0, len(cols) + 1)
    for c in cols[:k]:
        if c == "id":
            where["id"] = rng.choice(values["id"]) if rng.random() < 0.5 else {
                "in": rng.sample(values["id"], 3)}
        else:
            where[c] = rng.choice(values[c])
    order = []
    if k < len(cols):
        c = cols[k]
        if rng.random() < 0.6 and c in values:
            lo, hi = sorted(rng.sample([v for v in values[c] if v is not None], 2),
                            key=lambda v: schema.key(c, v))
            ops = rng.choice([("gte", "lt"), ("gt", "lte"), ("gte",), ("lt",), ("gt", "lt")])
            where[c] = {op: (lo if op.startswith("g") else hi) for op in ops}
        desc = rng.random() < 0.5
        if rng.random() < 0.8:
            order = [[c, "desc" if desc else "asc"]]
            if rng.random() < 0.3:
                order += [[c2, "desc" if desc else "asc"] for c2 in cols[k + 1:]] + [
                    ["id", "desc" if desc else "asc"]]
    ranged = k < len(cols) and isinstance(where.get(cols[k]), dict)
    # Filters left for the rows, on columns the query does not filter yet.
    residual = rng.choice([
        ("status", {"ne": rng.choice(STATUSES)}),
        ("reason", {"in": rng.sample(["pain", "PAIN ", "checkup", None], 2)}),
        ("duration_minutes", {"gte": rng.choice([30, 45])}),
        ("hygienist_id", {"is_null": True}),
        ("operatory", {"is_null": rng.random() < 0.5}),
        ("operatory", {"in": ["op 1", "ROOM-3"]}),
        ("appointment_date", {"ne": rng.choice(values["appointment_date"])}),
    ] + [None] * 7)
    if residual and residual[0] not in where:
        where[residual[0]] = residual[1]
    # Bounded: the index it was built on matches a leading column by equality or
    # range (or nothing is filtered); otherwise only allow_scan, or an index that
    # happens to serve the other filters, answers it.
    bounded = k > 0 or ranged or not where
    params = {"table": "appointments", "where": where, "limit": rng.choice([1, 2, 3, 5, 7, 20, 100])}
    if order:
        params["order_by"] = order
    if rng.random() < 0.2:
        params["with_deleted"] = True
    if not bounded and rng.random() < 0.5:
        params["allow_scan"] = True
    return params, bounded


def check_order(schema, rows, order):
    """Rows are sorted by order_by (as the server compares values)."""
    if not order:
        return
    desc = order[0][1] == "desc"
    keys = [[schema.sort_key(c, r[c]) for c, _ in order] for r in rows]
    assert keys == sorted(keys, reverse=desc), "rows out of order_by order"


def test_random_queries_match_brute_force():
    rng = random.Random(SEED)
    with Server() as s:
        s.start()
        c = s.admin()
        schema = Schema(c, "appointments")
        clinics = [c.call("row.query", {"table": "clinics"})["rows"][0]["id"]]
        for code in ("EAST", "WEST"):
            clinics.append(c.call("row.insert", {"table": "clinics", "row": {
                "name": code.title(), "code": code}})["id"])
        patients = ids(c.call("row.query", {"table": "patients"})["rows"])
        dentists = [u["id"] for u in c.call("row.query", {"table": "users"})["rows"]
                    if u["role"] in ("dentist", "hygienist")]
        day = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
        before = c.call("row.query", {"table": "appointments", "limit": 1000})["rows"]
        made = make_appointments(c, rng, 400, clinics, patients, dentists, day)
        # Soft-delete one in eight, hard-delete a few.
        for a in made[::8]:
            c.call("row.delete", {"table": "appointments", "id": a["id"]})
        for a in made[3::50]:
            c.call("row.delete", {"table": "appointments", "id": a["id"], "mode": "hard"})
        # The truth, read back one by one (not through row.query).
        truth = []
        for a in before + made:
            try:
                truth.append(c.call("row.get", {"table": "appointments", "id": a["id"],
                                                "with_deleted": True}))
            except RpcError as e:
                assert e.code == "not_found"
        assert len(truth) > 380
        values = {col: sorted({r[col] for r in truth}, key=lambda v: (v is not None, str(v)))
                  for col in ("patient_id", "clinic_id", "dentist_id", "appointment_date",
                              "status", "operatory", "id")}
        values["id"] = [r["id"] for r in truth]
        # Values of other case and spacing for strings, and one that is nowhere.
        values["operatory"] += ["OP 1", "room-3 "]
        values["status"] = STATUSES + ["rescheduled"]
        values["appointment_date"] += [ts(day - datetime.timedelta(days=1)), ts(
            day + datetime.timedelta(hours=7, minutes=30))]
        ran = refused = 0
        for i in range(160):
            params, bounded = random_query(rng, schema, values)
            try:
                rows, explain, pages = all_pages(c, params)
            except RpcError as e:
                # Only a query no index bounds may be refused, and only without allow_scan.
                assert e.code == "no_index" and not bounded and not params.get("allow_scan"), (
                    params, e)
                assert "idx_appointments_tenant_patient_date" in e.details["indexes"]
                refused += 1
                continue
            ran += 1
            index_cols = schema.indexes[explain["index"]]
            want = brute(schema, truth, params["where"], index_cols,
                         explain["direction"] == "desc", params.get("with_deleted", False))
            assert ids(rows) == ids(want), "query %d %r:\n got  %r\n want %r\n explain %r" % (
                i, params, ids(rows), ids(want), explain)
            check_order(schema, rows, params.get("order_by"))
            # `next` is nil exactly when no matching row is left: no empty last page.
            assert pages == max(1, -(-len(want) // params["limit"])), (pages, len(want), params)
            if not explain["scan"] and params["where"]:
                assert explain["eq"] or explain["range"] or explain["kind"] == "primary_key", \
                    explain
        assert ran > 100 and refused > 0, (ran, refused)


def test_pages_while_rows_come_and_go():
    """Resuming after the last row's key: rows inserted behind the cursor never
    show, rows inserted ahead do, rows deleted ahead do not, nothing repeats."""
    rng = random.Random(SEED + 1)
    with Server() as s:
        s.start()
        c, other = s.admin(), s.admin()
        clinic = c.call("row.query", {"table": "clinics"})["rows"][0]["id"]
        patients = ids(c.call("row.query", {"table": "patients"})["rows"])
        day = datetime.datetime(2027, 1, 4, 8, tzinfo=datetime.timezone.utc)
        made = make_appointments(other, rng, 60, [clinic], patients, [], day)
        for desc in (False, True):
            query = {"table": "appointments", "where": {"clinic_id": clinic},
                     "order_by": [["appointment_date", "desc" if desc else "asc"]], "limit": 4}

            def key(r):
                return (r["appointment_date"], r["id"])

            def beyond(k, last):
                return last is None or (k < last if desc else k > last)

            present = {r["id"]: r for r in c.call("row.query", dict(query, limit=1000))["rows"]}
            expected = dict(present)
            returned, last, after = [], None, None
            while True:
                p = dict(query, explain=True)
                if after:
                    p["after"] = after
                res = c.call("row.query", p)
                assert res["explain"]["index"] == "idx_appointments_clinic_date"
                for r in res["rows"]:
                    assert beyond(key(r), last), "a row at or behind the cursor came back"
                    last = key(r)
                    returned.append(r["id"])
                after = res["next"]
                if after is None:
                    break
                # Another client writes between pages.
                for r in make_appointments(other, rng, 3, [clinic], patients, [], day):
                    present[r["id"]] = r
                    if beyond(key(r), last):
                        expected[r["id"]] = r
                ahead = [i for i in present if i not in returned and beyond(key(present[i]), last)]
                for victim in rng.sample(ahead, min(2, len(ahead))):
                    mode = rng.choice(["soft", "hard"])
                    other.call("row.delete", {"table": "appointments", "id": victim, "mode": mode})
                    expected.pop(victim, None)
                    del present[victim]
                if returned:
                    done = rng.choice(returned)
                    if done in present:
                        other.call("row.delete", {"table": "appointments", "id": done})
                        del present[done]
            assert len(returned) == len(set(returned)), "a row came twice"
            want = sorted(expected.values(), key=key, reverse=desc)
            assert returned == ids(want), (len(returned), len(want))
        assert made


# ---------------------------------------------------------------- the seed's three queries


def seed_world(s):
    """Two tenants with the same shapes (demo's clinic runs on India time), and in
    each a soft-deleted patient."""
    c, sysadmin = s.admin(), s.system()
    sysadmin.call("row.insert", {"table": "tenants", "row": {"slug": "noise", "name": "Noise"}})
    world = {}
    for name, client, extra in (("demo", c, {}), ("noise", sysadmin, {"tenant": "noise"})):
        def ins(table, row, _client=client, _extra=extra):
            return _client.call("row.insert", dict(_extra, table=table, row=row))
        clinic = ins("clinics", {"name": "Seed " + name, "code": "SEED", "timezone": "Asia/Kolkata",
                                 "has_pharmacy": True})
        pats = [ins("patients", {"clinic_id": clinic["id"], "medical_record_number": "SEED-%d" % i,
                                 "demographics": demographics("P%d" % i, "Seed", "1990-01-0%d" % (i + 1))})
                for i in range(3)]
        client.call("row.delete", dict(extra, table="patients", id=pats[2]["id"]))
        drug = ins("pharmacy_drugs", {"clinic_id": clinic["id"], "sku": "AMOX-500",
                                      "name": "Amoxicillin 500", "unit_price": "0.80"})
        drug2 = ins("pharmacy_drugs", {"clinic_id": clinic["id"], "sku": "IBU-400",
                                       "name": "Ibuprofen 400", "unit_price": "0.20"})
        world[name] = {"client": client, "extra": extra, "ins": ins, "clinic": clinic,
                       "patients": pats, "drugs": [drug, drug2]}
    return world


def local_day(zone):
    now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def seed_patient_appointments_newest_first(w):
    c = w["demo"]["client"]
    schema = Schema(c, "appointments")
    base = datetime.datetime(2026, 10, 1, 9, tzinfo=datetime.timezone.utc)
    mine = {}
    for name in ("demo", "noise"):
        for p in w[name]["patients"]:
            for i in range(12):
                r = w[name]["ins"]("appointments", {
                    "clinic_id": w[name]["clinic"]["id"], "patient_id": p["id"],
                    "appointment_date": ts(base + datetime.timedelta(days=7 * i, hours=i % 3))})
                mine.setdefault(p["id"], []).append(r)
    p0, p1 = w["demo"]["patients"][0]["id"], w["demo"]["patients"][1]["id"]
    # Two of p0's appointments are soft-deleted; p1 keeps all of its own.
    for r in mine[p0][3:5]:
        c.call("row.delete", {"table": "appointments", "id": r["id"]})
    truth = {pid: [c.call("row.get", {"table": "appointments", "id": r["id"],
                                      "with_deleted": True}) for r in rows]
             for pid, rows in mine.items() if pid in (p0, p1)}
    for pid, deleted in ((p0, 2), (p1, 0)):
        params = {"table": "appointments", "where": {"patient_id": pid},
                  "order_by": [["appointment_date", "desc"]], "explain": True}
        res = c.call("row.query", params)
        want = brute(schema, truth[pid], {"patient_id": pid},
                     ["patient_id", "appointment_date"], True)
        assert ids(res["rows"]) == ids(want) and len(want) == 12 - deleted
        assert res["next"] is None
        ex = res["explain"]
        assert ex["index"] == "idx_appointments_tenant_patient_date", ex
        assert ex["direction"] == "desc" and ex["eq"] == ["patient_id"] and ex["filters"] == []
        # Only its own keys (the soft-deleted ones cannot be told apart by key),
        # plus the one that ends the walk.
        assert ex["keys_visited"] == len(want) + deleted + 1, ex
        assert ex["rows_examined"] == len(want) + deleted, ex
    # A page of 5: 5 keys returned, plus the one that shows there is more.
    res = c.call("row.query", {"table": "appointments", "where": {"patient_id": p1},
                               "order_by": [["appointment_date", "desc"]], "limit": 5,
                               "explain": True})
    assert len(res["rows"]) == 5 and res["next"] and res["explain"]["keys_visited"] == 6


def seed_batches_expiring_within_30_days(w):
    c = w["demo"]["client"]
    zone = w["demo"]["clinic"]["timezone"]
    today = datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()
    offsets = [-1, 0, 10, 10, 29, 30, 31, 200]
    mine = []
    for name in ("demo", "noise"):
        for i, off in enumerate(offsets):
            drug = w[name]["drugs"][i % 2]
            r = w[name]["ins"]("pharmacy_drug_inventory", {
                "clinic_id": w[name]["clinic"]["id"], "drug_id": drug["id"],
                "batch_id": "LOT-%02d" % i, "quantity": 10, "quantity_received": 10,
                "cost_price": "0.30", "expiry_date": str(today + datetime.timedelta(days=off))})
            if name == "demo":
                mine.append((r, drug))
    lo, hi = str(today), str(today + datetime.timedelta(days=30))
    res = c.call("row.query", {
        "table": "pharmacy_drug_inventory",
        "where": {"expiry_date": {"gte": lo, "lte": hi}},
        "order_by": [["expiry_date", "asc"]], "include": ["drug_id"], "explain": True})
    want = sorted([(r, d) for r, d in mine if lo <= r["expiry_date"] <= hi],
                  key=lambda x: (x[0]["expiry_date"], x[0]["id"]))
    assert len(want) == 5
    assert ids(res["rows"]) == [r["id"] for r, _ in want]
    for row, (_, drug) in zip(res["rows"], want):
        assert row["_include"] == {"drug_id": drug}
    ex = res["explain"]
    assert ex["index"] == "idx_pharmacy_drug_inventory_tenant_expiry", ex
    assert ex["keys_visited"] == len(want) + 1 and ex["rows_examined"] == len(want), ex
    assert ex["include_keys_visited"] == len(want)


def seed_todays_sales_with_items(w):
    c = w["demo"]["client"]
    zone = w["demo"]["clinic"]["timezone"]
    p0, p2 = w["demo"]["patients"][0], w["demo"]["patients"][2]
    p0_row = c.call("row.get", {"table": "patients", "id": p0["id"]})
    sales, items = [], {}  # demo's, over every attempt
    for attempt in range(3):
        start, end = local_day(zone)
        at = [start - datetime.timedelta(seconds=1), start,
              start + datetime.timedelta(hours=10), end - datetime.timedelta(seconds=1), end,
              start + datetime.timedelta(hours=10)]
        for name in ("demo", "noise"):
            ins = w[name]["ins"]
            clinic = w[name]["clinic"]["id"]
            batch = ins("pharmacy_drug_inventory", {
                "clinic_id": clinic, "drug_id": w[name]["drugs"][0]["id"],
                "batch_id": "LOT-%d" % attempt, "quantity": 500, "quantity_received": 500,
                "cost_price": "0.30", "expiry_date": "2030-01-01"})
            for i, when in enumerate(at):
                # A patient, the soft-deleted patient, a walk-in customer.
                patient = [w[name]["patients"][0]["id"], w[name]["patients"][2]["id"], None][i % 3]
                sale = ins("pharmacy_sales", {"clinic_id": clinic, "patient_id": patient,
                                              "sale_number": "S-%d-%d" % (attempt, i),
                                              "sale_date": ts(when), "total_amount": "1.60"})
                lines = []
                for line in range(1 + i % 3, 0, -1):  # inserted in reverse line order
                    lines.append(ins("pharmacy_sale_items", {
                        "sale_id": sale["id"], "drug_id": w[name]["drugs"][0]["id"],
                        "inventory_id": batch["id"], "line_number": line,
                        "drug_name": "Amoxicillin 500", "quantity": 2, "unit_price": "0.80",
                        "cost_price": "0.30", "line_total": "1.60"}))
                if name == "demo":
                    items[sale["id"]] = sorted(lines, key=lambda r: r["line_number"])
                    sales.append((sale, when))
        want = sorted([sale for sale, when in sales if start <= when < end],
                      key=lambda r: (r["sale_date"], r["id"]))
        answers = []
        for where in ({"sale_date": {"today_in_clinic": w["demo"]["clinic"]["id"]}},
                      {"sale_date": {"today_in": zone}},
                      {"sale_date": {"gte": ts(start), "lt": ts(end)}}):
            answers.append(c.call("row.query", {
                "table": "pharmacy_sales", "where": where, "order_by": [["sale_date", "asc"]],
                "include": ["pharmacy_sale_items", "patient_id"], "explain": True}))
        if local_day(zone) != (start, end):
            continue  # midnight passed in the clinic while the test ran: again
        for res in answers:
            assert ids(res["rows"]) == ids(want), (ids(res["rows"]), ids(want))
            for r in res["rows"]:
                got = r["_include"]
                assert got["pharmacy_sale_items"] == items[r["id"]], "items of sale %s" % r["id"]
                # The soft-deleted patient, like a walk-in, includes as nil.
                assert got["patient_id"] == (p0_row if r["patient_id"] == p0["id"] else None)
                assert r["patient_id"] in (p0["id"], p2["id"], None)
                assert set(r) - {"_include"} == set(want[0]), "a row holds its columns only"
            ex = res["explain"]
            assert ex["index"] == "idx_pharmacy_sales_tenant_date" and ex["range"] == "sale_date"
            assert ex["keys_visited"] == len(want) + 1, ex
            assert ex["rows_examined"] == len(want), ex
            # Each sale's items (its own keys and one more) and one patient read per sale
            # that names one.
            assert ex["include_keys_visited"] == sum(
                len(items[r["id"]]) + 1 + (r["patient_id"] is not None)
                for r in res["rows"]), ex
        return
    raise AssertionError("the clinic's day changed during every attempt")


def test_seed_queries():
    """The seed's three common queries, each one row.query call, on one data set
    with noise in another tenant and soft-deleted rows."""
    with Server() as s:
        s.start()
        w = seed_world(s)
        seed_patient_appointments_newest_first(w)
        seed_batches_expiring_within_30_days(w)
        seed_todays_sales_with_items(w)


# ---------------------------------------------------------------- the rest of the contract


def test_refusals_and_limits():
    with Server() as s:
        s.start()
        c = s.admin()
        e = c.error("row.query", {"table": "appointments", "where": {"notes": "x"}})
        assert e.code == "no_index" and e.details["table"] == "appointments"
        assert "idx_appointments_tenant_patient_date" in e.details["indexes"]
        res = c.call("row.query", {"table": "appointments", "where": {"notes": None},
                                   "allow_scan": True, "explain": True})
        assert len(res["rows"]) == 10 and res["explain"]["scan"] and res["explain"]["filters"] == ["notes"]
        for limit in (1001, 0, -1, "10"):
            e = c.error("row.query", {"table": "appointments", "limit": limit})
            assert e.code == "bad_request", e
        assert len(c.call("row.query", {"table": "appointments", "limit": 1000})["rows"]) == 10
        assert c.error("row.query", {"table": "nope"}).code == "unknown_table"
        assert c.error("row.query", {"table": "appointments",
                                     "where": {"nope": 1}}).code == "unknown_column"
        assert c.error("row.query", {"table": "appointments",
                                     "where": {"status": {"like": "x"}}}).code == "bad_request"
        assert c.error("row.query", {"table": "appointments",
                                     "where": {"status": "bogus"}}).code == "invalid_value"
        other = s.system().call("row.insert", {"table": "tenants", "row": {"slug": "t2", "name": "T2"}})
        assert c.error("row.query", {"table": "appointments",
                                     "where": {"tenant_id": other["id"]}}).code == "forbidden"
        me = c.call("auth.whoami")["tenant_id"]
        assert len(c.call("row.query", {"table": "appointments",
                                        "where": {"tenant_id": me}, "allow_scan": True})["rows"]) == 10
        # Cursors: garbage, and a cursor of another query.
        assert c.error("row.query", {"table": "appointments", "after": "garbage!"}).code == "bad_request"
        page = c.call("row.query", {"table": "appointments", "limit": 3})
        e = c.error("row.query", {"table": "clinics", "after": page["next"]})
        assert e.code == "bad_request" and "another query" in e.message
        e = c.error("row.query", {"table": "appointments", "after": page["next"],
                                  "order_by": [["id", "desc"]]})
        assert e.code == "bad_request"
        # The tenants table: a tenant's users see their own row only.
        assert ids(c.call("row.query", {"table": "tenants"})["rows"]) == [me]
        assert len(s.system().call("row.query", {"table": "tenants"})["rows"]) == 2
        assert s.system().error("row.query", {"table": "appointments"}).code == "bad_request"
        assert len(s.system().call("row.query", {"table": "appointments",
                                                 "tenant": "demo"})["rows"]) == 10


def test_operators_with_deleted_and_in_on_ids():
    with Server() as s:
        s.start()
        c = s.admin()
        rows = c.call("row.query", {"table": "appointments", "order_by": [["id", "asc"]]})["rows"]
        assert len(rows) == 10
        gone = rows[2]
        c.call("row.delete", {"table": "appointments", "id": gone["id"]})
        q = {"table": "appointments", "where": {"id": {"in": [r["id"] for r in rows[:4]] + [None]}},
             "order_by": [["id", "desc"]], "explain": True}
        res = c.call("row.query", q)
        assert ids(res["rows"]) == [rows[3]["id"], rows[1]["id"], rows[0]["id"]]
        assert res["explain"]["kind"] == "primary_key"
        res = c.call("row.query", dict(q, with_deleted=True))
        assert ids(res["rows"]) == [r["id"] for r in reversed(rows[:4])]
        assert res["rows"][1]["deleted_at"] is not None
        # by id alone: served by the primary key, soft-deleted only with with_deleted.
        assert c.call("row.query", {"table": "appointments", "where": {"id": gone["id"]}})["rows"] == []
        assert len(c.call("row.query", {"table": "appointments", "where": {"id": gone["id"]},
                                        "with_deleted": True})["rows"]) == 1
        pid = rows[0]["patient_id"]
        by_type = c.call("row.query", {"table": "appointments",
                                       "where": {"patient_id": pid,
                                                 "appointment_type": {"ne": "checkup"},
                                                 "hygienist_id": {"is_null": True},
                                                 "dentist_id": {"is_null": False}}})["rows"]
        assert [r["appointment_type"] for r in by_type] == ["cleaning"]
        # ne never matches NULL (SQL); is_null does.
        assert c.call("row.query", {"table": "appointments", "where": {
            "patient_id": pid, "operatory": {"ne": "x"}}})["rows"] == []
        assert len(c.call("row.query", {"table": "appointments", "where": {
            "patient_id": pid, "operatory": None}})["rows"]) == 2


def test_clinic_scope_and_permissions():
    with Server() as s:
        s.start()
        c = s.admin()
        main = c.call("row.query", {"table": "clinics"})["rows"][0]["id"]
        east = c.call("row.insert", {"table": "clinics", "row": {"name": "East", "code": "EAST"}})["id"]
        pe = c.call("row.insert", {"table": "patients", "row": {
            "clinic_id": east, "medical_record_number": "E-1",
            "demographics": demographics("Ed", "East", "1970-05-05")}})
        pm = c.call("row.query", {"table": "patients", "where": {"clinic_id": main}})["rows"][0]
        a_east = c.call("row.insert", {"table": "appointments", "row": {
            "clinic_id": east, "patient_id": pe["id"], "appointment_date": "2026-12-01T10:00:00Z"}})
        a_main_for_east = c.call("row.insert", {"table": "appointments", "row": {
            "clinic_id": main, "patient_id": pe["id"], "appointment_date": "2026-12-02T10:00:00Z"}})
        a_east_for_main = c.call("row.insert", {"table": "appointments", "row": {
            "clinic_id": east, "patient_id": pm["id"], "appointment_date": "2026-12-03T10:00:00Z"}})
        c.call("row.insert", {"table": "users", "row": {
            "email": "desk@east.clinic", "password": "east desk password", "first_name": "Desk",
            "last_name": "East", "role": "receptionist", "clinic_id": east, "status": "active"}})
        r = s.client()
        r.login("demo", "desk@east.clinic", "east desk password")
        res = r.call("row.query", {"table": "appointments", "explain": True})
        assert ids(res["rows"]) == sorted([a_east["id"], a_east_for_main["id"]])
        assert res["explain"]["rows_examined"] == 13 and res["explain"]["rows_returned"] == 2
        # Pages of hidden rows: still every visible row once.
        rows, _, _ = all_pages(r, {"table": "appointments", "limit": 1})
        assert ids(rows) == sorted([a_east["id"], a_east_for_main["id"]])
        # Includes are scoped too: a hidden child is left out, a hidden parent is nil.
        res = r.call("row.query", {"table": "patients", "where": {"id": pe["id"]},
                                   "include": ["appointments"]})
        assert ids(res["rows"][0]["_include"]["appointments"]) == [a_east["id"]]
        assert a_main_for_east["id"] not in ids(res["rows"][0]["_include"]["appointments"])
        res = r.call("row.query", {"table": "appointments", "where": {"id": a_east_for_main["id"]},
                                   "include": ["patient_id", "clinic_id"]})
        assert res["rows"][0]["_include"] == {"patient_id": None,
                                              "clinic_id": r.call("row.get", {"table": "clinics", "id": east})}
        # Read permission on every included table.
        e = r.error("row.query", {"table": "appointments",
                                  "include": ["pharmacy_doctor_prescriptions"]})
        assert e.code == "forbidden", e
        assert r.error("row.query", {"table": "pharmacy_sales"}).code == "forbidden"
        # Patients' rows carry PHI only for roles that may see it.
        analyst = c.call("row.insert", {"table": "users", "row": {
            "email": "numbers@demo.clinic", "password": "numbers password", "first_name": "N",
            "last_name": "A", "role": "analyst", "status": "active"}})
        an = s.client()
        an.login("demo", "numbers@demo.clinic", "numbers password")
        rows = an.call("row.query", {"table": "patients"})["rows"]
        assert rows and all("demographics" not in p for p in rows)
        e = an.error("row.query", {"table": "patients", "where": {
            "demographics": {"last_name": "East", "first_name": "Ed"}}})
        assert e.code == "forbidden"
        assert analyst


def test_phi_search_by_name_and_dob():
    with Server() as s:
        s.start()
        c = s.admin()
        # The demo has Ana García, born 1984-03-12; add a namesake born elsewhere in time.
        clinic = c.call("row.query", {"table": "clinics"})["rows"][0]["id"]
        twin = c.call("row.insert", {"table": "patients", "row": {
            "clinic_id": clinic, "medical_record_number": "TWIN",
            "demographics": demographics("Ana", "Garcia", "2001-02-03")}})
        res = c.call("row.query", {"table": "patients", "explain": True, "where": {
            "demographics": {"last_name": "  GARCÍA ", "first_name": "ana"}}})
        assert len(res["rows"]) == 2
        assert {r["demographics"]["date_of_birth"] for r in res["rows"]} == {"1984-03-12", "2001-02-03"}
        assert res["explain"]["index"] == "idx_patients_tenant_name_hash"
        assert res["explain"]["keys_visited"] == 3
        res = c.call("row.query", {"table": "patients", "explain": True, "where": {
            "demographics": {"last_name": "garcia", "first_name": "Ana", "date_of_birth": "2001-02-03"}}})
        assert ids(res["rows"]) == [twin["id"]]
        assert res["explain"]["eq"] == ["name_search_hash", "dob_search_hash"]
        res = c.call("row.query", {"table": "patients", "where": {"demographics": {"email": "BEN.OKAFOR@example.com"}}})
        assert [r["demographics"]["last_name"] for r in res["rows"]] == ["Okafor"]
        assert c.call("row.query", {"table": "patients", "where": {
            "demographics": {"last_name": "Nobody", "first_name": "Ana"}}})["rows"] == []
        for bad in ({"last_name": "Garcia"}, {"address": "Main St"}, {}, {"date_of_birth": "1984-13-40"}):
            e = c.error("row.query", {"table": "patients", "where": {"demographics": bad}})
            assert e.code in ("bad_request", "invalid_value"), (bad, e)


def test_includes_and_txn_run():
    with Server() as s:
        s.start()
        c = s.admin()
        res = c.call("row.query", {"table": "patients", "include": ["appointments", "clinic_id"],
                                   "order_by": [["id", "asc"]], "limit": 2, "explain": True})
        assert len(res["rows"]) == 2 and res["next"]
        for p in res["rows"]:
            inc = p["_include"]
            assert set(inc) == {"appointments", "clinic_id"}
            assert inc["clinic_id"]["id"] == p["clinic_id"]
            assert sorted(ids(inc["appointments"])) == sorted(ids(c.call("row.query", {
                "table": "appointments", "where": {"patient_id": p["id"]}})["rows"]))
        # A soft-deleted child leaves the list; with_deleted brings it back.
        first = res["rows"][0]
        gone = first["_include"]["appointments"][0]["id"]
        c.call("row.delete", {"table": "appointments", "id": gone})
        again = c.call("row.query", {"table": "patients", "where": {"id": first["id"]},
                                     "include": ["appointments"]})["rows"][0]
        assert gone not in ids(again["_include"]["appointments"])
        again = c.call("row.query", {"table": "patients", "where": {"id": first["id"]},
                                     "include": ["appointments"], "with_deleted": True})["rows"][0]
        assert gone in ids(again["_include"]["appointments"])
        e = c.error("row.query", {"table": "appointments", "include": ["appointment_conflicts"]})
        assert e.code == "bad_request" and "several" in e.message
        # txn.run's query op: the same handler, inside the transaction, seeing its earlier ops.
        out = c.call("txn.run", {"ops": [
            {"op": "insert", "table": "appointments", "as": "a", "row": {
                "clinic_id": first["clinic_id"], "patient_id": first["id"],
                "appointment_date": "2030-01-01T09:00:00Z"}},
            {"op": "query", "table": "appointments", "where": {"patient_id": first["id"]},
             "order_by": [["appointment_date", "desc"]], "limit": 1}]})["results"]
        assert out[1]["rows"][0]["id"] == out[0]["id"] and out[1]["next"]


if __name__ == "__main__":
    run_tests([
        test_random_queries_match_brute_force,
        test_pages_while_rows_come_and_go,
        test_seed_queries,
        test_refusals_and_limits,
        test_operators_with_deleted_and_in_on_ids,
        test_clinic_scope_and_permissions,
        test_phi_search_by_name_and_dob,
        test_includes_and_txn_run,
    ])
