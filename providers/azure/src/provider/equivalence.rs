//! ARM's normalisation as a diff equivalence ([`ArmEq`]): what ARM hands back spelled
//! differently from what was sent is no change. Pure.

use plinth_provider::diff::{self, Equivalence};
use plinth_value::{Path, PathSeg, Value};

/// ARM normalisation: resource ids and locations compare case-insensitively (locations also
/// without spaces: "East US" is "eastus"), GUIDs case-insensitively, and `roleDefinitionId`
/// by its GUID (tenant- and subscription-relative forms are equal). `name` compares
/// case-insensitively.
pub struct ArmEq;

/// A location as ARM compares it: lower-cased, without spaces ("East US" is "eastus").
pub fn norm_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn last_key(path: &Path) -> Option<&str> {
    match path.segments().last() {
        Some(PathSeg::Key(k)) => Some(k.as_str()),
        _ => None,
    }
}

impl Equivalence for ArmEq {
    fn equal(&self, path: &Path, configured: &Value, actual: &Value) -> bool {
        if diff::scalar_eq(configured, actual) {
            return true;
        }
        let (Value::String(c), Value::String(a)) = (configured.unmarked(), actual.unmarked())
        else {
            return false;
        };
        let key = last_key(path).unwrap_or_default();
        if key.eq_ignore_ascii_case("roleDefinitionId") {
            let guid = |s: &str| {
                s.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .map(str::to_ascii_lowercase)
            };
            return guid(c) == guid(a);
        }
        if key.eq_ignore_ascii_case("location") || path.len() == 1 && key == "name" {
            return norm_location(c) == norm_location(a);
        }
        if c.starts_with('/') && a.starts_with('/') {
            return c
                .trim_end_matches('/')
                .eq_ignore_ascii_case(a.trim_end_matches('/'));
        }
        if uuid::Uuid::parse_str(c).is_ok() && uuid::Uuid::parse_str(a).is_ok() {
            return c.eq_ignore_ascii_case(a);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        s.parse().unwrap()
    }

    #[test]
    fn equivalence_normalises_arm() {
        let eq = ArmEq;
        let s = |x: &str| Value::from(x);
        assert!(eq.equal(&p("location"), &s("East US"), &s("eastus")));
        assert!(eq.equal(
            &p("properties.scope"),
            &s("/subscriptions/A/resourceGroups/X"),
            &s("/subscriptions/a/resourcegroups/x")
        ));
        assert!(eq.equal(
            &p("properties.roleDefinitionId"),
            &s("/providers/Microsoft.Authorization/roleDefinitions/090C5CFD-751d-490a-894a-3ce6f1109419"),
            &s("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419")
        ));
        assert!(!eq.equal(&p("properties.x"), &s("A"), &s("a")));
    }
}
