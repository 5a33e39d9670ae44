//! Unit tests of `faults`.
use super::*;

#[test]
fn parses_kinds_and_delays() {
    let plan: FaultPlan =
        "500=0.1, 429=0.05,reset=0.05,vague_string=0.2,late_ms=1200,slow_ms=7,huge_mb=5"
            .parse()
            .expect("valid plan");
    assert_eq!(plan.probability(FaultKind::Http500), 0.1);
    assert_eq!(plan.probability(FaultKind::Http429), 0.05);
    assert_eq!(plan.probability(FaultKind::Reset), 0.05);
    assert_eq!(plan.probability(FaultKind::VagueString), 0.2);
    assert_eq!(plan.probability(FaultKind::Skew), 0.0);
    assert_eq!(plan.late, Duration::from_millis(1200));
    assert_eq!(plan.slow, Duration::from_millis(7));
    assert_eq!(plan.huge_mb, 5);
    let again: FaultPlan = plan.to_string().parse().expect("round trip");
    assert_eq!(again, plan);
    assert!("".parse::<FaultPlan>().expect("empty").is_empty());
}

#[test]
fn every_kind_has_a_distinct_name_and_its_index() {
    for (i, kind) in FaultKind::ALL.into_iter().enumerate() {
        assert_eq!(kind.index(), i);
        assert_eq!(FaultKind::from_name(kind.as_str()), Some(kind));
    }
    let mut names = FaultKind::ALL.map(FaultKind::as_str).to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), KINDS);
}

#[test]
fn refuses_bad_plans() {
    let bad = |s: &str| s.parse::<FaultPlan>().expect_err(s);
    assert_eq!(bad("boom=0.1"), FaultPlanError::UnknownKind("boom".into()));
    assert_eq!(bad("500"), FaultPlanError::Syntax("500".into()));
    assert_eq!(bad("500=2"), FaultPlanError::Probability("500".into()));
    assert_eq!(bad("500=x"), FaultPlanError::Probability("500".into()));
    assert_eq!(bad("late_ms=-1"), FaultPlanError::Millis("late_ms".into()));
    assert_eq!(bad("huge_mb=0"), FaultPlanError::HugeMb);
    assert_eq!(bad("500=0.6,503=0.6"), FaultPlanError::SumAboveOne);
    assert_eq!(
        bad("500=0.1,500=0.2"),
        FaultPlanError::Duplicate("500".into())
    );
    let msg = bad("boom=1").to_string();
    assert!(
        msg.contains("vague_lists") && msg.contains("redirect308"),
        "{msg}"
    );
}

#[test]
fn refusal_rules_go_to_the_provider_of_their_code() {
    let plan = FaultPlan::default()
        .refuse("6281000001=1002")
        .and_then(|p| p.refuse(" 6281000002 = -27 "))
        .expect("rules");
    assert_eq!(
        plan.refusals.code(Provider::Nxlink, "6281000001"),
        Some(1002)
    );
    assert_eq!(plan.refusals.code(Provider::Itnio, "6281000001"), None);
    assert_eq!(plan.refusals.code(Provider::Itnio, "6281000002"), Some(-27));
    assert!(plan.is_empty(), "rules are not draws");
    for bad in [
        "6281=0",
        "6281",
        "=1002",
        "62 81=1002",
        "6281=x",
        "6281=1.5",
    ] {
        assert_eq!(
            FaultPlan::default().refuse(bad),
            Err(FaultPlanError::Refuse(bad.into())),
            "{bad}"
        );
    }
    assert!(matches!(
        plan.refuse("6281000001=12148"),
        Err(FaultPlanError::Duplicate(_))
    ));
}

#[test]
fn draws_are_reproducible_and_follow_the_plan() {
    let plan: FaultPlan = "500=0.3,reset=0.2".parse().expect("plan");
    let a = Injector::new(plan.clone(), 7);
    let b = Injector::new(plan, 7);
    let seq_a: Vec<_> = (0..2000).map(|_| a.draw()).collect();
    let seq_b: Vec<_> = (0..2000).map(|_| b.draw()).collect();
    assert_eq!(seq_a, seq_b);
    let count = |k| seq_a.iter().filter(|d| d.map(|d| d.0) == Some(k)).count();
    assert!((500..700).contains(&count(FaultKind::Http500)));
    assert!((300..500).contains(&count(FaultKind::Reset)));
    assert_eq!(count(FaultKind::Skew), 0);
    assert!(seq_a
        .iter()
        .flatten()
        .all(|(_, pick)| (0.0..=1.0).contains(pick)));
    a.reseed();
    let replay: Vec<_> = (0..2000).map(|_| a.draw()).collect();
    assert_eq!(replay, seq_a);
    assert_eq!(Injector::new(FaultPlan::default(), 1).draw(), None);
}

#[test]
fn seeded_kinds_resolve_to_every_form_and_rows_stay_in_range() {
    let plan: FaultPlan = "vague=0.5,redirect=0.5".parse().expect("plan");
    let inj = Injector::new(plan, 3);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..4000 {
        let (drawn, pick) = inj.draw().expect("probability 1");
        for provider in [Provider::Nxlink, Provider::Itnio] {
            let f = Fault::resolve(drawn, pick, provider).expect("both providers");
            assert_eq!(f.drawn, drawn);
            assert!(drawn.forms(provider).contains(&f.kind));
            seen.insert((provider == Provider::Itnio, f.kind.as_str()));
            for rows in [1, 2, 7, 100] {
                assert!(f.row(rows).is_some_and(|r| r < rows));
            }
            assert_eq!(f.row(0), None);
        }
    }
    // nxlink: 5 vague forms + 4 redirects; itnio: 2 vague forms + 4 redirects.
    assert_eq!(seen.iter().filter(|(itnio, _)| !itnio).count(), 9);
    assert_eq!(seen.iter().filter(|(itnio, _)| *itnio).count(), 6);
}

#[test]
fn one_provider_kinds_leave_the_other_alone() {
    for kind in [FaultKind::Omit, FaultKind::Miscount, FaultKind::Contradict] {
        assert!(Fault::resolve(kind, 0.5, Provider::Itnio).is_none());
        assert!(Fault::resolve(kind, 0.5, Provider::Nxlink).is_some());
    }
    for kind in [
        FaultKind::Anon,
        FaultKind::Fullwidth,
        FaultKind::FullwidthCn,
    ] {
        assert!(Fault::resolve(kind, 0.5, Provider::Nxlink).is_none());
        assert!(Fault::resolve(kind, 0.5, Provider::Itnio).is_some());
    }
    let f = Fault::resolve(FaultKind::Omit, 0.99, Provider::Nxlink).expect("fits");
    assert_eq!((f.kind, f.row(4)), (FaultKind::Omit, Some(3)));
}
