//! Unit tests of `pipeline::read`.
use super::*;
use crate::input::{Format, InputOptions};
use crate::stop::Reason;

#[test]
fn after_a_stop_done_rows_stay_done_and_the_rest_is_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.csv");
    std::fs::write(&path, "name,phone\nA,6281\nB,6282\nC,6283\n").unwrap();
    let input = Input::open(&InputOptions {
        path,
        format: Format::Csv,
        delimiter: None,
        encoding: None,
        max_field_bytes: 1 << 20,
        sheet: None,
        header_row: None,
    })
    .unwrap();
    let provider = Arc::new(crate::fixtures::nxlink());
    let schema = Schema::of(&*provider);
    let header: Vec<String> = vec!["name".into(), "phone".into()];
    let (plan, _) = Plan::for_header(&schema, &header, &[]).unwrap();
    let shared = Shared {
        resume: Some(Arc::new(Resume::new(
            dir.path(),
            crate::journal::Loaded {
                done: vec![((1, 2), crate::journal::EarlierOutcome::Unchanged)],
                ..Default::default()
            },
            3,
        ))),
        ..Shared::default()
    };
    shared.stop.set(Reason::Fatal, "stopped");
    let reader = Reader::new(provider, Mapper::Csv { plan, header }, 100, &input, &shared);
    let (btx, mut brx) = tokio::sync::mpsc::channel(4);
    let (etx, mut erx) = tokio::sync::mpsc::channel(16);
    reader.run(input, btx, etx).unwrap();
    assert!(brx.try_recv().is_err(), "nothing is batched after a stop");
    let mut resumed = vec![];
    let mut unread = vec![];
    while let Ok(ev) = erx.try_recv() {
        match ev {
            Event::Resumed(rows) => {
                for r in rows {
                    assert!(r.customer.is_some(), "prepared, for its report cells");
                    resumed.push(r.row)
                }
            }
            Event::Unread(rows) => unread.extend(rows.into_iter().map(|(r, _)| r)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(resumed, vec![1, 2]);
    assert_eq!(unread, vec![3]);
}
