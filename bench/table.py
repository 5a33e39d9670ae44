#!/usr/bin/env python3
"""Format the measurements of bench/run.sh (a TSV) as Markdown tables and judge the targets.

    python3 bench/table.py bench/results/latest/results.tsv

Columns of the TSV (one line per run, header first): phase tool latency_ms concurrency rows
wall_s user_s sys_s maxrss_kb sandbox_cpu_s other_cpu_s rows_sent requests max_in_flight exit outcomes.
"""

import csv
import sys

CPU_TARGET_US = 1.5
PEER_RATIO_TARGET = 5.0
CEILING_SHARE_TARGET = 0.90
RSS_TARGET_MB = 32.0
RSS_GROWTH_TARGET = 0.20


def load(path):
    with open(path, newline="") as f:
        runs = list(csv.DictReader(f, delimiter="\t"))
    for r in runs:
        for k in ("latency_ms", "concurrency", "rows", "maxrss_kb", "rows_sent", "requests",
                  "max_in_flight", "exit"):
            r[k] = int(r[k])
        for k in ("wall_s", "user_s", "sys_s", "sandbox_cpu_s", "other_cpu_s"):
            r[k] = float(r[k])
        r["cpu_s"] = r["user_s"] + r["sys_s"]
        r["cpu_us_row"] = r["cpu_s"] / r["rows"] * 1e6
        r["sb_us_row"] = r["sandbox_cpu_s"] / r["rows"] * 1e6
        r["rss_mb"] = r["maxrss_kb"] / 1024
        r["rows_per_s"] = r["rows"] / r["wall_s"] if r["wall_s"] > 0 else 0.0
        if r["latency_ms"] > 0:
            ceiling = r["concurrency"] * 100 / (r["latency_ms"] / 1000)
            r["ceiling_share"] = r["rows_sent"] / r["wall_s"] / ceiling
        else:
            r["ceiling_share"] = None
    return runs


def matrix_table(runs):
    out = [
        "| tool | latency ms | conc. | rows | wall s | rows/s | client CPU s (user+sys) "
        "| client CPU-µs/row (= CPU-s per 1M rows) | peak RSS MB | % of latency ceiling "
        "| sandbox CPU-µs/row | max in flight | other load CPU s | outcomes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        share = "—" if r["ceiling_share"] is None else f"{100 * r['ceiling_share']:.1f} %"
        out.append(
            f"| {r['tool']} | {r['latency_ms']} | {r['concurrency']} | {r['rows']:,} "
            f"| {r['wall_s']:.2f} | {r['rows_per_s']:,.0f} "
            f"| {r['cpu_s']:.2f} ({r['user_s']:.2f}+{r['sys_s']:.2f}) "
            f"| {r['cpu_us_row']:.2f} | {r['rss_mb']:.1f} | {share} | {r['sb_us_row']:.2f} "
            f"| {r['max_in_flight']} | {r['other_cpu_s']:.2f} | {r['outcomes']} |"
        )
    return "\n".join(out)


def memory_table(runs):
    out = [
        "| rows | conc. | wall s | rows/s | client CPU-µs/row | peak RSS MB | sandbox CPU-µs/row |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        out.append(
            f"| {r['rows']:,} | {r['concurrency']} | {r['wall_s']:.2f} | {r['rows_per_s']:,.0f} "
            f"| {r['cpu_us_row']:.2f} | {r['rss_mb']:.1f} | {r['sb_us_row']:.2f} |"
        )
    return "\n".join(out)


def verdict(ok):
    return "**met**" if ok else "**NOT met**"


def targets(matrix, memory):
    lines = []
    ci = [r for r in matrix if r["tool"] == "custimport"]
    peer = {(r["latency_ms"], r["concurrency"]): r for r in matrix if r["tool"] == "peer"}
    zero = [r for r in ci if r["latency_ms"] == 0]
    if zero:
        worst = max(r["cpu_us_row"] for r in zero)
        best = min(r["cpu_us_row"] for r in zero)
        lines.append(f"- CPU ≤ {CPU_TARGET_US} CPU-µs/row at latency 0: {verdict(worst <= CPU_TARGET_US)} "
                     f"(custimport {best:.2f}–{worst:.2f} CPU-µs/row)")
    ratios = []
    for r in ci:
        p = peer.get((r["latency_ms"], r["concurrency"]))
        if p and r["cpu_s"] > 0:
            ratios.append((p["cpu_s"] / r["cpu_s"], r["latency_ms"], r["concurrency"]))
    # The target (like the CPU one) is stated for the sandbox answering at once; the ratios at
    # 50 ms are shown too but not judged: there, both processes mostly wait and each batch
    # starts on cold caches.
    judged = [x for x in ratios if x[1] == 0]
    if judged:
        lo = min(judged)
        detail = ", ".join(f"c{c}: {x:.1f}×" for x, _, c in judged)
        lines.append(f"- ≥ {PEER_RATIO_TARGET:.0f}× less CPU than the aiohttp peer at latency 0: "
                     f"{verdict(lo[0] >= PEER_RATIO_TARGET)} (peer CPU / custimport CPU: {detail})")
    waiting = [x for x in ratios if x[1] != 0]
    if waiting:
        detail = ", ".join(f"{lat} ms c{c}: {x:.1f}×" for x, lat, c in waiting)
        lines.append(f"- for information, the same ratio while waiting on latency: {detail}")
    hide = [r for r in ci if r["latency_ms"] == 50 and r["concurrency"] == 32]
    for r in hide:
        lines.append(f"- latency hiding, 50 ms × concurrency 32 ≥ 90 % of 64,000 rows/s: "
                     f"{verdict(r['ceiling_share'] >= CEILING_SHARE_TARGET)} "
                     f"({r['rows_sent'] / r['wall_s']:,.0f} rows sent/s = "
                     f"{100 * r['ceiling_share']:.1f} % of the ceiling)")
    c8 = [r for r in ci + memory if r["concurrency"] == 8]
    if c8:
        worst = max(r["rss_mb"] for r in c8)
        lines.append(f"- peak RSS ≤ {RSS_TARGET_MB:.0f} MB at concurrency 8: "
                     f"{verdict(worst <= RSS_TARGET_MB)} (largest {worst:.1f} MB over "
                     f"{len(c8)} runs)")
    if len(memory) >= 2:
        small, large = min(memory, key=lambda r: r["rows"]), max(memory, key=lambda r: r["rows"])
        growth = large["rss_mb"] / small["rss_mb"] - 1
        lines.append(f"- RSS of {large['rows']:,} rows within 20 % of {small['rows']:,} rows: "
                     f"{verdict(growth <= RSS_GROWTH_TARGET)} ({small['rss_mb']:.1f} MB → "
                     f"{large['rss_mb']:.1f} MB, {100 * growth:+.1f} %)")
    if zero:
        worst_sb = max(zero, key=lambda r: r["sandbox_cpu_s"] / r["wall_s"])
        util = worst_sb["sandbox_cpu_s"] / worst_sb["wall_s"]
        lines.append(f"- sandbox: {min(r['sb_us_row'] for r in zero):.2f}–"
                     f"{max(r['sb_us_row'] for r in zero):.2f} CPU-µs/row at latency 0 "
                     f"(custimport runs); busiest at {util:.2f} cores of 2 "
                     f"(custimport c{worst_sb['concurrency']})")
    noisy = [r for r in matrix + memory
             if r["other_cpu_s"] > 0.25 * (r["cpu_s"] + r["sandbox_cpu_s"])]
    if noisy:
        lines.append(f"- warning: {len(noisy)} runs shared the machine with other work "
                     f"(other load > 25 % of client + sandbox CPU); their wall times are suspect")
    bad = [r for r in matrix if r["outcomes"] not in ("same", "-")]
    lines.append(f"- same per-row outcomes for custimport and the peer: "
                 f"{verdict(not bad)}" + (f" ({len(bad)} runs differ)" if bad else ""))
    return "\n".join(lines)


def main():
    runs = load(sys.argv[1])
    matrix = [r for r in runs if r["phase"] == "matrix"]
    memory = [r for r in runs if r["phase"] == "memory"]
    print(matrix_table(matrix))
    if memory:
        print()
        print("Memory (custimport, latency 0):")
        print()
        print(memory_table(memory))
    print()
    print("Targets:")
    print()
    print(targets(matrix, memory))


if __name__ == "__main__":
    main()
