#!/usr/bin/env python3
"""The Python aiohttp peer of `custimport nxlink`, for the benchmark (bench/run.sh).

    bench/.venv/bin/python bench/peer.py FILE --base-url URL --out DIR --concurrency N

Does what a careful hand-written importer would do, and what custimport does on the hot path:
streams the CSV, maps the generator's headers to nxlink fields, validates and normalises each
row with the same rules for the fields present (phone separators and one leading + removed,
digits only, at most 30; e-mail; birthday to yyyy-MM-dd, a real date; gender to 1/0; lengths;
full_name and one contact channel required), sends batches of up to 100 customers as compact
JSON signed with md5 over `accessKey=..&action=mt&bizType=2&ts=..&body=<exact body>&accessSecret=..`
with at most N requests in flight, retries transport errors and 5xx up to 5 times, and writes a
per-row report:

    DIR/success.csv   row,customer_id,whats_app_phone,full_name
    DIR/failed.csv    row,outcome,code      (outcome: rejected | failed)
    DIR/summary.json  counts

and prints the summary as one JSON line. Credentials come from the CUSTIMPORT_NXLINK_* variables
(the sandbox's by default). Not a product: no resume, no journal, no bisection.
"""

import argparse
import asyncio
import calendar
import csv
import hashlib
import json
import os
import sys
import time

import aiohttp

PATH = "/saas/cdp/openapi/customers/batch_create"
HEADER_MAP = {
    "fullname": "full_name", "name": "full_name",
    "whatsapp": "whats_app_phone", "phone": "whats_app_phone", "whatsappphone": "whats_app_phone",
    "email": "email", "birthday": "birthday", "gender": "gender", "country": "country",
    "notes": "remark", "remark": "remark",
}
PHONE_SEP = str.maketrans("", "", " -.()\u00a0\t")
GENDER = {"1": 1, "male": 1, "m": 1, "男": 1, "0": 0, "female": 0, "f": 0, "女": 0}
MAX_LEN = {"full_name": 255, "country": 50, "remark": 2000}
ORDER = ["full_name", "whats_app_phone", "email", "birthday", "remark", "gender", "country"]


class Reject(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def cell(v, phone=False):
    v = v.strip()
    if len(v) > 1 and v[0] == "'" and (v[1] in "=+-@" or (phone and (v[1].isdigit()))):
        v = v[1:]
    return v


def norm_phone(v):
    d = v[1:] if v.startswith("+") else v
    d = d.translate(PHONE_SEP)
    if not d or not d.isascii() or not d.isdigit():
        raise Reject("invalid_phone", "whats_app_phone: must be digits")
    if len(d) > 30:
        raise Reject("invalid_phone", "whats_app_phone: too many digits")
    return d


def norm_birthday(v):
    sep = next((c for c in v if c in "-/."), None)
    parts = v.split(sep) if sep else []
    if len(parts) != 3:
        raise Reject("invalid_birthday", "birthday: expected yyyy-MM-dd")
    y, m, d = parts
    ok = (len(y) == 4 and 1 <= len(m) <= 2 and 1 <= len(d) <= 2
          and (y + m + d).isascii() and (y + m + d).isdigit())
    if not ok:
        raise Reject("invalid_birthday", "birthday: expected yyyy-MM-dd")
    y, m, d = int(y), int(m), int(d)
    if not (1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]):
        raise Reject("invalid_birthday", "birthday: not a real date")
    return f"{y:04d}-{m:02d}-{d:02d}"


def prepare(fields, row):
    """One CSV row to an nxlink customer dict (field order as custimport sends it)."""
    c = {}
    for name, idx in fields:
        if idx >= len(row):
            continue
        v = cell(row[idx], phone=name == "whats_app_phone")
        if not v:
            continue
        if name == "whats_app_phone":
            v = norm_phone(v)
        elif name == "email":
            local, at, dom = v.partition("@")
            if len(v) > 50:
                raise Reject("too_long", "email: too long")
            if not (at and local and dom and "@" not in dom and not any(ch.isspace() for ch in v)):
                raise Reject("invalid_email", "email: not an e-mail address")
        elif name == "birthday":
            v = norm_birthday(v)
        elif name == "gender":
            g = GENDER.get(v.lower())
            if g is None:
                raise Reject("invalid_gender", "gender: expected 1/0, male/female, m/f or 男/女")
            v = g
        elif name in MAX_LEN and len(v) > MAX_LEN[name]:
            raise Reject("too_long", f"{name}: too long")
        c[name] = v
    if "full_name" not in c:
        raise Reject("missing_full_name", "full_name: required")
    if "whats_app_phone" not in c and "email" not in c:
        raise Reject("no_contact", "needs at least one contact channel")
    return {k: c[k] for k in ORDER if k in c}


class Peer:
    def __init__(self, a):
        self.url = a.base_url.rstrip("/") + PATH
        self.concurrency = a.concurrency
        self.batch_size = a.batch_size
        self.key = os.environ.get("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        self.secret = os.environ.get("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        self.head = {"type": 1,
                     "tenant_id": int(os.environ.get("CUSTIMPORT_NXLINK_TENANT_ID", "1")),
                     "app_key": os.environ.get("CUSTIMPORT_NXLINK_APP_KEY", "sandbox"),
                     "strict_binding": False}
        self.counts = {"total": 0, "succeeded": 0, "rejected": 0, "failed": 0, "requests": 0,
                       "retries": 0}
        os.makedirs(a.out, exist_ok=True)
        self.ok = open(os.path.join(a.out, "success.csv"), "w", newline="", encoding="utf-8")
        self.bad = open(os.path.join(a.out, "failed.csv"), "w", newline="", encoding="utf-8")
        self.okw, self.badw = csv.writer(self.ok), csv.writer(self.bad)
        self.okw.writerow(["row", "customer_id", "whats_app_phone", "full_name"])
        self.badw.writerow(["row", "outcome", "code"])

    def fail(self, rows, outcome, code):
        for r in rows:
            self.counts[outcome] += 1
            self.badw.writerow([r, outcome, code])

    async def send(self, session, rows, customers):
        body = json.dumps(dict(self.head, customers=customers), ensure_ascii=False,
                          separators=(",", ":")).encode()
        for attempt in range(6):
            ts = str(int(time.time() * 1000))
            h = hashlib.md5()
            h.update(f"accessKey={self.key}&action=mt&bizType=2&ts={ts}&body=".encode())
            h.update(body)
            h.update(f"&accessSecret={self.secret}".encode())
            headers = {"Content-Type": "application/json", "accessKey": self.key, "ts": ts,
                       "bizType": "2", "action": "mt", "sign": h.hexdigest()}
            self.counts["requests"] += 1
            if attempt:
                self.counts["retries"] += 1
            try:
                async with session.post(self.url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    if resp.status >= 500:
                        await asyncio.sleep(0.1 * 2 ** attempt)
                        continue
                    answer = json.loads(raw)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                await asyncio.sleep(0.1 * 2 ** attempt)
                continue
            code = int(answer.get("code", -1))
            if code != 0:
                self.fail(rows, "failed", str(code))
                return
            data = answer.get("data") or {}
            done = set()
            for it in data.get("successItems") or []:
                i = it["index"]
                done.add(i)
                self.counts["succeeded"] += 1
                self.okw.writerow([rows[i], it.get("customerId", ""),
                                   customers[i].get("whats_app_phone", ""),
                                   customers[i]["full_name"]])
            for it in data.get("failItems") or []:
                i = it["index"]
                done.add(i)
                self.fail([rows[i]], "failed", str(it.get("errorCode")))
            self.fail([r for i, r in enumerate(rows) if i not in done], "failed", "unanswered")
            return
        self.fail(rows, "failed", "gave_up")

    async def worker(self, session, queue):
        while True:
            item = await queue.get()
            if item is None:
                return
            await self.send(session, *item)

    async def run(self, path):
        queue = asyncio.Queue(maxsize=self.concurrency * 2)
        conn = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
            workers = [asyncio.create_task(self.worker(session, queue))
                       for _ in range(self.concurrency)]
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f)
                header = next(reader)
                fields = []
                for i, h in enumerate(header):
                    key = "".join(ch for ch in h.lower() if ch not in " _-")
                    if key in HEADER_MAP:
                        fields.append((HEADER_MAP[key], i))
                rows, customers = [], []
                for n, rec in enumerate(reader, start=1):
                    self.counts["total"] += 1
                    try:
                        c = prepare(fields, rec)
                    except Reject as r:
                        self.counts["rejected"] += 1
                        self.badw.writerow([n, "rejected", r.code])
                        continue
                    rows.append(n)
                    customers.append(c)
                    if len(rows) == self.batch_size:
                        await queue.put((rows, customers))
                        rows, customers = [], []
                if rows:
                    await queue.put((rows, customers))
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        self.ok.close()
        self.bad.close()


def main():
    ap = argparse.ArgumentParser(description="Python aiohttp peer of custimport nxlink")
    ap.add_argument("input")
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=100)
    a = ap.parse_args()
    peer = Peer(a)
    started = time.monotonic()
    asyncio.run(peer.run(a.input))
    summary = dict(peer.counts, elapsed_secs=round(time.monotonic() - started, 3))
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f)
    print(json.dumps(summary))
    sys.exit(0 if summary["total"] == summary["succeeded"] else 1)


if __name__ == "__main__":
    main()
