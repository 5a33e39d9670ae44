//! Unit tests of `config::file_error`.
use super::*;

#[test]
fn sections_match_the_file_config() {
    // serde names the expected fields of an unknown one: they must be ours.
    for (section, keys) in SECTIONS.iter() {
        let header = match *section {
            "profile" => "profile.x",
            s => s,
        };
        let text = format!("[{header}]\nzzz_unknown = 1\n");
        let e = toml::from_str::<super::super::FileConfig>(&text).unwrap_err();
        let m = e.message();
        for k in *keys {
            assert!(m.contains(&format!("`{k}`")), "{section}.{k} not in {m}");
        }
        assert_eq!(m.matches('`').count(), 2 * (keys.len() + 1), "{m}");
    }
    let e = toml::from_str::<super::super::FileConfig>("[zzz]\n").unwrap_err();
    for k in TOP_LEVEL_KEYS.iter() {
        assert!(e.message().contains(&format!("`{k}`")), "{}", e.message());
    }
    assert_eq!(
        e.message().matches('`').count(),
        2 * (SECTIONS.len() + TOP_LEVEL_KEYS.len() + 1),
        "{}",
        e.message()
    );
}

#[test]
fn the_keys_are_the_section_structs_fields_in_order() {
    assert_eq!(TOP_LEVEL_KEYS.as_slice(), ["state"]);
    let (_, nxlink) = SECTIONS[0];
    assert_eq!(&nxlink[..2], ["access_key", "access_secret"]);
    assert_eq!(nxlink.last(), Some(&"state"));
    assert!(nxlink.contains(&"date_order") && !nxlink.contains(&"job"));
    let (_, itnio) = SECTIONS[1];
    assert!(itnio.contains(&"job") && !itnio.contains(&"tenant_id"));
    let (_, profile) = SECTIONS[2];
    assert_eq!(profile.first(), Some(&"provider"));
    assert!(profile.contains(&"tenant_id") && profile.contains(&"job"));
}

#[test]
fn keys_and_distance() {
    assert_eq!(split_key(" a.\"b c\" . d = 1"), vec!["a", "b c", "d"]);
    assert_eq!(split_key("S3CRET"), vec!["S3CRET"]);
    assert_eq!(key_path("\"a=b\" = 1"), vec!["a=b"]);
    assert_eq!(distance("access_secret", "acess_secret"), 1);
    assert!(showable("acess_secret"));
    assert!(!showable("S3CRETxyz"));
    assert_eq!(
        suggest("acess_secret", Some("nxlink")),
        Some("access_secret")
    );
    let p = Place::Key(vec!["nxlink".into()], vec!["S3CRETxyz".into()]);
    assert_eq!(p.show(false), "a key in [nxlink]: ");
    assert_eq!(p.show(true), "S3CRETxyz in [nxlink]: ");
    let p = Place::Key(vec!["nxlink".into()], vec!["a/b+c=".into()]);
    assert_eq!(p.show(true), "a key in [nxlink]: ");
    let p = Place::Key(vec!["nxlink".into()], vec!["k".repeat(41)]);
    assert_eq!(p.show(true), "a key in [nxlink]: ");
    assert_eq!(
        Place::Key(vec!["nxlink".into()], vec!["k".repeat(40)]).show(true),
        format!("{} in [nxlink]: ", "k".repeat(40))
    );
    let p = Place::Key(vec!["nxlink".into()], vec![]);
    assert_eq!(p.show(false), "in [nxlink]: ");
    assert_eq!(suggest("secret", Some("nxlink")), Some("access_secret"));
    assert_eq!(
        suggest("Access-Secret", Some("nxlink")),
        Some("access_secret")
    );
    assert_eq!(suggest("zzzz", Some("nxlink")), None);
}
