#!/usr/bin/env python3
"""Check that custimport and the peer produced the same per-row outcomes.

    python3 bench/compare.py CUSTIMPORT_DIR PEER_DIR ROWS

Compares, row by row: the set of succeeded rows (and, for each, the normalised phone and the
name sent), the set of rejected rows with their codes, and the set of rows failed by the
provider. Also checks that each tool accounts for every row 1..ROWS exactly once. Prints one
line (`same outcomes: ...` or the differences) and exits 0 when they agree, 1 otherwise.
"""

import csv
import sys

csv.field_size_limit(1 << 24)


def custimport_outcomes(d):
    ok, bad, seen = {}, {}, []
    with open(f"{d}/success.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            row = int(r["row"])
            ok[row] = (r["whats_app_phone"], r["full_name"])
            seen.append(row)
    with open(f"{d}/failed.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            row = int(r["custimport_row"])
            bad[row] = (r["custimport_outcome"], r["custimport_code"])
            seen.append(row)
    return ok, bad, seen


def peer_outcomes(d):
    ok, bad, seen = {}, {}, []
    with open(f"{d}/success.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            row = int(r["row"])
            ok[row] = (r["whats_app_phone"], r["full_name"])
            seen.append(row)
    with open(f"{d}/failed.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            row = int(r["row"])
            bad[row] = (r["outcome"], r["code"])
            seen.append(row)
    return ok, bad, seen


def main():
    cdir, pdir, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c_ok, c_bad, c_seen = custimport_outcomes(cdir)
    p_ok, p_bad, p_seen = peer_outcomes(pdir)
    problems = []
    for name, seen in (("custimport", c_seen), ("peer", p_seen)):
        if len(seen) != rows or set(seen) != set(range(1, rows + 1)):
            problems.append(f"{name} reports {len(seen)} outcomes for {len(set(seen))} distinct "
                            f"rows, expected each of 1..{rows} once")
    if set(c_ok) != set(p_ok):
        only_c, only_p = sorted(set(c_ok) - set(p_ok)), sorted(set(p_ok) - set(c_ok))
        problems.append(f"succeeded differ: only custimport {len(only_c)} {only_c[:5]}, "
                        f"only peer {len(only_p)} {only_p[:5]}")
    else:
        diff = [r for r in c_ok if c_ok[r] != p_ok[r]]
        if diff:
            r = diff[0]
            problems.append(f"{len(diff)} succeeded rows sent different phone/name, e.g. row {r}: "
                            f"custimport {c_ok[r]} peer {p_ok[r]}")
    if c_bad != p_bad:
        diff = sorted(r for r in set(c_bad) | set(p_bad) if c_bad.get(r) != p_bad.get(r))
        r = diff[0]
        problems.append(f"{len(diff)} rejected/failed rows differ, e.g. row {r}: "
                        f"custimport {c_bad.get(r)} peer {p_bad.get(r)}")
    if problems:
        print("DIFFERENT OUTCOMES: " + "; ".join(problems))
        sys.exit(1)
    rejected = sum(1 for o, _ in c_bad.values() if o == "rejected")
    print(f"same outcomes: {len(c_ok)} succeeded (same phone and name), {rejected} rejected, "
          f"{len(c_bad) - rejected} failed")


if __name__ == "__main__":
    main()
