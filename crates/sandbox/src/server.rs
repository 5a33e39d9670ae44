//! The HTTP/1 server of the sandbox: accept loop, per-connection tasks that can be reset (RST),
//! routing, the provider request path with latency and fault injection, and the inspection
//! endpoints.
//!
//! Invariant: every provider request is counted once, draws exactly one fault decision, and is
//! applied to the stores only when it draws no fault or a fault that applies requests
//! ([`FaultKind::applies_request`](super::FaultKind::applies_request)); inspection requests
//! never touch the counters.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::body::Body;
use super::faults::Fault;
use super::http::{header, json, plain, rows_of, to_json, REDIRECTED_PREFIX};
use super::state::App;
use super::stats::has_replacement_char;
use super::{hostile, itnio, nxlink, Provider};

const NXLINK_PATHS: [&str; 2] = [
    "/saas/cdp/openapi/customers/batch_create",
    "/saas/sea/cdp/openapi/customers/batch_create",
];
const ITNIO_PATH: &str = "/aivoice/importCustomer";
const JOBS_PREFIX: &str = "/_sandbox/itnio/jobs/";
/// Largest request body read (a batch of 100 customers is far below).
const MAX_BODY: usize = 16 << 20;
/// How long a shutdown waits for in-flight requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Serves connections until `shutdown` changes, then drains them for at most [`SHUTDOWN_GRACE`].
pub(crate) async fn run(listener: TcpListener, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(connection(stream, Arc::clone(&app), shutdown.clone()));
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!("sandbox accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
    conns.abort_all();
}

/// Serves one connection; a `reset` fault notifies `abort`, which closes the socket with RST.
async fn connection(stream: TcpStream, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let abort = Arc::new(Notify::new());
    let svc = {
        let abort = Arc::clone(&abort);
        service_fn(move |req| {
            let (app, abort) = (Arc::clone(&app), Arc::clone(&abort));
            async move { Ok::<_, Infallible>(route(app, req, abort).await) }
        })
    };
    let mut conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    let mut draining = *shutdown.borrow();
    if draining {
        Pin::new(&mut conn).graceful_shutdown();
    }
    loop {
        tokio::select! {
            _ = &mut conn => return,
            _ = abort.notified() => {
                let stream = conn.into_parts().io.into_inner();
                let _ = stream.set_zero_linger();
                return;
            }
            _ = shutdown.changed(), if !draining => {
                draining = true;
                Pin::new(&mut conn).graceful_shutdown();
            }
        }
    }
}

async fn route(app: Arc<App>, req: Request<Incoming>, abort: Arc<Notify>) -> Response<Body> {
    let path = req.uri().path();
    let post = req.method() == Method::POST;
    let get = req.method() == Method::GET;
    if NXLINK_PATHS.contains(&path) || path == ITNIO_PATH {
        if !post {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let which = if path == ITNIO_PATH {
            Provider::Itnio
        } else {
            Provider::Nxlink
        };
        return provider(&app, which, req, &abort).await;
    }
    match path {
        "/_sandbox/nxlink/customers" if get => {
            let list = app
                .nxlink
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .customers();
            json(StatusCode::OK, to_json(&list))
        }
        "/_sandbox/stats" if get => json(StatusCode::OK, to_json(&app.counters.snapshot())),
        "/_sandbox/events" if get => json(StatusCode::OK, to_json(&app.events.list())),
        p if p.starts_with(REDIRECTED_PREFIX) => {
            redirected(&app, p.strip_prefix(REDIRECTED_PREFIX).unwrap_or_default())
        }
        "/_sandbox/reset" if post => {
            app.reset();
            json(StatusCode::OK, b"{\"ok\":true}".to_vec())
        }
        p if get && p.starts_with(JOBS_PREFIX) => match p
            .strip_prefix(JOBS_PREFIX)
            .and_then(|job| job.parse::<i64>().ok())
        {
            Some(job) => {
                let list = app
                    .itnio
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .persons(job);
                json(StatusCode::OK, to_json(&list))
            }
            None => plain(StatusCode::NOT_FOUND, "no such job"),
        },
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// One provider request: read, count, pass the hidden limits (or be throttled), draw a fault,
/// maybe apply, wait, answer. `--latency-ms` counts from the request's arrival (reading and
/// applying it are part of it, as with a real service); time queued at a hidden limit's gate
/// (`--queue-latency`, `--limit-conc`) comes before it.
async fn provider(
    app: &App,
    which: Provider,
    req: Request<Incoming>,
    abort: &Notify,
) -> Response<Body> {
    let _in_flight = app.counters.begin();
    let arrived = tokio::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body unreadable or too large",
            )
        }
    };
    if has_replacement_char(&body) {
        app.counters.replacement_char();
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let rows = rows_of(which, parsed.as_ref());
    app.counters.rows(rows);
    let at_gate = tokio::time::Instant::now();
    let _admitted = match app.gate.admit().await {
        Ok(admitted) => admitted,
        Err(mut throttled) => {
            app.counters.throttled();
            if let Some(date) = app.http_date() {
                throttled.headers_mut().insert(hyper::header::DATE, date);
            }
            return throttled;
        }
    };
    let served_from = arrived + at_gate.elapsed();
    let fault = app
        .injector
        .draw()
        .and_then(|(drawn, pick)| Fault::resolve(drawn, pick, which));
    if let Some(f) = fault {
        app.counters.fault(f.drawn);
        if f.kind != f.drawn {
            app.counters.fault(f.kind);
        }
    }
    let answer = if fault.is_none_or(|f| f.kind.applies_request()) {
        match which {
            Provider::Nxlink => nxlink::handle(app, &parts.headers, &body, parsed.as_ref()),
            Provider::Itnio => {
                let withhold = fault
                    .filter(|f| hostile::withholds_a_row(f.kind))
                    .and_then(|f| f.row(rows));
                itnio::handle(app, &parts.headers, parsed.as_ref(), withhold)
            }
        }
    } else {
        Vec::new()
    };
    if !app.latency.is_zero() {
        sleep_precisely_until(served_from + app.latency).await;
    }
    let mut response = match fault {
        None => json(StatusCode::OK, answer),
        Some(fault) => {
            let request = hostile::Request {
                provider: which,
                rows,
                parsed: parsed.as_ref(),
                host: header(&parts.headers, "host"),
            };
            hostile::answer(app, &request, fault, answer, abort).await
        }
    };
    if let Some(date) = app.http_date() {
        response.headers_mut().insert(hyper::header::DATE, date);
    }
    response
}

/// Waits until `deadline` to within a fraction of a millisecond. tokio's timer fires on its
/// next millisecond tick, up to 1 ms late (0.5–1 ms on average); a latency the emulator
/// promises is kept exactly instead: the timer sleeps to 2 ms short, and a blocking-pool
/// thread sleeps the rest with the operating system's timer.
async fn sleep_precisely_until(deadline: tokio::time::Instant) {
    const SLACK: Duration = Duration::from_millis(2);
    if let Some(early) = deadline.checked_sub(SLACK) {
        tokio::time::sleep_until(early).await;
    }
    let rest = deadline.saturating_duration_since(tokio::time::Instant::now());
    if rest.is_zero() {
        return;
    }
    let slept = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    if slept.is_err() {
        // The blocking pool is shutting down: the runtime's timer does.
        tokio::time::sleep_until(deadline).await;
    }
}

/// `/_sandbox/redirected/{provider}/{rows}`: a perfect success for any request, applying
/// nothing; reached only by a client that follows the `redirect` faults.
fn redirected(app: &App, path: &str) -> Response<Body> {
    app.counters.redirected();
    let mut parts = path.split('/');
    let provider = parts.next();
    let rows = parts.next().and_then(|n| n.parse::<usize>().ok());
    match (provider, rows, parts.next()) {
        (Some("nxlink"), Some(n), None) => json(StatusCode::OK, nxlink::perfect(n)),
        (Some("itnio"), Some(_), None) => json(StatusCode::OK, itnio::perfect()),
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    }
}
