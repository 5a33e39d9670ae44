#!/usr/bin/env python3
"""Attribute the CPU samples of a `perf record --call-graph dwarf` of custimport to pipeline stages.

    perf script -i perf.data -F comm,tid,ip,sym | python3 bench/buckets.py

Each sample is charged to the innermost frame of its stack that matches a stage marker below
(so malloc/free, memcpy and kernel time land on the stage that caused them), and the stages are
printed with their share of all samples. Used by bench/profile.sh.
"""

import collections
import re
import sys

# (stage, regex on a frame's symbol), innermost match wins; order breaks ties within a frame.
MARKERS = [
    ("collect: journal fdatasync (group commit)", r"Journal>?::sync\b"),
    ("dispatch: journal 'sent' write + fdatasync per batch", r"Journal>?::sent\b"),
    ("collect: journal 'done' entries", r"Journal>?::done\b"),
    ("collect: success.csv", r"SuccessWriter.*::write|success_cells"),
    ("collect: failed.csv", r"FailedWriter.*::write"),
    ("collect: progress / counts", r"Collector.*::tick|indicatif"),
    ("send: interpret answer",
     r"nxlink::interpret|\binterpret\b|interpret_fast|interpret_value|serde_json::de::from_trait|serde_json::value::de"),
    ("send: sign (md5 over body)", r"nxlink_sign|Provider>::headers"),
    ("send: join row JSON into the body", r"\bwrite_body\b"),
    ("read: serialise row (JSON)", r"Prepared>?::new"),
    ("send: reqwest/hyper client", r"reqwest::|hyper::|hyper_util::|h2::"),
    ("send: Http::post other", r"Http::post"),
    ("read: map + validate + serialise row (prepare)", r"Provider>::prepare|Nxlink>?::customer|Plan::apply|rules::"),
    ("read: CSV parse + decode", r"CsvRecords|csv::parser|Decoder|encoding_rs"),
    ("read: batching / channel", r"Reader<.*>::run|Reader.*::run"),
    ("collect: drop rows / other", r"Collector<.*>::handle|Collector.*::run"),
    ("send: send_batch other (row outcomes, copies)", r"send_batch|attempt_loop"),
    ("tokio runtime / task scheduling", r"tokio::"),
    ("start-up (loader, main before pipeline)", r"_dl_start|_dl_relocate|dl_main|clap::|config::"),
]
COMPILED = [(name, re.compile(rx)) for name, rx in MARKERS]


def samples(lines):
    head, frames = None, []
    for line in lines:
        if not line.strip():
            if head is not None:
                yield head, frames
            head, frames = None, []
        elif line[0] in " \t":
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else parts[0])
        else:
            head = line.strip()
    if head is not None:
        yield head, frames


def main():
    counts = collections.Counter()
    threads = collections.Counter()
    total = 0
    for head, frames in samples(sys.stdin):
        total += 1
        threads[head.rsplit(None, 1)[0] if len(head.split()) > 1 else head] += 1
        stage = None
        for f in frames:  # innermost first
            for name, rx in COMPILED:
                if rx.search(f):
                    stage = name
                    break
            if stage:
                break
        thread = head.split()[0] if head.split() else ""
        if stage is None and thread == "custimport-read" and any("custimport" in f for f in frames):
            # Frames the optimiser folded into the reader's loop (row JSON, batching).
            stage = "read: other, inlined into the reader loop (row JSON, batching)"
        if stage is None:
            leaf = frames[0] if frames else "?"
            stage = "unattributed: kernel (scheduler, net, futex)" if (
                frames and re.match(r"^[0-9a-f]{16}", leaf)) else "unattributed: other"
            if frames and all(not re.search(r"custimport|tokio|std::", f) for f in frames):
                stage = "unattributed: kernel (scheduler, net, futex)" if any(
                    "schedule" in f or "sys_" in f or "irq" in f for f in frames) else stage
        counts[stage] += 1
    print(f"{total} samples")
    print()
    print("| thread | share of custimport CPU samples |")
    print("|---|---:|")
    for name, n in threads.most_common():
        print(f"| {name} | {100 * n / total:.1f} % |")
    print()
    print("| stage | share of custimport CPU samples |")
    print("|---|---:|")
    for name, n in counts.most_common():
        print(f"| {name} | {100 * n / total:.1f} % |")


if __name__ == "__main__":
    main()
