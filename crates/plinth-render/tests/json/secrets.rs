//! Secrets in both formats: hidden unless asked for, shapes included.

use super::*;

#[test]
fn secrets_never_leak_unless_asked() {
    let p = kitchen_sink();
    for (what, doc) in [
        ("plinth", plan_json(&p, false)),
        ("terraform", terraform_json(&p, false)),
    ] {
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!text.contains(SECRET), "{what} JSON leaks a secret: {text}");
        let pretty = serde_json::to_string_pretty(&doc).unwrap();
        assert!(!pretty.contains("hunter2"), "{what} JSON leaks a secret");
    }
    for (what, doc) in [
        ("plinth", plan_json(&p, true)),
        ("terraform", terraform_json(&p, true)),
    ] {
        let text = serde_json::to_string(&doc).unwrap();
        assert!(
            text.contains(SECRET),
            "{what} JSON hides what was asked for"
        );
    }
}

#[test]
fn a_sensitive_value_hides_its_shape() {
    let mut p = empty_plan();
    let mut c = rc("x", "core:data", DeclKind::Resource, Action::Create);
    // A whole sensitive map, with an unknown inside: neither its keys nor its values show.
    let inner = with(
        v(json!({"user": "admin-name-xyz", "pass": SECRET})),
        "later",
        Value::Unknown,
    );
    c.after = Some(with(v(json!({})), "creds", Value::sensitive(inner)));
    p.changes.push(c);
    for doc in [plan_json(&p, false), terraform_json(&p, false)] {
        let text = serde_json::to_string(&doc).unwrap();
        for hidden in [SECRET, "admin-name-xyz", "later", "pass", "user"] {
            assert!(!text.contains(hidden), "{hidden} shows in {text}");
        }
    }
    let doc = plan_json(&p, false);
    assert_eq!(
        doc["resource_changes"][0]["after_unknown"],
        json!({"creds": true})
    );
    assert_eq!(
        doc["resource_changes"][0]["after_sensitive"],
        json!({"creds": true})
    );
    assert_valid(&doc, "sensitive map");
}
