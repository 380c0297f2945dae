#!/usr/bin/python3
"""Assemble bench/compare.sh's results: OUT/runs.jsonl + OUT/peers.jsonl -> OUT/results.json,
OUT/results.md and the same tables on stdout. With several rounds every figure is the median
over rounds. The ratio table gives clinickv / peer per operation: for throughput above 1 means
clinickv is faster, for latency below 1 means clinickv is faster.

usage: /usr/bin/python3 bench/report.py OUT_DIR [--meta key=value ...]
"""
import json
import os
import statistics
import sys

SYSTEMS = ["clinickv", "mariadb", "sqlite", "tarantool", "redis"]
OPS = ["get_patient", "patient_appointments", "book_appointment", "pharmacy_sale",
       "expiring_drugs", "sales_today", "front_desk",
       "kv_set", "kv_get", "kv_set_pipelined16", "kv_get_pipelined16"]


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.{digits}f}"


def order(op, peer):
    return (OPS.index(op) if op in OPS else 99, SYSTEMS.index(peer) if peer in SYSTEMS else 99)


def main():
    out = sys.argv[1]
    meta = {}
    if "--meta" in sys.argv:
        for kv in sys.argv[sys.argv.index("--meta") + 1:]:
            k, _, v = kv.partition("=")
            meta[k] = v
    runs = [json.loads(line) for line in open(os.path.join(out, "runs.jsonl")) if line.strip()]
    peers = [json.loads(line) for line in open(os.path.join(out, "peers.jsonl")) if line.strip()]
    groups = {}
    for r in runs:
        groups.setdefault((r["peer"], r["op"], r["clients"]), []).append(r)
    summary = []
    for (peer, op, c), rs in groups.items():
        summary.append({
            "peer": peer, "op": op, "clients": c, "rounds": len(rs),
            "ops_per_s": med([r.get("ops_per_s") for r in rs]),
            "p50_us": med([r.get("p50_us") for r in rs]), "p99_us": med([r.get("p99_us") for r in rs]),
            "p999_us": med([r.get("p999_us") for r in rs]),
            "errors": sum(r.get("errors") or 0 for r in rs), "rejected": sum(r.get("rejected") or 0 for r in rs),
            "rows_per_op": med([r.get("rows_per_op") for r in rs]),
            "client_cpu_us_per_op": med([r.get("client_cpu_us_per_op") for r in rs]),
            "client_rss_kb_load": max((r.get("client_rss_kb_load") or 0) for r in rs),
            "first_error": next((r["first_error"] for r in rs if r.get("first_error")), ""),
        })
    summary.sort(key=lambda s: order(s["op"], s["peer"]) + (s["clients"],))
    by = {(s["peer"], s["op"], s["clients"]): s for s in summary}
    clients = sorted({s["clients"] for s in summary}) or [1]
    lo, hi = clients[0], clients[-1]
    pinfo = {}
    for p in peers:
        pinfo.setdefault(p["peer"], {}).update({k: v for k, v in p.items() if k not in ("peer", "after")})
    if "sqlite" in pinfo:  # SQLite runs inside the load generator: its RSS is the client's
        sq = [s for s in summary if s["peer"] == "sqlite"]
        pinfo["sqlite"]["rss_kb_load"] = max((s["client_rss_kb_load"] for s in sq), default=None)
        rest = [r.get("client_rss_kb_rest") for r in runs if r["peer"] == "sqlite" and r.get("client_rss_kb_rest")]
        pinfo["sqlite"]["rss_kb_rest"] = min(rest) if rest else None

    lines = []
    lines.append(f"| operation | system | {lo} client ops/s | p50 µs | p99 µs | p99.9 µs | {hi} clients ops/s "
                 f"| p99 µs | errors | rejected |")
    lines.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    pairs = sorted({(s["op"], s["peer"]) for s in summary}, key=lambda x: order(*x))
    for op, peer in pairs:
        a, b = by.get((peer, op, lo), {}), by.get((peer, op, hi), {})
        lines.append(f"| {op} | {peer} | {fmt(a.get('ops_per_s'))} | {fmt(a.get('p50_us'), 1)} | "
                     f"{fmt(a.get('p99_us'), 1)} | {fmt(a.get('p999_us'), 1)} | {fmt(b.get('ops_per_s'))} | "
                     f"{fmt(b.get('p99_us'), 1)} | {a.get('errors', 0) + b.get('errors', 0)} | "
                     f"{a.get('rejected', 0) + b.get('rejected', 0)} |")
    # ratios clinickv / peer
    ratios = []
    peer_names = [p for p in SYSTEMS[1:] if any(s["peer"] == p for s in summary)]
    lines.append("")
    lines.append(f"Ratio clinickv / peer (throughput: > 1 = clinickv faster; p50 latency: < 1 = clinickv faster)")
    lines.append("")
    lines.append(f"| operation | peer | ops/s ratio, {lo} client | p50 ratio, {lo} client | ops/s ratio, {hi} clients "
                 f"| p99 ratio, {hi} clients |")
    lines.append("|---|---|--:|--:|--:|--:|")
    for op in OPS:
        ck_lo, ck_hi = by.get(("clinickv", op, lo)), by.get(("clinickv", op, hi))
        if not ck_lo and not ck_hi:
            continue
        for peer in peer_names:
            p_lo, p_hi = by.get((peer, op, lo)), by.get((peer, op, hi))
            if not p_lo and not p_hi:
                continue
            ok_lo = ck_lo and p_lo and not ck_lo["errors"] and not p_lo["errors"]
            ok_hi = ck_hi and p_hi and not ck_hi["errors"] and not p_hi["errors"]
            row = {"op": op, "peer": peer,
                   "ops_ratio_lo": (ck_lo["ops_per_s"] / p_lo["ops_per_s"]) if ok_lo and p_lo["ops_per_s"] else None,
                   "p50_ratio_lo": (ck_lo["p50_us"] / p_lo["p50_us"]) if ok_lo and p_lo["p50_us"] else None,
                   "ops_ratio_hi": (ck_hi["ops_per_s"] / p_hi["ops_per_s"]) if ok_hi and p_hi["ops_per_s"] else None,
                   "p99_ratio_hi": (ck_hi["p99_us"] / p_hi["p99_us"]) if ok_hi and p_hi["p99_us"] else None}
            ratios.append(row)
            f = lambda v: "-" if v is None else f"{v:.2f}"
            lines.append(f"| {op} | {peer} | {f(row['ops_ratio_lo'])} | {f(row['p50_ratio_lo'])} | "
                         f"{f(row['ops_ratio_hi'])} | {f(row['p99_ratio_hi'])} |")
    lines.append("")
    lines.append("| system | version | load s | RSS at rest | RSS under load (max sample) | RSS peak (VmHWM) "
                 "| data files after load | disk after load (all) | disk after runs (all) |")
    lines.append("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    kb = lambda v: "-" if v in (None, 0) else f"{v / 1024:,.0f} MiB"
    mib = lambda v: "-" if v is None else f"{v / 1048576:,.0f} MiB"
    for p in SYSTEMS:
        if p not in pinfo:
            continue
        i = pinfo[p]
        lines.append(f"| {p} | {i.get('version', '')} | {i.get('load_s', '-')} | {kb(i.get('rss_kb_rest'))} | "
                     f"{kb(i.get('rss_kb_load'))} | {kb(i.get('rss_kb_peak'))} | {mib(i.get('data_bytes'))} | "
                     f"{mib(i.get('disk_bytes'))} | {mib(i.get('disk_bytes_after'))} |")
    ck = [s for s in summary if s["peer"] == "clinickv"]
    if ck:
        lines.append("")
        lines.append("clinickv-bench's own cost (client CPU per operation, all client threads) and rows read:")
        lines.append("")
        lines.append("| operation | clients | client CPU µs/op | rows/op |")
        lines.append("|---|--:|--:|--:|")
        for s in ck:
            lines.append(f"| {s['op']} | {s['clients']} | {fmt(s['client_cpu_us_per_op'], 1)} | "
                         f"{fmt(s['rows_per_op'], 1)} |")
    errs = [s for s in summary if s["first_error"]]
    if errs:
        lines.append("")
        for s in errs:
            lines.append(f"- first error, {s['peer']} {s['op']} c={s['clients']}: {s['first_error']}")
    text = "\n".join(lines)
    head = " ".join(f"{k}={v}" for k, v in meta.items())
    print(head)
    print(text)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(head + "\n\n" + text + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "ratios": ratios, "systems": pinfo, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
