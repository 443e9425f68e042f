//! Nearest-name suggestions for misspelt names.

/// The candidate closest to `input`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == input {
            continue;
        }
        let score = strsim::jaro_winkler(&input.to_lowercase(), &c.to_lowercase());
        let close = score >= 0.8 || strsim::damerau_levenshtein(input, c) <= 2.max(input.len() / 4);
        if close && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
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
}
