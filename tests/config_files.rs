//! Files a configuration reads, when they are hostile: paths out of the directory, special
//! files (FIFOs, devices, directories, dangling symlinks, loops), huge files, and inputs that
//! make diagnostics huge (lines past column 65,535, thousands of repeated problems).
//! Special files cannot live in the broken-configuration corpus (it copies regular files), so
//! each test makes its own.
//!
//! A run that could hang (a FIFO) runs under a watchdog that kills plinth after a minute (`Project::run_bounded`), so a
//! regression fails instead of hanging the suite.

mod common;

use std::path::Path;

use common::Project;

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

fn manifest_project(file: &str) -> Project {
    Project::with_main(&format!(
        r#"
[resource.cm]
type = "k8s:v1/ConfigMap"
manifest_file = "{file}"
"#
    ))
}

#[test]
fn manifest_file_outside_the_directory_is_refused_and_never_quoted() {
    const CI_SECRET: &str = "ci-token-Zq81-never-printed";
    // /proc/self/environ: plinth's own environment, CI secrets included.
    let p = manifest_project("/proc/self/environ");
    for cmd in ["validate", "plan"] {
        let r = p.run_env(&[cmd, "--no-color"], &[("CI_DEPLOY_TOKEN", CI_SECRET)]);
        r.code(1)
            .stderr_has("cannot read manifest_file /proc/self/environ: it is outside the configuration directory")
            .stderr_has("main.toml:4:17")
            .stderr_has("copy the file into the configuration directory");
        assert!(!r.all().contains(CI_SECRET), "{}", r.all());
        assert!(!r.all().contains("CI_DEPLOY_TOKEN"), "{}", r.all());
    }

    // A file beside the configuration, reached by `..`, by an absolute path, and by a symlink
    // inside the directory: not one of them is read.
    let outside = p.dir.parent().unwrap().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(
        outside.join("creds.yaml"),
        "password: Outside-Secret-4471\n: not yaml [\n",
    )
    .unwrap();
    symlink(outside.join("creds.yaml"), &p.path("creds.yaml"));
    let absolute = outside.join("creds.yaml").display().to_string();
    for path in ["../outside/creds.yaml", absolute.as_str(), "creds.yaml"] {
        p.write(
            "main.toml",
            &format!("[resource.cm]\ntype = \"k8s:v1/ConfigMap\"\nmanifest_file = \"{path}\"\n"),
        );
        let r = p.run(&["validate", "--no-color"]);
        r.code(1)
            .stderr_has("it is outside the configuration directory");
        assert!(
            !r.all().contains("Outside-Secret-4471"),
            "{path}: {}",
            r.all()
        );
        assert!(!r.all().contains("not yaml"), "{path}: {}", r.all());
    }
}

#[test]
fn a_manifest_file_that_fails_to_parse_is_quoted_at_the_offending_line_only() {
    let p = manifest_project("cm.yaml");
    p.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nsecretA: Neighbour-Above-1\nbad: [unclosed\nsecretB: Neighbour-Below-2\n",
    );
    let r = p.run(&["validate", "--no-color"]);
    r.code(1).stderr_has("invalid YAML");
    assert!(r.stderr.contains("cm.yaml:"), "{}", r.stderr);
    assert!(!r.stderr.contains("Neighbour-Above-1"), "{}", r.stderr);

    // A key set twice in one mapping is an error, not "the last one wins".
    p.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
    );
    p.run(&["validate", "--no-color"])
        .code(1)
        .stderr_has("duplicate entry with key \"name\"")
        .stderr_has("cm.yaml:4:3");
}

#[test]
fn special_and_huge_manifest_files_are_refused_without_blocking() {
    let p = manifest_project("pipe.yaml");
    mkfifo(&p.path("pipe.yaml"));
    p.run_bounded(&["validate", "--no-color"])
        .code(1)
        .stderr_has(
            "cannot read manifest_file pipe.yaml: it is a FIFO (named pipe), not a regular file",
        );

    std::fs::create_dir(p.path("dir.yaml")).unwrap();
    p.edit("main.toml", "pipe.yaml", "dir.yaml");
    p.run_bounded(&["validate", "--no-color"])
        .code(1)
        .stderr_has("it is a directory, not a regular file");

    // Devices are outside the directory, however they are named.
    for dev in ["/dev/zero", "/dev/urandom"] {
        let p = manifest_project(dev);
        p.run_bounded(&["validate", "--no-color"])
            .code(1)
            .stderr_has("it is outside the configuration directory");
    }

    let p = manifest_project("big.yaml");
    let mut big = String::from("apiVersion: v1\nkind: ConfigMap\ndata:\n");
    while big.len() <= plinth_config::MAX_FILE_BYTES as usize {
        big.push_str(
            "  k: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n",
        );
    }
    p.write("big.yaml", &big);
    p.run_bounded(&["validate", "--no-color"])
        .code(1)
        .stderr_has("it is larger than the 4 MiB limit");
}

#[test]
fn var_files_that_are_not_regular_files_are_refused_without_blocking() {
    let p = Project::with_main(
        "[variable.x]\ndefault = \"a\"\n\n[resource.a]\ntype = \"core:data\"\ninput = \"${var.x}\"\n",
    );
    for (file, what) in [
        ("/dev/zero", "it is a character device, not a regular file"),
        ("/tmp", "it is a directory, not a regular file"),
    ] {
        p.run_bounded(&["plan", "--no-color", "--var-file", file])
            .code(1)
            .stderr_has(&format!("cannot read --var-file {file}: {what}"));
    }
    // A pipe is how `--var-file <(sops -d prod.vars)` arrives: it is read, up to the limit.
    let feed = |name: &str, text: String| {
        let path = p.path(name);
        mkfifo(&path);
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            // Opening blocks until plinth opens the other end; a refused pipe is never opened,
            // so the writer gives up when plinth has exited (the test drops the handle).
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
                let _ = f.write_all(text.as_bytes());
            }
        });
        (p.path(name).display().to_string(), writer)
    };
    let (fifo, writer) = feed("pipe.vars", "x = \"from-a-pipe\"\n".to_string());
    p.run_bounded(&["plan", "--no-color", "--var-file", &fifo])
        .code(0)
        .stdout_has("from-a-pipe");
    writer.join().unwrap();
    let huge = "# padding\n".repeat(plinth_config::MAX_FILE_BYTES as usize / 10 + 1);
    let (fifo, writer) = feed("huge.vars", huge);
    p.run_bounded(&["plan", "--no-color", "--var-file", &fifo])
        .code(1)
        .stderr_has(&format!(
            "cannot read --var-file {fifo}: it is larger than the 4 MiB limit"
        ));
    drop(writer);
}

#[test]
fn toml_entries_that_are_not_regular_files_are_errors_not_skipped() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\ninput = 1\n");
    p.ok(&["apply", "--auto-approve"]);

    // Each of these would have been skipped, planning to delete what it declared.
    symlink("missing.toml", &p.path("dangling.toml"));
    p.run_bounded(&["plan", "--no-color"])
        .code(1)
        .stderr_has("cannot read infra/dangling.toml (a symlink): No such file or directory")
        .stderr_has("planned for deletion");
    p.remove("dangling.toml");

    symlink("loop.toml", &p.path("loop.toml"));
    p.run_bounded(&["plan", "--no-color"])
        .code(1)
        .stderr_has("cannot read infra/loop.toml (a symlink): Too many levels of symbolic links");
    p.remove("loop.toml");

    mkfifo(&p.path("pipe.toml"));
    p.run_bounded(&["plan", "--no-color"])
        .code(1)
        .stderr_has("cannot read infra/pipe.toml: it is a FIFO (named pipe), not a regular file");
    p.remove("pipe.toml");

    std::fs::create_dir(p.path("dir.toml")).unwrap();
    p.run_bounded(&["validate", "--no-color"])
        .code(1)
        .stderr_has("cannot read infra/dir.toml: it is a directory, not a regular file");
    std::fs::remove_dir(p.path("dir.toml")).unwrap();

    let outside = p.dir.parent().unwrap().join("shared.toml");
    std::fs::write(&outside, "[resource.b]\ntype = \"core:data\"\ninput = 2\n").unwrap();
    symlink(&outside, &p.path("shared.toml"));
    p.run_bounded(&["validate", "--no-color"])
        .code(1)
        .stderr_has(
            "cannot read infra/shared.toml (a symlink): it is outside the configuration directory",
        );
    p.remove("shared.toml");

    // A symlink to a regular file inside the directory is part of the configuration.
    std::fs::create_dir(p.path("parts")).unwrap();
    std::fs::write(
        p.path("parts/b.toml"),
        "[resource.b]\ntype = \"core:data\"\ninput = 2\n",
    )
    .unwrap();
    symlink("parts/b.toml", &p.path("b.toml"));
    let r = p.run(&["plan", "--no-color"]);
    r.code(0).stdout_has("b");
    assert!(r.all().contains("1 to add"), "{}", r.all());
    assert!(
        !r.all().contains("to destroy") || r.all().contains("0 to destroy"),
        "{}",
        r.all()
    );
}

/// Errors past column 65,535 used to panic in the renderer ("Formatting argument out of
/// range"); the line is quoted in a window around the column instead.
#[test]
fn errors_on_very_long_lines_are_quoted_in_a_window() {
    let long = "x".repeat(70_000);
    let p = Project::with_main(&format!(
        "[resource.a]\ntype = \"core:data\"\ninput = \"{long}${{nope}}\"\n"
    ));
    let r = p.run_bounded(&["plan", "--no-color"]);
    r.code(1)
        .stderr_has("infra/main.toml:3:70012")
        .stderr_has("${nope}");
    assert!(r.stderr.len() < 4_000, "{} bytes of stderr", r.stderr.len());

    // A TOML syntax error at the end of a long line.
    p.write(
        "main.toml",
        &format!("[resource.a]\ntype = \"core:data\"\ninput = \"{long}\" junk\n"),
    );
    let r = p.run_bounded(&["validate", "--no-color"]);
    r.code(1)
        .stderr_has("invalid TOML")
        .stderr_has("infra/main.toml:3:");
    assert!(r.stderr.len() < 4_000, "{} bytes of stderr", r.stderr.len());

    // 10,000 unknown names on one line: reported, but not 10,000 times the line.
    let deps: Vec<String> = (0..10_000).map(|i| format!("\"n{i}\"")).collect();
    p.write(
        "main.toml",
        &format!(
            "[resource.a]\ntype = \"core:data\"\ndepends_on = [{}]\n",
            deps.join(",")
        ),
    );
    let r = p.run_bounded(&["validate", "--no-color"]);
    r.code(1)
        .stderr_has("`n9` does not name anything in this configuration")
        .stderr_has("… and 9,990 more like this: infra/main.toml:3:")
        .stderr_has("10000 problems found.");
    assert!(
        r.stderr.len() < 20_000,
        "{} bytes of stderr",
        r.stderr.len()
    );
}

#[test]
fn thousands_of_duplicate_for_each_keys_are_reported_once_each_and_capped() {
    let same = vec!["\"a\""; 10_000].join(",");
    let p = Project::with_main(&format!(
        "[resource.app]\ntype = \"core:data\"\nfor_each = [{same}]\n"
    ));
    for cmd in ["validate", "plan"] {
        let r = p.run_bounded(&[cmd, "--no-color"]);
        r.code(1)
            .stderr_has("the for_each list of `app` has \"a\" 10000 times");
        assert_eq!(r.stderr.matches("×").count(), 1, "{}", r.stderr);
        assert!(r.stderr.len() < 4_000, "{} bytes of stderr", r.stderr.len());
    }

    // 5,000 different keys, each twice: 5,000 problems, ten printed.
    let pairs: Vec<String> = (0..5_000).map(|i| format!("\"k{i}\",\"k{i}\"")).collect();
    p.write(
        "main.toml",
        &format!(
            "[resource.app]\ntype = \"core:data\"\nfor_each = [{}]\n",
            pairs.join(",")
        ),
    );
    let r = p.run_bounded(&["validate", "--no-color"]);
    r.code(1)
        .stderr_has("the for_each list of `app` has \"k0\" twice")
        .stderr_has("… and 4,990 more like this: infra/main.toml:3:")
        .stderr_has("5000 problems found.");
    assert!(
        r.stderr.len() < 20_000,
        "{} bytes of stderr",
        r.stderr.len()
    );
}

#[test]
fn control_and_bidirectional_characters_are_escaped_in_errors() {
    // TOML escapes put NUL, ESC and a right-to-left override into a name and a value.
    let p = Project::with_main(
        "[resource.\"ev\\u202Eil\\u0000\"]\ntype = \"core:data\"\n\n[resource.b]\ntype = \"core:data\"\ninput = \"\\u001B[2J${nope\\u202E}\"\n",
    );
    let r = p.run(&["validate", "--no-color"]);
    r.code(1)
        .stderr_has("`ev\\u{202e}il\\0` is not a valid resource name");
    for raw in ['\u{202e}', '\0', '\u{1b}'] {
        assert!(
            !r.stderr.contains(raw),
            "{raw:?} printed raw:\n{}",
            r.stderr
        );
    }
    let r = p.run(&["validate", "--json"]);
    assert!(!r.stdout.contains('\u{202e}'), "{}", r.stdout);
}
