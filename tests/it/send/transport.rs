//! The transport rules against servers that are not the sandbox: a canned HTTP server that
//! answers every request with the same bytes (a redirect, a vague success, an endless body), a
//! TLS server with a certificate nobody trusts, and a port where nothing listens.
//!
//! Each test checks the promise, not the mechanism: no row is `succeeded` unless an answer
//! confirmed it, every row is reported exactly once, and the exit code is the contract's.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::env::{cell, TestEnv};

/// What a canned server writes after reading a request.
#[derive(Clone)]
enum Canned {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// A 200 with a chunked body that never ends (until the client goes away).
    Endless,
    /// A 200 with a `Content-Length` of `mib` MiB and that many bytes, written in chunks.
    Huge { mib: usize, declare_length: bool },
}

/// A server on 127.0.0.1 that answers every request with `canned`. Counts requests.
struct CannedServer {
    url: String,
    requests: Arc<AtomicU64>,
}

impl CannedServer {
    fn start(canned: Canned) -> CannedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicU64::new(0));
        let count = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let canned = canned.clone();
                let count = count.clone();
                std::thread::spawn(move || serve(conn, &canned, &count));
            }
        });
        CannedServer { url, requests }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Read one request (headers and a Content-Length body), write the canned answer, close.
fn serve(mut conn: TcpStream, canned: &Canned, count: &AtomicU64) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if conn.read_exact(&mut body).is_err() {
        return;
    }
    count.fetch_add(1, Ordering::SeqCst);
    match canned {
        Canned::Bytes(b) => {
            let _ = conn.write_all(b);
        }
        Canned::Endless => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
            );
            let chunk = format!("{:x}\r\n{}\r\n", 65536, "9".repeat(65536));
            let _ = conn.write_all(b"6\r\n{\"a\":[\r\n");
            while conn.write_all(chunk.as_bytes()).is_ok() {}
        }
        Canned::Huge {
            mib,
            declare_length,
        } => {
            let total = mib * 1024 * 1024;
            let head = if *declare_length {
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n")
            } else {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = conn.write_all(head.as_bytes());
            let chunk = vec![b' '; 65536];
            let mut sent = 0;
            while sent < total && conn.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
        }
    }
}

fn http(status: &str, headers: &str, body: &str) -> Canned {
    Canned::Bytes(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn input(env: &TestEnv, n: usize) -> std::path::PathBuf {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    env.write("in.csv", s)
}

/// Outcome per row across success.csv and failed.csv, each row exactly once, rows 1..=n.
fn outcomes(env: &TestEnv, n: usize) -> BTreeMap<u64, String> {
    let mut seen = BTreeMap::new();
    if env.out().join("success.csv").exists() {
        for r in env.csv_rows("success.csv") {
            let row: u64 = cell(&r, "row").parse().unwrap();
            assert!(
                seen.insert(row, "succeeded".to_owned()).is_none(),
                "row {row} twice"
            );
        }
    }
    for r in env.csv_rows("failed.csv") {
        let row: u64 = cell(&r, "custimport_row").parse().unwrap();
        let o = cell(&r, "custimport_outcome").to_owned();
        assert!(seen.insert(row, o).is_none(), "row {row} twice");
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (1..=n as u64).collect::<Vec<_>>(),
        "every row exactly once"
    );
    seen
}

fn run(env: &TestEnv, provider: &str, url: &str, args: &[&str]) -> std::process::Output {
    let mut c = env.cmd(provider);
    if provider == "itnio" {
        c.args(["--job", "9"]);
    }
    c.args(["--base-url", url, "--no-progress"])
        .args(args)
        .arg(env.path("in.csv"));
    c.output().unwrap()
}

#[test]
fn redirects_are_never_followed() {
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        for provider in ["nxlink", "itnio"] {
            let env = TestEnv::new();
            // Where it points answers a perfect success to anything: following it would lie.
            let target = format!("{}/saas/cdp/openapi/customers/batch_create", env.base_url);
            let server = CannedServer::start(http(status, &format!("location: {target}\r\n"), ""));
            input(&env, 6);
            let out = run(
                &env,
                provider,
                &server.url,
                &["--batch-size", "2", "--concurrency", "1"],
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{provider} {status}: {stderr}");
            assert!(stderr.contains(&target), "{provider} {status}: {stderr}");
            assert!(stderr.contains("redirect"), "{stderr}");
            assert_eq!(server.requests(), 1, "{provider} {status}");
            let o = outcomes(&env, 6);
            assert!(
                o.values().all(|v| v == "pending"),
                "{provider} {status}: {o:?}"
            );
            let s = env.summary();
            assert_eq!(
                (s["pending"].as_u64(), s["succeeded"].as_u64()),
                (Some(6), Some(0))
            );
            assert!(env.held_nxlink().is_empty() && env.held_itnio(9).is_empty());
        }
    }
}

#[test]
fn vague_successes_are_unknown() {
    for body in [
        r#"{"code":0}"#,
        r#"{"code":0,"data":{}}"#,
        r#"{"code":0,"data":"internal error"}"#,
        r#"{"code":0,"message":"success","traceId":"tr9","data":null}"#,
        r#"{"code":"0","data":{"successItems":[],"failItems":[]}}"#,
    ] {
        let env = TestEnv::new();
        let server = CannedServer::start(http("200 OK", "", body));
        input(&env, 3);
        let out = run(&env, "nxlink", &server.url, &[]);
        assert_eq!(out.status.code(), Some(1), "{body}");
        let o = outcomes(&env, 3);
        assert!(o.values().all(|v| v == "unknown"), "{body}: {o:?}");
        let s = env.summary();
        assert_eq!(
            (s["unknown"].as_u64(), s["succeeded"].as_u64()),
            (Some(3), Some(0)),
            "{body}"
        );
        if body.contains("tr9") {
            for r in env.csv_rows("failed.csv") {
                assert!(cell(&r, "custimport_error").contains("tr9"), "{r:?}");
            }
        }
    }
    // itnio: data that is not a list confirms nothing either.
    let env = TestEnv::new();
    let server = CannedServer::start(http(
        "200 OK",
        "",
        r#"{"status":"0","reason":"ok","data":"error"}"#,
    ));
    input(&env, 3);
    let out = run(&env, "itnio", &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(outcomes(&env, 3).values().all(|v| v == "unknown"));
}

#[test]
fn contradictions_and_omissions_are_unknown() {
    // Row 1 on both sides, row 2 twice, row 3 left out, row 4 confirmed once.
    let body = r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2},{"index":1,"customerId":2},{"index":3,"customerId":4}],"failItems":[{"index":0,"errorCode":1,"errorMessage":"x"}]}}"#;
    let env = TestEnv::new();
    let server = CannedServer::start(http("200 OK", "", body));
    input(&env, 4);
    let out = run(&env, "nxlink", &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    let o = outcomes(&env, 4);
    assert_eq!(
        o.values().map(String::as_str).collect::<Vec<_>>(),
        ["unknown", "unknown", "unknown", "succeeded"]
    );
}

#[test]
fn itnio_lines_in_other_spellings_and_lines_naming_nobody() {
    // Row 1 is named with a full-width colon and comma: failed, not succeeded.
    let env = TestEnv::new();
    let body = r#"{"status":"0","reason":"success","data":["该客户已存在于此任务中，手机号：62810000001"]}"#;
    let server = CannedServer::start(http("200 OK", "", body));
    input(&env, 3);
    let out = run(&env, "itnio", &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    let o = outcomes(&env, 3);
    assert_eq!(
        o.values().map(String::as_str).collect::<Vec<_>>(),
        ["failed", "succeeded", "succeeded"]
    );
    // A line that names no row: nothing is confirmed.
    let env = TestEnv::new();
    let body = r#"{"status":"0","reason":"success","data":["Import failed for one customer"]}"#;
    let server = CannedServer::start(http("200 OK", "", body));
    input(&env, 3);
    let out = run(&env, "itnio", &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(outcomes(&env, 3).values().all(|v| v == "unknown"));
    assert_eq!(env.summary()["unattributed"].as_u64(), Some(1));
}

/// Run the binary against `url` (nxlink, sandbox credentials) and return its exit code and its
/// own peak resident memory in bytes. Measured by GNU time (`/usr/bin/time -f %M`), which forks
/// the binary from its own small process: a child forked straight from this (large, threaded)
/// test process would carry this process's resident pages in its high-water mark until exec.
fn run_measured(env: &TestEnv, url: &str, args: &[&str]) -> (i32, u64) {
    let bin = assert_cmd::cargo::cargo_bin("custimport");
    let report = env.path("time.txt");
    let status = std::process::Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&report)
        .args(["-f", "%M"])
        .arg(bin)
        .current_dir(env.dir.path())
        .env_clear()
        .env("HOME", env.dir.path())
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .args(["nxlink", "--base-url", url, "--out"])
        .arg(env.out())
        .args(["--backoff-ms", "10", "-q"])
        .args(args)
        .arg(env.path("in.csv"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!("/usr/bin/time (Debian package `time`, installed by .ci/run): {e}")
        });
    let text = std::fs::read_to_string(&report).unwrap();
    // GNU time prints "Command exited with non-zero status N" before the figures.
    let kib: u64 = text.lines().last().unwrap().trim().parse().unwrap();
    (status.code().unwrap(), kib * 1024)
}

#[test]
fn huge_and_endless_answers_are_cut_off() {
    for canned in [
        Canned::Endless,
        Canned::Huge {
            mib: 300,
            declare_length: false,
        },
        Canned::Huge {
            mib: 300,
            declare_length: true,
        },
    ] {
        let env = TestEnv::new();
        let server = CannedServer::start(canned);
        input(&env, 3);
        let (code, rss) = run_measured(&env, &server.url, &["--retries", "1", "--timeout", "60"]);
        assert_eq!(code, 1);
        assert!(rss < 100 * 1024 * 1024, "peak RSS {} MiB", rss >> 20);
        let o = outcomes(&env, 3);
        assert!(o.values().all(|v| v == "unknown"), "{o:?}");
        let failed = env.csv_rows("failed.csv");
        assert_eq!(cell(&failed[0], "custimport_code"), "answer_too_large");
        assert_eq!(server.requests(), 2);
    }
}

#[test]
fn control_characters_in_provider_text_are_escaped() {
    let env = TestEnv::new();
    let body =
        "{\"code\":22000,\"message\":\"bad\\u001b[2J\\u001b[31mred\\r\\u0007\",\"traceId\":\"T7\"}";
    let server = CannedServer::start(http("200 OK", "", body));
    input(&env, 2);
    let out = run(&env, "nxlink", &server.url, &["-v"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stderr.contains(&0x1b) && !out.stderr.contains(&0x07),
        "raw control bytes on stderr"
    );
    for r in env.csv_rows("failed.csv") {
        assert_eq!(cell(&r, "custimport_outcome"), "failed");
        assert_eq!(
            cell(&r, "custimport_error"),
            "bad\\x1b[2J\\x1b[31mred\\x0d\\x07 (nxlink trace id T7)"
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("T7"), "trace id in -v logs: {stderr}");
}

#[test]
fn nothing_listening_stops_after_the_first_requests_retries() {
    // Bind and drop: a port where nothing listens now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = TestEnv::new();
    input(&env, 20);
    let url = format!("http://127.0.0.1:{port}");
    let out = run(
        &env,
        "nxlink",
        &url,
        &["--batch-size", "2", "--concurrency", "1", "--retries", "2"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
    let s = env.summary();
    assert_eq!(s["requests"].as_u64(), Some(3), "{s}");
    assert_eq!(s["pending"].as_u64(), Some(20), "{s}");
    assert!(outcomes(&env, 20).values().all(|v| v == "pending"));
}

#[test]
fn base_urls_with_credentials_query_or_fragment_are_refused() {
    let env = TestEnv::new();
    input(&env, 1);
    for (url, what) in [
        ("https://user:pa55word@api.example", "user name or password"),
        ("https://api.example/?x=1", "query"),
        ("https://api.example/#top", "fragment"),
    ] {
        let out = run(&env, "nxlink", url, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains(what), "{url}: {stderr}");
        assert!(!stderr.contains("pa55word"), "{stderr}");
        assert!(!env.out().exists(), "{url}: nothing created");
    }
}

#[test]
fn an_untrusted_certificate_stops_at_once() {
    use std::sync::atomic::AtomicBool;
    // A TLS server on 127.0.0.1 whose self-signed certificate no system trusts.
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let der_cert = cert.cert.der().clone();
    let der_key = rustls_pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der_cert], der_key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let env = TestEnv::new();
    let listener = env
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicBool::new(false));
    let (h, s) = (handshakes.clone(), served.clone());
    env.rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            if acceptor.accept(tcp).await.is_ok() {
                s.store(true, Ordering::SeqCst);
            }
        }
    });
    input(&env, 10);
    let out = run(
        &env,
        "nxlink",
        &format!("https://127.0.0.1:{port}"),
        &["--batch-size", "2", "--concurrency", "1", "--retries", "5"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("not trusted"), "{stderr}");
    assert!(!served.load(Ordering::SeqCst), "no request went through");
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        1,
        "no retry after a certificate error"
    );
    assert!(outcomes(&env, 10).values().all(|v| v == "pending"));
}

#[test]
fn a_parameter_error_for_every_single_row_is_a_configuration_error() {
    let env = TestEnv::new();
    let body = r#"{"code":1002,"message":"parameter error","traceId":"TRACE-1002","data":null}"#;
    let server = CannedServer::start(http("200 OK", "", body));
    input(&env, 40);
    let out = run(
        &env,
        "nxlink",
        &server.url,
        &["--batch-size", "4", "--concurrency", "1"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("code 1002"), "{stderr}");
    assert!(stderr.contains("TRACE-1002"), "{stderr}");
    let o = outcomes(&env, 40);
    // Three batches of four, each bisected to single rows: 1 + 2 + 4 requests each.
    assert!((1..=12).all(|r| o[&r] == "failed"), "{o:?}");
    assert!((13..=40).all(|r| o[&r] == "pending"), "{o:?}");
    assert_eq!(server.requests(), 21);
    for r in env.csv_rows("failed.csv").iter().take(12) {
        assert_eq!(cell(r, "custimport_code"), "1002");
        assert!(cell(r, "custimport_error").contains("TRACE-1002"));
    }
    // Rows are pending: the stop says to resume for them.
    let advice = ", and run again with --resume for the rows not yet sent";
    let stopped = env.summary()["stopped"].as_str().unwrap().to_owned();
    assert!(stopped.ends_with(advice), "{stopped}");
    assert!(stderr.contains(advice), "{stderr}");

    // The same refusal with nothing left to send: the cause, and no --resume.
    let env = TestEnv::new();
    input(&env, 12);
    let out = run(
        &env,
        "nxlink",
        &server.url,
        &["--batch-size", "4", "--concurrency", "1"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let s = env.summary();
    assert_eq!(s["pending"], 0, "{s}");
    assert_eq!(s["failed"], 12, "{s}");
    let stopped = s["stopped"].as_str().unwrap();
    assert!(
        stopped.ends_with("Fix it, then import failed.csv again for the rows refused so far"),
        "{stopped}"
    );
    assert!(!stderr.contains("--resume"), "{stderr}");
}

#[test]
fn plain_http_loopback_never_goes_through_a_proxy() {
    // A proxy that would swallow every request (nothing listens there).
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let env = TestEnv::new();
    input(&env, 3);
    let proxy = format!("http://{dead}");
    let out = env
        .cmd("nxlink")
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("all_proxy", &proxy)
        .arg(env.path("in.csv"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.held_nxlink().len(), 3);
}

/// Every row of the reports by number: (outcome, code, error); success.csv rows as
/// `("succeeded", "", "")`.
fn lines(env: &TestEnv, n: usize) -> BTreeMap<u64, (String, String, String)> {
    outcomes(env, n);
    let mut out = BTreeMap::new();
    if env.out().join("success.csv").exists() {
        for r in env.csv_rows("success.csv") {
            let row: u64 = cell(&r, "row").parse().unwrap();
            out.insert(row, ("succeeded".into(), String::new(), String::new()));
        }
    }
    for r in env.csv_rows("failed.csv") {
        let row: u64 = cell(&r, "custimport_row").parse().unwrap();
        let field = |c: &str| cell(&r, c).to_owned();
        // A code like `-27` may carry the formula guard's quote.
        let code = cell(&r, "custimport_code").trim_start_matches('\'');
        out.insert(
            row,
            (
                field("custimport_outcome"),
                code.to_owned(),
                field("custimport_error"),
            ),
        );
    }
    out
}

#[test]
fn a_national_number_echoed_in_international_form_confirms_the_row() {
    let env = TestEnv::new();
    // Sent as written (no --phone-region): 0812… in national form.
    env.write(
        "in.csv",
        "name,phone\nN1,08123456789\nN2,0812 3456 780\nN3,08123456781\n",
    );
    // Row 1 echoed with the country code, row 2 likewise with the spacing dropped, row 3 with
    // another national significant number.
    let body = r#"{"code":0,"traceId":"tr-echo","data":{"successItems":[
        {"index":0,"customerId":11,"whatsAppPhone":"628123456789"},
        {"index":1,"customerId":12,"whatsAppPhone":"+62 812-3456-780"},
        {"index":2,"customerId":13,"whatsAppPhone":"628123456782"}]}}"#;
    let server = CannedServer::start(http("200 OK", "", body));
    let out = run(&env, "nxlink", &server.url, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(server.requests(), 1);
    let l = lines(&env, 3);
    assert_eq!(l[&1].0, "succeeded");
    assert_eq!(l[&2].0, "succeeded");
    assert_eq!(
        (l[&3].0.as_str(), l[&3].1.as_str()),
        ("unknown", "contradictory")
    );
    assert!(
        l[&3]
            .2
            .starts_with("nxlink confirmed this row with another WhatsApp number (")
            && l[&3].2.ends_with(") (nxlink trace id tr-echo)")
            && !l[&3].2.contains("628123456782"),
        "{:?}",
        l[&3]
    );
    let s = env.summary();
    assert_eq!(
        (s["succeeded"].as_u64(), s["unknown"].as_u64()),
        (Some(2), Some(1))
    );
}

#[test]
fn an_http_4xx_refusal_keeps_the_providers_code_and_message() {
    // nxlink's parameter error over HTTP 400: bisected like the same answer over HTTP 200,
    // every single row failing with nxlink's code and message.
    let env = TestEnv::new();
    let body = r#"{"code":1002,"message":"param error: birthday","traceId":"T400"}"#;
    let server = CannedServer::start(http("400 Bad Request", "", body));
    input(&env, 2);
    let out = run(
        &env,
        "nxlink",
        &server.url,
        &["--batch-size", "2", "--concurrency", "1"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        server.requests(),
        3,
        "one batch of two, then each row alone"
    );
    let want = (
        "failed".to_owned(),
        "1002".to_owned(),
        "param error: birthday (nxlink trace id T400)".to_owned(),
    );
    assert_eq!(
        lines(&env, 2).into_values().collect::<Vec<_>>(),
        [want.clone(), want]
    );

    // itnio's shape (status, reason), and a gateway's (status, message): code and text kept.
    for (body, code, message, requests) in [
        (
            r#"{"status":"-27","reason":"phoneNumber is invalid","data":null}"#,
            "-27",
            "phoneNumber is invalid",
            3,
        ),
        (
            r#"{"status":-35,"message":"import failed: properties"}"#,
            "-35",
            "import failed: properties",
            3,
        ),
    ] {
        let env = TestEnv::new();
        let server = CannedServer::start(http("422 Unprocessable Entity", "", body));
        input(&env, 2);
        let out = run(
            &env,
            "itnio",
            &server.url,
            &["--batch-size", "2", "--concurrency", "1"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{body}: {stderr}");
        assert_eq!(server.requests(), requests, "{body}");
        let want = ("failed".to_owned(), code.to_owned(), message.to_owned());
        assert_eq!(
            lines(&env, 2).into_values().collect::<Vec<_>>(),
            [want.clone(), want],
            "{body}"
        );
    }

    // A 4xx body that is no provider answer: the status alone, as before.
    let env = TestEnv::new();
    let server = CannedServer::start(http("400 Bad Request", "", "<html>bad</html>"));
    input(&env, 2);
    let out = run(&env, "nxlink", &server.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    let want = (
        "failed".to_owned(),
        "http_400".to_owned(),
        "the provider answered HTTP 400".to_owned(),
    );
    assert_eq!(
        lines(&env, 2).into_values().collect::<Vec<_>>(),
        [want.clone(), want]
    );
}
