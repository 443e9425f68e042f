//! Hostile inputs at the library level (issue 12): what a configuration that fails to parse
//! lets diagnostics quote, keys holding `${...}`, and `*.toml` entries that are not files.

use plinth_config::load_dir;

#[test]
fn a_toml_file_that_fails_to_parse_is_quoted_at_its_offending_line_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.toml"),
        "# Neighbour-Above\n[resource.a\n# Neighbour-Below\n",
    )
    .unwrap();
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(text.contains("invalid TOML"), "{text}");
    assert!(text.contains("[resource.a"), "{text}");
    assert!(!text.contains("Neighbour"), "{text}");
}

#[test]
fn interpolation_in_a_table_key_is_an_error_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.toml"),
        "[resource.a]\ntype = \"core:data\"\ninput = { \"${var.k}\" = 1, \"$${literal}\" = 2 }\n",
    )
    .unwrap();
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    assert_eq!(diags.len(), 1, "{}", diags.render(&sources, false));
    let text = diags.render(&sources, false);
    assert!(
        text.contains("the table key `${var.k}` holds ${...}, but keys are not evaluated"),
        "{text}"
    );
    assert!(text.contains("main.toml:3:11"), "{text}");
    assert!(text.contains("only values are evaluated"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_dangling_toml_symlink_is_an_error_not_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        "[resource.a]\ntype = \"core:data\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("gone.toml", dir.path().join("b.toml")).unwrap();
    let (sources, diags) = load_dir(dir.path()).unwrap_err();
    let text = diags.render(&sources, false);
    assert!(text.contains("b.toml (a symlink): No such file"), "{text}");
    assert!(text.contains("planned for deletion"), "{text}");
}
