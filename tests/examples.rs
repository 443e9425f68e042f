//! Every function example of `docs/language.md` evaluates to the result it documents, and
//! every built-in function has one.

mod common;

use std::collections::BTreeSet;

use common::Project;
use serde_json::Value as Json;

/// One row of a function table of `docs/language.md`: the example and its documented result.
struct Documented {
    line: usize,
    example: String,
    result: Json,
}

/// The rows `| `name` | what | `example` | `result` |` of section 6 of the language
/// reference; a result is written as JSON.
fn documented_function_examples() -> Vec<Documented> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md"))
        .expect("docs/language.md");
    let start = text
        .find("## 6. Built-in functions")
        .expect("section 6 of the language reference");
    let end = text[start..]
        .find("\n## 7.")
        .map_or(text.len(), |i| start + i);
    let first_line = text[..start].lines().count();
    let mut rows = Vec::new();
    for (i, line) in text[start..end].lines().enumerate() {
        let cells: Vec<&str> = split_row(line);
        if cells.len() != 4 || !cells[0].starts_with('`') || !cells[2].starts_with('`') {
            continue;
        }
        let example = cells[2].trim_matches('`').replace("\\|", "|");
        let result_text = cells[3].trim_matches('`').replace("\\|", "|");
        let result = serde_json::from_str(&result_text).unwrap_or_else(|e| {
            panic!(
                "docs/language.md:{}: the result {result_text:?} is not JSON: {e}",
                first_line + i + 1
            )
        });
        rows.push(Documented {
            line: first_line + i + 1,
            example,
            result,
        });
    }
    rows
}

/// The cells of a Markdown table row (`\|` inside a cell is not a separator).
fn split_row(line: &str) -> Vec<&str> {
    let line = line.trim();
    if !line.starts_with('|') || !line.ends_with('|') {
        return Vec::new();
    }
    let inner = &line[1..line.len() - 1];
    let mut cells = Vec::new();
    let mut from = 0;
    let bytes = inner.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            cells.push(inner[from..i].trim());
            from = i + 1;
        }
    }
    cells.push(inner[from..].trim());
    cells
}

/// The files the reference's `file`/`templatefile`/`fileexists` examples read, as it
/// describes them above its tables.
const DOC_FILES: &[(&str, &str)] = &[
    ("motd.txt", "Welcome!\n"),
    (
        "queues.tpl",
        "%{ for q in queues ~}\nqueue ${q}\n%{ endfor ~}\n",
    ),
];

#[test]
fn every_function_example_in_the_language_reference_is_true() {
    let rows = documented_function_examples();
    assert!(
        rows.len() >= 60,
        "only {} function examples found in docs/language.md",
        rows.len()
    );
    // The functions the examples call first.
    let documented: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.example.split('(').next().map(str::to_string))
        .collect();
    let mut config = String::new();
    for (i, row) in rows.iter().enumerate() {
        assert!(
            !row.example.contains("'''"),
            "docs/language.md:{}: an example may not hold '''",
            row.line
        );
        config.push_str(&format!(
            "[output.ex{i}]\nvalue = '''${{{}}}'''\n\n",
            row.example
        ));
    }
    let p = Project::with_main(&config);
    for (name, text) in DOC_FILES {
        p.write(name, text);
    }
    p.apply(&[]);
    let outputs = p.ok(&["output", "--json"]).stdout;
    let outputs: Json = serde_json::from_str(outputs.trim()).expect("output --json");
    let mut wrong = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let got = &outputs[format!("ex{i}")]["value"];
        if !same(got, &row.result) {
            wrong.push(format!(
                "docs/language.md:{}: {} is {got}, documented as {}",
                row.line, row.example, row.result
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let missing: Vec<&str> = plinth_expr::builtin_function_names()
        .into_iter()
        .filter(|f| !documented.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/language.md has no example of {missing:?}"
    );
}

/// Equal as JSON, numbers compared by value (`2` and `2.0` are the same number).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
