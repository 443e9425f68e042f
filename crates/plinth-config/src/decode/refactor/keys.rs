//! Keys in the addresses of `[[moved]]` and `[[removed]]`, which are written as Terraform
//! writes them: quoted (`app["blue"]`) or numbers (`app[0]`).

/// The first key of `text` written neither quoted (`["blue"]`) nor as an index (`[0]`):
/// `*` of `app[*]`, `blue` of `app[blue]`.
pub(super) fn unquoted_key(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find(['[', '"']) {
        let after = &rest[open + 1..];
        if rest[open..].starts_with('"') {
            // A quoted key: skip to its closing quote, honouring escapes.
            let mut escaped = false;
            let close = after.char_indices().find(|&(_, c)| {
                let done = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                done
            })?;
            rest = &after[close.0 + 1..];
            continue;
        }
        if after.starts_with('"') {
            rest = after;
            continue;
        }
        let close = after.find(']').unwrap_or(after.len());
        let key = &after[..close];
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
            return Some(key);
        }
        rest = &after[close..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::unquoted_key;

    #[test]
    fn keys_must_be_quoted_or_numbers_as_terraform_writes_them() {
        for ok in [
            "mi",
            "app[0]",
            "app[\"blue\"]",
            "module.app[\"a[b]\"].mi[12]",
            "app[\"x\\\"]\"]",
            "module.app",
        ] {
            assert_eq!(unquoted_key(ok), None, "{ok}");
        }
        assert_eq!(unquoted_key("app[*]"), Some("*"));
        assert_eq!(unquoted_key("module.app[\"a\"].mi[blue]"), Some("blue"));
        assert_eq!(unquoted_key("module.app[x].mi"), Some("x"));
        assert_eq!(unquoted_key("app[-1]"), Some("-1"));
    }
}
