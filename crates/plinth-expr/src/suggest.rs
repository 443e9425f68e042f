//! Nearest-name suggestions for misspelt names: the one `did_you_mean` of plinth.
//!
//! A leaf module. Every "did you mean `x`?" plinth prints — configuration keys, variables,
//! references, types, functions, CLI addresses, provider settings — comes from here
//! (`plinth_config` re-exports it for the crates above).

/// The nearest candidate to `name` (case-insensitive edit distance counting transpositions, or a candidate ending in
/// `.name`), if it is close enough to be a plausible misspelling.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = name.to_lowercase();
    let suffix = format!(".{lower}");
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        let d = if cl.ends_with(&suffix) {
            0
        } else {
            strsim::osa_distance(&lower, &cl)
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (name.chars().count() / 3).max(1);
    (d <= limit && c != name).then(|| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("reosurce", ["resource", "output"]),
            Some("resource".into())
        );
        assert_eq!(did_you_mean("aks", ["aks2", "rg"]), Some("aks2".into()));
        assert_eq!(did_you_mean("zzzzzz", ["resource", "output"]), None);
    }

    #[test]
    fn a_qualified_name_matches_its_last_part() {
        assert_eq!(
            did_you_mean("role_definition_id", ["lower", "azure.role_definition_id"]),
            Some("azure.role_definition_id".into())
        );
        // The nearest wins; on a tie, the first candidate.
        assert_eq!(
            did_you_mean("bsae", ["base", "bsaex", "basf"]),
            Some("base".into())
        );
    }
}
