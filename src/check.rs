//! `custimport check nxlink|itnio`: configuration and credentials verified without importing
//! anything. One request with an empty customer list, signed and sent as an import's would be
//! (the provider's body, headers and answer reading, the importer's HTTP client and retry
//! classification), whose answer says whether the credentials were accepted: the services
//! authenticate (and look the application, tenant or job up) before they refuse the empty list
//! as a parameter error.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::anyhow;
use bytes::Bytes;

use crate::config::{CheckTarget, Endpoint, ProviderChoice};
use crate::embedded::Emulator;
use crate::exit::{Exit, Fatal};
use crate::http::{Http, Reply};
use crate::pipeline::clock::Clock;
use crate::pipeline::retry::{classify, Cause, Retry, Step};
use crate::provider::Provider;

/// Run the check; prints the endpoint and the clock offset on success.
pub(crate) fn run(target: CheckTarget, rt: &tokio::runtime::Runtime) -> Result<Exit, Fatal> {
    rt.block_on(async {
        let sandbox = match &target.endpoint {
            Endpoint::Sandbox => Some(
                Emulator::start(false)
                    .await
                    .map_err(|e| Fatal::usage(anyhow!("cannot start the sandbox: {e}")))?,
            ),
            _ => None,
        };
        let base = match (&target.endpoint, &sandbox) {
            (_, Some(sb)) => sb.base_url(),
            (Endpoint::Remote(b), None) => b.as_str().to_owned(),
            _ => return Err(Fatal::usage(anyhow!("a check needs an endpoint"))),
        };
        let result = match &target.provider {
            ProviderChoice::Nxlink(p) => probe(p, &base, &target).await,
            ProviderChoice::Itnio(p) => probe(p, &base, &target).await,
        };
        if let Some(sb) = sandbox {
            sb.shutdown().await;
        }
        let line = result?;
        crate::messages::stdout(format!("{line}\n").as_bytes())
            .map_err(|e| Fatal::usage(anyhow!("cannot write the result: {e}")))?;
        Ok(Exit::Success)
    })
}

/// Send the empty list (a second time only when the provider refused the timestamp, signed
/// with its clock) and read the answer: the line to print when the credentials were accepted.
async fn probe<P: Provider>(p: &P, base: &str, target: &CheckTarget) -> Result<String, Fatal> {
    let spec = p.spec();
    let name = spec.name;
    let http = Http::new(base, spec.path, target.timeout)
        .map_err(|e| Fatal::usage(anyhow!("cannot set up HTTP: {e}")))?;
    let url = http.url().to_owned();
    let mut body = Vec::new();
    p.write_body(&[], &mut body);
    let body = Bytes::from(body);
    let clock = Clock::default();
    for attempt in 0..2 {
        let sent = SystemTime::now();
        let reply = http
            .post(&p.headers(&body, clock.now_ms()), body.clone())
            .await;
        let at = Exchange {
            sent,
            received: SystemTime::now(),
        };
        let date = match &reply {
            Reply::Answered { date, .. } => *date,
            Reply::Transport { .. } => None,
        };
        let refused = |what: String| Fatal::stopped(anyhow!("{name} at {url}: {what}"));
        match classify(reply, &url, |b| p.interpret(b, &[])) {
            Step::Rows { .. } => return Ok(accepted(name, &url, date, at)),
            Step::Refused { code, .. } if code == spec.empty_list_code => {
                return Ok(accepted(name, &url, date, at))
            }
            Step::Refused { code, message, .. } => {
                return Err(refused(format!(
                    "the request was refused with {code} ({message}); the credentials could not be confirmed"
                )))
            }
            Step::Stop { message } => return Err(refused(message)),
            Step::Retry(Retry {
                cause: Cause::Clock { date: Some(server) },
                ..
            }) if attempt == 0 => {
                clock.correct(server);
            }
            Step::Retry(Retry {
                cause: Cause::Clock { .. },
                message,
                ..
            }) => {
                return Err(refused(format!(
                    "{message}: this machine's clock is {} off the provider's; set it right (NTP)",
                    offset_text(date, at)
                )))
            }
            Step::Retry(Retry { message, .. }) => return Err(refused(message)),
        }
    }
    Err(Fatal::stopped(anyhow!(
        "{name} at {url}: the timestamp was refused again after correcting the clock"
    )))
}

/// The success line: the endpoint and how far the provider's clock is from this machine's.
fn accepted(name: &str, url: &str, date: Option<SystemTime>, at: Exchange) -> String {
    format!(
        "{name}: credentials accepted by {url}; clock offset {} (the provider's Date minus this machine's clock)",
        offset_text(date, at)
    )
}

/// When a request went out and when its answer came back, by this machine's clock.
#[derive(Debug, Clone, Copy)]
struct Exchange {
    sent: SystemTime,
    received: SystemTime,
}

/// `+300 s`, `+0 s`, or `unknown (no Date header)`. The provider stamped its `Date` (cut to
/// the second) between `sent` and `received`: the offset lies within
/// `(date - received, date + 1 - sent)`, and is told as `+0 s` when that range holds zero.
fn offset_text(date: Option<SystemTime>, at: Exchange) -> String {
    let Some(server) = date else {
        return "unknown (no Date header)".into();
    };
    let secs = |t: SystemTime| match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let lo = secs(server) - secs(at.received);
    let hi = secs(server) + 1.0 - secs(at.sent);
    let offset = if lo < 0.0 && hi > 0.0 {
        0
    } else {
        ((lo + hi) / 2.0).round() as i64
    };
    format!("{offset:+} s")
}

#[cfg(test)]
mod tests;
