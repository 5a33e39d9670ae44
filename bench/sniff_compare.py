#!/usr/bin/env python3
"""Compares custimport's CSV dialect sniffer with CleverCSV on tests/data/sniff/.

For every file of tests/data/sniff/expected.csv it asks CleverCSV (`pip install clevercsv`)
for the delimiter, quote character and whether the file has a header, and custimport's
sniffer (`cargo run --example sniff_dialect`, the library function the importer
calls) for the same, and prints each one's accuracy on delimiter, quote and header row.

The header row is the header's line among the non-blank lines (the `--header-row` that reads
it), 0 when the file has no header. CleverCSV knows no title lines: its answer is 1 when
`has_header` says so, else 0.

Run from the repository root:  python3 bench/sniff_compare.py [-v]
"""

import csv
import subprocess
import sys
from pathlib import Path

import clevercsv

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "sniff"
NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
QUOTES = {"dquote": '"', "none": ""}


def expected():
    with open(DATA / "expected.csv", newline="", encoding="utf-8") as f:
        return [
            (r["file"], NAMES[r["delimiter"]], QUOTES[r["quote"]], int(r["header_row"]))
            for r in csv.DictReader(f)
        ]


def text_of(path):
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")


def clever(path):
    text = text_of(path)
    detector = clevercsv.Detector()
    dialect = detector.detect(text)
    if dialect is None:
        return ("", "", 0)
    try:
        header = 1 if detector.has_header(text) else 0
    except Exception:  # CleverCSV raises on some samples
        header = 0
    return (dialect.delimiter, dialect.quotechar or "", header)


def custimport(paths):
    out = subprocess.run(
        ["cargo", "run", "--quiet", "--example", "sniff_dialect", "--"]
        + [str(p) for p in paths],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    got = {}
    for line in out.splitlines():
        path, delimiter, quote, header = line.split("\t")
        got[Path(path).name] = (delimiter.replace("\\t", "\t"), quote, int(header))
    return got


def main():
    verbose = "-v" in sys.argv
    rows = expected()
    ours = custimport([DATA / name for name, *_ in rows])
    tools = {"CleverCSV " + clevercsv.__version__: {}, "custimport": ours}
    for name, *_ in rows:
        tools["CleverCSV " + clevercsv.__version__][name] = clever(DATA / name)
    n = len(rows)
    print(f"{n} files of tests/data/sniff/")
    print(f"{'':<16} {'delimiter':>10} {'quote':>10} {'header row':>11} {'all three':>10}")
    for tool, got in tools.items():
        score = [0, 0, 0, 0]
        for name, *want in rows:
            hits = [g == w for g, w in zip(got[name], want)]
            for i, hit in enumerate(hits + [all(hits)]):
                score[i] += hit
            if verbose and not all(hits):
                print(f"  {tool}: {name}: got {got[name]!r}, want {tuple(want)!r}")
        print(f"{tool:<16} " + " ".join(f"{s:>5}/{n:<4}" for s in score))


if __name__ == "__main__":
    main()
