#!/usr/bin/env python3
"""Deterministic generator of realistic nxlink customer rows for the benchmark.

    python3 bench/gen.py --rows 300000 --seed 42 --out bench/data/rows-300000.csv

Columns: Full Name, WhatsApp, Email, Birthday, Gender, Country, Notes (the header names that
custimport maps automatically to full_name, whats_app_phone, email, birthday, gender, country,
remark). About 10% of the names are Chinese, phones come in several common formats (spaces,
dashes, dots, parentheses, leading +), birthdays use `-`, `/` or `.` separators, genders use
every accepted spelling, and some notes need CSV quoting.

About 2% of the rows are invalid in exactly one way that both custimport and bench/peer.py
detect: the phone number contains letters after the separators are removed (custimport code
`invalid_phone`). Every other row is valid, has a unique phone and a unique e-mail address,
and is accepted by the sandbox. Pure standard library; same seed, same bytes.
"""

import argparse
import csv
import random
import sys

FIRST = [
    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Ayu", "Hendra", "Rina",
    "Maria", "John", "Linh", "Minh", "Somchai", "Nurul", "Fajar", "Indah", "Wahyu", "Sari",
    "Carlos", "Ana", "Jose", "Lucia", "Mohammed", "Fatima", "Arjun", "Priya", "Kenji", "Yuki",
]
LAST = [
    "Santoso", "Wijaya", "Pratama", "Lestari", "Saputra", "Hidayat", "Nugroho", "Kusuma",
    "Setiawan", "Siregar", "Nguyen", "Tran", "Garcia", "Silva", "Rahman", "Khan", "Sharma",
    "Tanaka", "Sato", "Smith", "Lim", "Tan", "Ong", "Halim", "Gunawan", "Susanto",
]
CN_SURNAME = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
CN_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华"
COUNTRIES = ["Indonesia", "Indonesia", "Indonesia", "Malaysia", "Philippines", "Vietnam",
             "Thailand", "China", "Mexico", "Brazil", "India"]
PREFIX = {"Indonesia": "62", "Malaysia": "60", "Philippines": "63", "Vietnam": "84",
          "Thailand": "66", "China": "86", "Mexico": "52", "Brazil": "55", "India": "91"}
GENDERS = ["male", "female", "M", "F", "m", "f", "1", "0", "男", "女", "Male", "FEMALE", ""]
DOMAINS = ["example.com", "example.co.id", "mail.example.net", "example.cn", "example.org"]
NOTES = [
    "", "", "", "", "Prefers mornings", "VIP customer", "Call after 5pm, not before",
    "Met at \"Jakarta Expo\" 2024", "回访客户", "Referred by a friend; wants a demo",
    "Pelanggan setia", "Interested in plan B, C",
]
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def phone_text(rng, prefix, number):
    """A unique national number (`number`, 10 digits) in one of several display formats."""
    n = f"{number:010d}"
    fmt = rng.randrange(6)
    if fmt == 0:
        return f"+{prefix} {n[:3]}-{n[3:7]}-{n[7:]}"
    if fmt == 1:
        return f"+{prefix} {n[:3]} {n[3:7]} {n[7:]}"
    if fmt == 2:
        return f"{prefix}{n}"
    if fmt == 3:
        return f"({prefix}) {n[:4]}.{n[4:]}"
    if fmt == 4:
        return f"+{prefix}{n}"
    return f"{prefix}-{n[:3]}-{n[3:6]}-{n[6:]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--invalid-rate", type=float, default=0.02)
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = sys.stdout if a.out == "-" else open(a.out, "w", newline="", encoding="utf-8")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Full Name", "WhatsApp", "Email", "Birthday", "Gender", "Country", "Notes"])
    # Unique 10-digit national numbers: an affine permutation of the row index.
    base = rng.randrange(10**9)
    invalid = 0
    for i in range(a.rows):
        country = rng.choice(COUNTRIES)
        if country == "China" or rng.random() < 0.05:
            name = rng.choice(CN_SURNAME) + "".join(
                rng.choice(CN_GIVEN) for _ in range(rng.randint(1, 2)))
            local = f"user{i}"
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            local = f"{first}.{last}{i}".lower()
        number = 8_000_000_000 + (base + i * 7_919) % 1_000_000_000
        phone = phone_text(rng, PREFIX[country], number)
        if rng.random() < a.invalid_rate:
            # Letters inside the number: invalid_phone for both tools.
            k = rng.randrange(len(phone) - 2) + 2
            phone = phone[:k] + rng.choice(LETTERS) + rng.choice(LETTERS) + phone[k:]
            invalid += 1
        email = f"{local}@{rng.choice(DOMAINS)}" if rng.random() < 0.8 else ""
        if rng.random() < 0.85:
            y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
            sep = rng.choice("-/.")
            birthday = f"{y}{sep}{m}{sep}{d}" if rng.random() < 0.5 else f"{y}{sep}{m:02d}{sep}{d:02d}"
        else:
            birthday = ""
        w.writerow([name, phone, email, birthday, rng.choice(GENDERS), country, rng.choice(NOTES)])
    if out is not sys.stdout:
        out.close()
    print(f"gen.py: {a.rows} rows, {invalid} invalid, seed {a.seed}", file=sys.stderr)


if __name__ == "__main__":
    main()
