//! String functions: case, trimming, splitting and joining, substrings, tests.
//!
//! Every one needs its whole arguments ([`Marks::Whole`]). Lengths and offsets count Unicode
//! scalar values (Terraform counts grapheme clusters; the two differ only for combining
//! sequences such as emoji with modifiers).

use plinth_value::Value;

use super::Arity::{AtLeast, Exact};
use super::Marks::Whole;
use super::{Args, Builtin, scalar_text};
use crate::error::EvalError;
use crate::values::type_article;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "lower",
        arity: Exact(1),
        takes: "a string",
        example: "lower(var.name)",
        marks: Whole,
        run: lower,
    },
    Builtin {
        name: "upper",
        arity: Exact(1),
        takes: "a string",
        example: "upper(var.name)",
        marks: Whole,
        run: upper,
    },
    Builtin {
        name: "title",
        arity: Exact(1),
        takes: "a string",
        example: "title(\"hello world\")",
        marks: Whole,
        run: title,
    },
    Builtin {
        name: "join",
        arity: AtLeast(2),
        takes: "a separator string and lists of strings",
        example: "join(\",\", var.names)",
        marks: Whole,
        run: join,
    },
    Builtin {
        name: "split",
        arity: Exact(2),
        takes: "a separator string and a string",
        example: "split(\",\", \"a,b,c\")",
        marks: Whole,
        run: split,
    },
    Builtin {
        name: "trimspace",
        arity: Exact(1),
        takes: "a string",
        example: "trimspace(\"  hello\\n\")",
        marks: Whole,
        run: trimspace,
    },
    Builtin {
        name: "trim",
        arity: Exact(2),
        takes: "a string and the characters to remove from both ends",
        example: "trim(\"?!hello?!\", \"!?\")",
        marks: Whole,
        run: trim,
    },
    Builtin {
        name: "trimprefix",
        arity: Exact(2),
        takes: "a string and the prefix to remove",
        example: "trimprefix(\"helloworld\", \"hello\")",
        marks: Whole,
        run: trimprefix,
    },
    Builtin {
        name: "trimsuffix",
        arity: Exact(2),
        takes: "a string and the suffix to remove",
        example: "trimsuffix(\"helloworld\", \"world\")",
        marks: Whole,
        run: trimsuffix,
    },
    Builtin {
        name: "chomp",
        arity: Exact(1),
        takes: "a string",
        example: "chomp(\"hello\\n\")",
        marks: Whole,
        run: chomp,
    },
    Builtin {
        name: "substr",
        arity: Exact(3),
        takes: "a string, an offset and a length (-1: the rest)",
        example: "substr(\"hello world\", 1, 4)",
        marks: Whole,
        run: substr,
    },
    Builtin {
        name: "startswith",
        arity: Exact(2),
        takes: "a string and a prefix",
        example: "startswith(\"hello world\", \"hello\")",
        marks: Whole,
        run: startswith,
    },
    Builtin {
        name: "endswith",
        arity: Exact(2),
        takes: "a string and a suffix",
        example: "endswith(\"hello world\", \"world\")",
        marks: Whole,
        run: endswith,
    },
    Builtin {
        name: "strcontains",
        arity: Exact(2),
        takes: "a string and the substring to look for",
        example: "strcontains(\"hello world\", \"wor\")",
        marks: Whole,
        run: strcontains,
    },
    Builtin {
        name: "strrev",
        arity: Exact(1),
        takes: "a string",
        example: "strrev(\"hello\")",
        marks: Whole,
        run: strrev,
    },
    Builtin {
        name: "indent",
        arity: Exact(2),
        takes: "a number of spaces and a string",
        example: "indent(2, \"a\\nb\")",
        marks: Whole,
        run: indent,
    },
    Builtin {
        name: "replace",
        arity: Exact(3),
        takes: "a string, a substring or /regex/, and its replacement",
        example: "replace(\"1 + 2 + 3\", \"+\", \"-\")",
        marks: Whole,
        run: replace,
    },
];

fn text(s: impl Into<String>) -> Result<Value, EvalError> {
    Ok(Value::String(s.into()))
}

fn lower(a: &Args<'_>) -> Result<Value, EvalError> {
    text(a.string(0)?.to_lowercase())
}

fn upper(a: &Args<'_>) -> Result<Value, EvalError> {
    text(a.string(0)?.to_uppercase())
}

/// Terraform's title: the first letter of every word upper-cased (a word starts after
/// anything that is not a letter, digit or mark), the rest unchanged.
fn title(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = String::new();
    let mut in_word = false;
    for c in a.string(0)?.chars() {
        if !in_word && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        // Go's strings.Title: ASCII other than letters, digits and `_` separates words, as
        // does white space; other characters do not.
        in_word = c.is_alphanumeric() || c == '_' || !(c.is_ascii() || c.is_whitespace());
    }
    text(out)
}

fn join(a: &Args<'_>) -> Result<Value, EvalError> {
    let sep = a.string(0)?;
    let mut parts = Vec::new();
    for i in 1..a.len() {
        let items = a.list(i)?;
        for (k, item) in items.iter().enumerate() {
            match scalar_text(item) {
                Some(s) => parts.push(s),
                None => {
                    return Err(a
                        .error(
                            i,
                            format!(
                                "needs a list of strings, but element {k} is {}",
                                type_article(item)
                            ),
                        )
                        .with_help("jsonencode(...) writes lists and maps as text"));
                }
            }
        }
    }
    text(parts.join(sep))
}

fn split(a: &Args<'_>) -> Result<Value, EvalError> {
    let sep = a.string(0)?;
    let s = a.string(1)?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

fn trimspace(a: &Args<'_>) -> Result<Value, EvalError> {
    text(a.string(0)?.trim())
}

fn trim(a: &Args<'_>) -> Result<Value, EvalError> {
    let cutset: Vec<char> = a.string(1)?.chars().collect();
    text(a.string(0)?.trim_matches(cutset.as_slice()))
}

fn trimprefix(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    text(s.strip_prefix(a.string(1)?).unwrap_or(s))
}

fn trimsuffix(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    text(s.strip_suffix(a.string(1)?).unwrap_or(s))
}

/// Removes every newline sequence (`\n`, `\r\n`) at the end, as Terraform's chomp.
fn chomp(a: &Args<'_>) -> Result<Value, EvalError> {
    text(a.string(0)?.trim_end_matches(['\n', '\r']))
}

/// Terraform's substr: a negative offset counts from the end; a length of -1 (or past the
/// end) takes the rest; an offset past the end gives "".
fn substr(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    let offset = a.integer(1)?;
    let length = a.integer(2)?;
    if length < -1 {
        return Err(a.error(2, "the length must be 0 or more, or -1 for the rest"));
    }
    let total = s.chars().count() as i64;
    let start = if offset < 0 { total + offset } else { offset };
    if start < 0 {
        return Err(a.error(
            1,
            "a negative offset counts from the end, but this one is before the start",
        ));
    }
    let chars = s.chars().skip(start as usize);
    text(if length == -1 {
        chars.collect::<String>()
    } else {
        chars.take(length as usize).collect::<String>()
    })
}

fn startswith(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::Bool(a.string(0)?.starts_with(a.string(1)?)))
}

fn endswith(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::Bool(a.string(0)?.ends_with(a.string(1)?)))
}

fn strcontains(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::Bool(a.string(0)?.contains(a.string(1)?)))
}

fn strrev(a: &Args<'_>) -> Result<Value, EvalError> {
    text(a.string(0)?.chars().rev().collect::<String>())
}

/// Terraform's indent: every line but the first gets `spaces` spaces in front.
fn indent(a: &Args<'_>) -> Result<Value, EvalError> {
    let spaces = a.count(0)?;
    if spaces > 1024 {
        return Err(a.error(0, "the indentation is at most 1024 spaces"));
    }
    let pad = " ".repeat(spaces);
    text(a.string(1)?.replace('\n', &format!("\n{pad}")))
}

/// Terraform's replace: a plain substring, or a regular expression written `/.../` whose
/// replacement may name groups as `$1` or `${name}`.
fn replace(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    let pattern = a.string(1)?;
    let with = a.string(2)?;
    if pattern.len() >= 2 && pattern.starts_with('/') && pattern.ends_with('/') {
        let re = super::regexes::compile(a, 1, &pattern[1..pattern.len() - 1])?;
        return text(re.replace_all(s, with).into_owned());
    }
    if pattern.is_empty() {
        return Err(a.error(1, "the substring to replace is empty"));
    }
    text(s.replace(pattern, with))
}
