//! Micro-benchmarks of the per-row work of `custimport nxlink`, through the library's public API:
//!
//! - `prepare`: map a CSV record to fields and validate/normalise it (100 rows per iteration);
//! - `phone`: `prepare` of rows with Indonesian WhatsApp numbers written nationally,
//!   internationally and bare, without and with `--phone-region ID` (the difference is the
//!   cost of reading a number with a numbering plan);
//! - `batch`: serialise a 100-row request body, sign it, both;
//! - `interpret`: interpret the sandbox's answer to a 100-row request;
//! - `collect`: what the collector does per answered row (success report line, journal entry);
//! - `input`: read and decode CSV records from a file (1,000 rows per iteration).
//!
//! `cargo bench --bench provider` (divan; add `-- prepare` to filter). Throughput is shown per
//! row ("item"). The end-to-end benchmark is `bench/run.sh`; see BENCHMARKS.md.

use std::fmt::Write as _;
use std::io::Write as _;

use custimport::bench::{Header, Journal};
use custimport::input::{Format, Input, InputOptions, RecordData};

use custimport::bench::SuccessWriter;
use custimport::bench::{parse_maps, Outcome, Plan, Schema};
use custimport::provider::nxlink::{Nxlink, Prepared as Customer};
use custimport::provider::phone::Region;
use custimport::provider::Secret;
use custimport::provider::{Observed, Provider};
use divan::counter::ItemsCount;
use divan::{black_box, Bencher};

/// The binary's allocator (src/main.rs), so that allocation costs here match `custimport`'s.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const BATCH: usize = 100;
const HEADER: [&str; 7] = [
    "Full Name",
    "WhatsApp",
    "Email",
    "Birthday",
    "Gender",
    "Country",
    "Notes",
];

fn provider() -> Nxlink {
    provider_in(None)
}

/// The sandbox account's provider, reading numbers in `region` (`--phone-region`).
fn provider_in(region: Option<Region>) -> Nxlink {
    Nxlink::new(
        custimport::provider::nxlink::Credentials {
            access_key: "sandbox".into(),
            access_secret: Secret::new("sandbox-secret"),
            tenant_id: 1,
            app_key: "sandbox".into(),
        },
        custimport::provider::nxlink::Options {
            phone_region: region,
            ..Default::default()
        },
    )
}

/// Rows shaped like `bench/gen.py`'s (valid ones): names (some Chinese), formatted phones,
/// e-mails, birthdays with various separators, every gender spelling, notes.
fn rows(n: usize) -> Vec<Vec<String>> {
    const FIRST: [&str; 8] = [
        "Budi", "Siti", "Agus", "Dewi", "Maria", "John", "Linh", "Priya",
    ];
    const LAST: [&str; 8] = [
        "Santoso", "Wijaya", "Pratama", "Nguyen", "Garcia", "Khan", "Tanaka", "Lim",
    ];
    const CN: [&str; 4] = ["王伟", "李娜", "张秀英", "刘强"];
    const GENDERS: [&str; 8] = ["male", "female", "M", "F", "1", "0", "男", "女"];
    const NOTES: [&str; 4] = [
        "",
        "Prefers mornings",
        "Met at \"Jakarta Expo\" 2024",
        "回访客户",
    ];
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let name = if i % 10 == 0 {
                CN[next() % CN.len()].to_owned()
            } else {
                format!("{} {}", FIRST[next() % 8], LAST[next() % 8])
            };
            let num = 8_000_000_000u64 + (i as u64) * 7_919;
            let d = num.to_string();
            let phone = match next() % 4 {
                0 => format!("+62 {}-{}-{}", &d[..3], &d[3..7], &d[7..]),
                1 => format!("+62 {} {} {}", &d[..3], &d[3..7], &d[7..]),
                2 => format!("62{d}"),
                _ => format!("(62) {}.{}", &d[..4], &d[4..]),
            };
            let email = format!("user{i}@example.co.id");
            let sep = ["-", "/", "."][next() % 3];
            let birthday = format!(
                "{}{sep}{}{sep}{}",
                1950 + next() % 55,
                1 + next() % 12,
                1 + next() % 28
            );
            vec![
                name,
                phone,
                email,
                birthday,
                GENDERS[next() % 8].to_owned(),
                "Indonesia".to_owned(),
                NOTES[next() % 4].to_owned(),
            ]
        })
        .collect()
}

fn schema(p: &Nxlink) -> Schema {
    Schema {
        fields: p.spec().fields,
        extras_prefix: p.spec().extras_prefix,
        unmapped_to_extras: p.spec().unmapped_to_extras,
    }
}

fn header() -> Vec<String> {
    HEADER.iter().map(|h| (*h).to_owned()).collect()
}

fn customers(n: usize) -> Vec<Customer> {
    let p = provider();
    let header = header();
    let maps = parse_maps(&schema(&p), &[]).expect("no maps");
    let (plan, _) = Plan::for_header(&schema(&p), &header, &maps).expect("plan");
    let mut seen = Observed::default();
    rows(n)
        .iter()
        .map(|r| {
            p.prepare(
                &plan.apply(&header, r.iter().map(String::as_str)),
                &mut seen,
            )
            .expect("valid row")
        })
        .collect()
}

/// The sandbox's answer to a request of `customers` (same shape and field order).
fn answer(customers: &[Customer]) -> Vec<u8> {
    let mut s = String::from(
        r#"{"code":0,"message":null,"traceId":"3f2a9c0e5b7d41c8a6e2f0b9d4c1a7e3","data":{"#,
    );
    let _ = write!(
        s,
        r#""totalCount":{0},"successCount":{0},"failCount":0,"failItems":[],"successItems":["#,
        customers.len()
    );
    for (i, c) in customers.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let phone = c.whats_app_phone().unwrap_or_default();
        let _ = write!(
            s,
            r#"{{"index":{i},"customerId":{},"whatsAppPhone":"{phone}"}}"#,
            1_214_631_327_620_775_936u64 + i as u64
        );
    }
    s.push_str("]}}");
    s.into_bytes()
}

/// Map + validate + normalise one batch of CSV records.
#[divan::bench]
fn prepare(bencher: Bencher) {
    let p = provider();
    let header = header();
    let maps = parse_maps(&schema(&p), &[]).expect("no maps");
    let (plan, _) = Plan::for_header(&schema(&p), &header, &maps).expect("plan");
    let rows = rows(BATCH);
    let mut seen = Observed::default();
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        for r in &rows {
            let mapped = plan.apply(&header, black_box(r).iter().map(String::as_str));
            let c = p.prepare(&mapped, &mut seen);
            black_box(c.is_ok());
        }
    });
}

mod phone {
    use super::*;

    /// `prepare`'s rows with valid Indonesian mobile numbers as WhatsApp numbers, a third each
    /// national (`0812-3000-0000`), international (`+62 812 3000 0000`) and bare (`62812…`);
    /// every row's country is "Indonesia".
    fn id_rows() -> Vec<Vec<String>> {
        let mut rows = rows(BATCH);
        for (i, row) in rows.iter_mut().enumerate() {
            let d = format!("81{:08}", 23_000_000 + i * 7_919);
            row[1] = match i % 3 {
                0 => format!("0{}-{}-{}", &d[..3], &d[3..7], &d[7..]),
                1 => format!("+62 {} {} {}", &d[..3], &d[3..7], &d[7..]),
                _ => format!("62{d}"),
            };
        }
        rows
    }

    /// Map + validate + normalise 100 rows, one phone field each.
    #[divan::bench(args = ["none", "ID"])]
    fn prepare(bencher: Bencher, region: &str) {
        let p = provider_in(Region::from_code(region));
        let header = header();
        let maps = parse_maps(&schema(&p), &[]).expect("no maps");
        let (plan, _) = Plan::for_header(&schema(&p), &header, &maps).expect("plan");
        let rows = id_rows();
        // Every row is valid either way, so both arms do the same work but the phone's.
        let mut seen = Observed::default();
        for r in &rows {
            let c = p.prepare(
                &plan.apply(&header, r.iter().map(String::as_str)),
                &mut seen,
            );
            assert!(c.is_ok(), "{r:?}: {c:?}");
        }
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            for r in &rows {
                let mapped = plan.apply(&header, black_box(r).iter().map(String::as_str));
                let c = p.prepare(&mapped, &mut seen);
                black_box(c.is_ok());
            }
        });
    }
}

mod batch {
    use super::*;

    /// Serialise a 100-row request body.
    #[divan::bench]
    fn write_body(bencher: Bencher) {
        let p = provider();
        let cs = customers(BATCH);
        let refs: Vec<&Customer> = cs.iter().collect();
        let mut buf = Vec::with_capacity(16 * 1024);
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            p.write_body(black_box(&refs), &mut buf);
            black_box(buf.len());
        });
    }

    /// Sign an already serialised 100-row body (md5 over the exact bytes) and build the headers.
    #[divan::bench]
    fn sign(bencher: Bencher) {
        let p = provider();
        let cs = customers(BATCH);
        let refs: Vec<&Customer> = cs.iter().collect();
        let mut buf = Vec::new();
        p.write_body(&refs, &mut buf);
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            black_box(p.headers(black_box(&buf), 1_763_920_800_000));
        });
    }

    /// Both, as the sender does per attempt.
    #[divan::bench]
    fn write_body_and_sign(bencher: Bencher) {
        let p = provider();
        let cs = customers(BATCH);
        let refs: Vec<&Customer> = cs.iter().collect();
        let mut buf = Vec::with_capacity(16 * 1024);
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            p.write_body(black_box(&refs), &mut buf);
            black_box(p.headers(&buf, 1_763_920_800_000));
        });
    }
}

/// Interpret the answer to a 100-row request (100 success items with 64-bit ids).
#[divan::bench]
fn interpret(bencher: Bencher) {
    let p = provider();
    let cs = customers(BATCH);
    let refs: Vec<&Customer> = cs.iter().collect();
    let body = answer(&cs);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        black_box(p.interpret(black_box(&body), &refs));
    });
}

mod collect {
    use super::*;

    /// `success.csv` lines for 100 accepted rows (cells built as the collector does).
    #[divan::bench]
    fn success_report(bencher: Bencher) {
        let p = provider();
        let cs = customers(BATCH);
        let ids: Vec<String> = (0..BATCH)
            .map(|i| (1_214_631_327_620_775_936u64 + i as u64).to_string())
            .collect();
        let mut w = SuccessWriter::new(
            std::io::sink(),
            p.spec().success_header,
            &["whats_app_phone"],
            false,
        )
        .expect("writer");
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            for (i, (c, id)) in cs.iter().zip(&ids).enumerate() {
                let cells = p.success_cells(c, Some(id));
                w.write(i as u64 + 1, &cells).expect("write");
            }
        });
    }

    /// The journal's `done` entry for 100 succeeded rows, appended to a file (no sync).
    #[divan::bench]
    fn journal_done(bencher: Bencher) {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal::create(
            dir.path(),
            &Header {
                version: custimport::bench::VERSION,
                provider: "nxlink".into(),
                input: "bench.csv".into(),
                fingerprint: "0:0".into(),
                sheet: None,
                options: None,
            },
        )
        .expect("journal");
        let outcomes: Vec<Outcome> = (0..BATCH)
            .map(|i| Outcome::Succeeded {
                id: Some((1_214_631_327_620_775_936u64 + i as u64).to_string()),
                already_present: false,
            })
            .collect();
        bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
            // The journal records rows and outcomes (the success cells go to success.csv).
            let rows: Vec<(u64, &Outcome)> = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| (i as u64 + 1, o))
                .collect();
            j.done(&rows).expect("journal write");
        });
    }
}

/// Read and decode 1,000 CSV records from a file (the reader thread's first step).
#[divan::bench]
fn input_csv(bencher: Bencher) {
    const N: usize = 1_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rows.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut w = csv::Writer::from_writer(&mut f);
        w.write_record(HEADER).expect("header");
        for r in rows(N) {
            w.write_record(&r).expect("row");
        }
        w.flush().expect("flush");
        drop(w);
        f.flush().expect("flush");
    }
    let opts = InputOptions {
        path,
        format: Format::Csv,
        delimiter: None,
        encoding: None,
        max_field_bytes: 1 << 20,
        sheet: None,
        header_row: None,
    };
    bencher.counter(ItemsCount::new(N)).bench_local(|| {
        let input = Input::open(&opts).expect("open");
        let mut cells = 0;
        for rec in input.flatten() {
            if let RecordData::Cells(c) = &rec.data {
                cells += c.len();
            }
        }
        black_box(cells);
    });
}
