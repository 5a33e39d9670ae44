//! Unit tests of `body`.
use super::*;
use http_body_util::BodyExt;

#[tokio::test]
async fn sized_bodies_have_their_length_and_their_ends() {
    let body = Body::Stream(Generated::sized(
        b"{\"a\":".to_vec(),
        200_000,
        b"1}".to_vec(),
    ));
    assert_eq!(hyper::body::Body::size_hint(&body).exact(), Some(200_000));
    let bytes = body.collect().await.expect("infallible").to_bytes();
    assert_eq!(bytes.len(), 200_000);
    assert!(bytes.starts_with(b"{\"a\":"));
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
    assert_eq!(v, serde_json::json!({"a": 1}));
}

#[tokio::test]
async fn endless_bodies_keep_going() {
    let mut body = Body::Stream(Generated::endless(b"[".to_vec()));
    assert_eq!(hyper::body::Body::size_hint(&body).exact(), None);
    let mut total = 0usize;
    for _ in 0..100 {
        let frame = body.frame().await.expect("never ends").expect("infallible");
        total += frame.into_data().map_or(0, |d| d.len());
    }
    assert_eq!(total, 1 + 99 * FILLER.len());
    assert!(!hyper::body::Body::is_end_stream(&body));
}

#[tokio::test]
async fn whole_bodies() {
    let body = Body::whole(b"abc".to_vec());
    assert_eq!(hyper::body::Body::size_hint(&body).exact(), Some(3));
    assert_eq!(
        body.collect().await.expect("infallible").to_bytes(),
        Bytes::from_static(b"abc")
    );
    assert!(hyper::body::Body::is_end_stream(&Body::whole(Vec::new())));
}
