"""A small pharmacy for write-path tests: a clinic with a drug and stock batches,
and the point-of-sale transaction the workload runs (a sale, its items with
$ref to the sale, and stock decrements that must not go below zero)."""

import itertools

_counter = itertools.count(1)


def make_pharmacy(c, batches=3, quantity=100, code=None):
    code = code or "PH%d" % next(_counter)
    clinic = c.call("row.insert", {"table": "clinics", "row": {"name": "Pharmacy " + code, "code": code,
                                                               "has_pharmacy": True}})
    drug = c.call("row.insert", {"table": "pharmacy_drugs", "row": {
        "clinic_id": clinic["id"], "name": "Amoxicillin 500mg", "sku": "AMX-" + code,
        "unit_price": "1.50", "unit_cost": "0.40"}})
    ids = []
    for i in range(batches):
        b = c.call("row.insert", {"table": "pharmacy_drug_inventory", "row": {
            "clinic_id": clinic["id"], "drug_id": drug["id"], "batch_id": "LOT-%s-%d" % (code, i),
            "quantity": quantity, "quantity_received": quantity, "cost_price": "0.40",
            "expiry_date": "2027-06-30"}})
        ids.append(b["id"])
    return clinic, drug, ids


def sale_ops(clinic_id, drug_id, batch_ids, quantities, number):
    """One POS sale as txn.run ops."""
    ops = [{"op": "insert", "table": "pharmacy_sales", "as": "sale", "row": {
        "clinic_id": clinic_id, "sale_number": number, "subtotal": "0.00", "total_amount": "0.00"}}]
    for i, (batch, qty) in enumerate(zip(batch_ids, quantities)):
        ops.append({"op": "insert", "table": "pharmacy_sale_items", "as": "item%d" % i, "row": {
            "sale_id": {"$ref": "sale.id"}, "drug_id": drug_id, "inventory_id": batch,
            "line_number": i + 1, "drug_name": "Amoxicillin 500mg", "quantity": qty,
            "unit_price": "1.50", "cost_price": "0.40", "line_total": "%.2f" % (1.5 * qty)}})
    for i, (batch, qty) in enumerate(zip(batch_ids, quantities)):
        ops.append({"op": "update", "table": "pharmacy_drug_inventory", "id": batch, "as": "stock%d" % i,
                    "set": {"quantity": {"$add": -qty}}, "check": {"quantity": {"gte": 0}}})
    return ops
