//! `regex` and `regexall`, and the pattern compiler `replace` shares: RE2 syntax, as
//! Terraform's (the `regex` crate's syntax is RE2's).
//!
//! The result of a match is Terraform's: without capture groups the matched text; with
//! named groups a map of name → text; with numbered groups a list of texts; a group that
//! did not take part in the match is null.

use plinth_value::{Map, Value};
use regex::Regex;

use super::Arity::Exact;
use super::Marks::Whole;
use super::{Args, Builtin};
use crate::error::EvalError;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "regex",
        arity: Exact(2),
        takes: "a pattern and a string",
        example: "regex(\"[a-z]+\", \"53454 abc\")",
        marks: Whole,
        run: regex,
    },
    Builtin {
        name: "regexall",
        arity: Exact(2),
        takes: "a pattern and a string",
        example: "regexall(\"[a-z]+\", \"1234abcd5678efgh9\")",
        marks: Whole,
        run: regexall,
    },
];

/// Compiles argument `i`'s pattern. The compiler's own message is not shown, since it quotes
/// the pattern, which may be secret: the reason and its position come from the parser's
/// error kind instead.
pub(super) fn compile(a: &Args<'_>, i: usize, pattern: &str) -> Result<Regex, EvalError> {
    Regex::new(pattern).map_err(|e| {
        let (why, help) = match e {
            regex::Error::CompiledTooBig(_) => (
                "is too large".to_string(),
                "simplify it: large counted repetitions such as `{1000}` multiply its size"
                    .to_string(),
            ),
            _ => match syntax_reason(pattern) {
                Some((reason, help)) => (
                    format!("is not a valid regular expression: {reason}"),
                    help.to_string(),
                ),
                None => (
                    "is not a valid regular expression".to_string(),
                    RE2_HELP.to_string(),
                ),
            },
        };
        a.error(i, format!("the pattern (argument {}) {why}", i + 1))
            .with_help(help)
    })
}

const RE2_HELP: &str = "patterns use RE2 syntax: https://github.com/google/re2/wiki/Syntax";

/// Why `pattern` does not parse, with its character position ("unclosed group at character
/// 8"), and what to do; never the pattern's text. `None` when it parses.
fn syntax_reason(pattern: &str) -> Option<(String, &'static str)> {
    use regex_syntax::ast::ErrorKind as A;
    let (kind, offset, help) = match regex_syntax::Parser::new().parse(pattern) {
        Ok(_) => return None,
        Err(regex_syntax::Error::Parse(e)) => {
            let help = match e.kind() {
                A::GroupUnclosed => {
                    r#"close the group with `)`, or escape a literal parenthesis: `\(`, written "\\(" in an expression string"#
                }
                A::GroupUnopened => {
                    r#"remove the `)`, or escape a literal parenthesis: `\)`, written "\\)" in an expression string"#
                }
                A::ClassUnclosed => {
                    r#"close the character class with `]`, or escape a literal bracket: `\[`, written "\\[" in an expression string"#
                }
                A::RepetitionMissing => {
                    r#"`*`, `+`, `?` and `{n}` repeat what comes before them: escape a literal one, as in `\+`, written "\\+" in an expression string"#
                }
                A::EscapeUnrecognized | A::EscapeUnexpectedEof | A::ClassEscapeInvalid => {
                    r#"a backslash starts an RE2 escape such as `\d` or `\.`, and a literal backslash is `\\`; in an expression string every backslash is written twice ("\\d", "\\\\")"#
                }
                A::UnsupportedLookAround | A::UnsupportedBackreference => {
                    "RE2 has no look-around or backreferences: match more and take a capture group"
                }
                _ => RE2_HELP,
            };
            (e.kind().to_string(), e.span().start.offset, help)
        }
        Err(regex_syntax::Error::Translate(e)) => {
            (e.kind().to_string(), e.span().start.offset, RE2_HELP)
        }
        Err(_) => return Some(("it does not parse".to_string(), RE2_HELP)),
    };
    let at = pattern.get(..offset).map_or(0, |p| p.chars().count()) + 1;
    Some((format!("{kind} at character {at}"), help))
}

/// The compiled pattern and whether its groups are named (a map) or numbered (a list).
fn pattern(a: &Args<'_>) -> Result<(Regex, Option<bool>), EvalError> {
    let re = compile(a, 0, a.string(0)?)?;
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let named = names.iter().filter(|n| n.is_some()).count();
    let kind = match (named, names.len()) {
        (_, 0) => None,
        (0, _) => Some(false),
        (n, total) if n == total => Some(true),
        _ => {
            return Err(a
                .error(
                    0,
                    "the pattern mixes named and numbered capture groups; name all of them or none",
                )
                .with_help("`(?:...)` groups without capturing"));
        }
    };
    Ok((re, kind))
}

/// One match as Terraform gives it.
fn captured(re: &Regex, kind: Option<bool>, caps: &regex::Captures<'_>) -> Value {
    let text = |m: Option<regex::Match<'_>>| m.map_or(Value::Null, |m| Value::from(m.as_str()));
    match kind {
        None => text(caps.get(0)),
        Some(false) => Value::List((1..caps.len()).map(|i| text(caps.get(i))).collect()),
        Some(true) => Value::Map(
            re.capture_names()
                .flatten()
                .map(|name| (name.to_string(), text(caps.name(name))))
                .collect::<Map>(),
        ),
    }
}

fn regex(a: &Args<'_>) -> Result<Value, EvalError> {
    let (re, kind) = pattern(a)?;
    let s = a.string(1)?;
    match re.captures(s) {
        Some(caps) => Ok(captured(&re, kind, &caps)),
        None => Err(a
            .call_error("the pattern did not match any part of the string")
            .with_help(
                "regexall(...) returns an empty list instead; can(regex(...)) tests for a match",
            )),
    }
}

fn regexall(a: &Args<'_>) -> Result<Value, EvalError> {
    let (re, kind) = pattern(a)?;
    let s = a.string(1)?;
    Ok(Value::List(
        re.captures_iter(s)
            .map(|caps| captured(&re, kind, &caps))
            .collect(),
    ))
}
