//! The small HTTP pieces the routing and the handlers share: reading request headers, the row
//! count of a request body, building JSON and plain-text responses, trace ids, the machine's
//! clock, and the path where the `redirect` faults point.
//!
//! Depends only on the crate root and the response body type, so that every handler can use it
//! without reaching back into the server.

use std::time::{SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::Value;

use super::body::Body;
use super::Provider;

/// Where the `redirect` faults point: `{REDIRECTED_PREFIX}{provider}/{rows}`.
pub(crate) const REDIRECTED_PREFIX: &str = "/_sandbox/redirected/";
/// The `Content-Type` of every JSON answer.
pub(crate) const JSON: &str = "application/json;charset=UTF-8";

/// The number of rows (customers or persons) of a parsed request body.
pub(crate) fn rows_of(which: Provider, parsed: Option<&Value>) -> usize {
    parsed
        .and_then(|v| v.get(which.rows_key()))
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}
/// `v` as JSON bytes (empty if it cannot be serialised).
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// A response with `status` and the JSON `body`.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Body::whole(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

/// A response with `status` and the plain-text `text`.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::whole(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

/// A plain-text response that asks the client to retry after one second.
pub(crate) fn retry_after(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = plain(status, text);
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// A request header as text; `None` when missing or blank. A value that is not visible ASCII
/// reads as U+FFFD, which matches nothing.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let v = headers.get(name)?;
    let s = v.to_str().unwrap_or("\u{FFFD}");
    (!s.trim().is_empty()).then_some(s)
}

/// True when `Content-Type` is `application/json`, with or without parameters.
pub(crate) fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The machine's clock in milliseconds since the epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A random 32-hex-digit trace id.
pub(crate) fn trace_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}
