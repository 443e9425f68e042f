//! Files that expressions name (`file`, `fileexists`, `templatefile`): read once when the
//! configuration is loaded, confined to its directory, registered as sources.

use std::path::Path;

use plinth_config::{Config, load_dir};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn resource(input: &str) -> String {
    format!("[resource.a]\ntype = \"core:data\"\ninput = {input}\n")
}

fn load_err(dir: &Path) -> String {
    match load_dir(dir) {
        Ok(_) => panic!("expected the configuration to be refused"),
        Err((sources, diags)) => diags.render(&sources, false),
    }
}

fn file_text<'a>(config: &'a Config, path: &str) -> Option<&'a str> {
    config.files.get(path).unwrap().text.as_deref()
}

#[test]
fn every_named_file_is_read_once_by_the_path_the_expression_gives() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scripts/init.sh", "#!/bin/sh\necho hi\n");
    write(dir.path(), "cloud-init.tpl", "hostname: ${name}\n");
    write(dir.path(), "banner.txt", "welcome\n");
    write(
        dir.path(),
        "main.toml",
        &format!(
            "{}count = \"${{length(file(\\\"scripts/init.sh\\\"))}}\"\n\n[locals]\ninit = '${{templatefile(\"${{path.module}}/cloud-init.tpl\", var.v)}}'\nbanner = '${{fileexists(\"${{path.root}}/banner.txt\")}}'\nagain = '${{file(\"scripts/init.sh\")}}'\n\n[output.o]\nvalue = '${{file(\"banner.txt\")}}'\n",
            resource("1")
        ),
    );
    let config = load_dir(dir.path()).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    let keys: Vec<&str> = config.files.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "./banner.txt",
            "./cloud-init.tpl",
            "banner.txt",
            "scripts/init.sh"
        ]
    );
    assert_eq!(
        file_text(&config, "scripts/init.sh"),
        Some("#!/bin/sh\necho hi\n")
    );
    assert_eq!(
        file_text(&config, "./cloud-init.tpl"),
        Some("hostname: ${name}\n")
    );
    // Each file is a source (once), so templatefile errors can be located and the
    // configuration's digest covers it.
    let tpl = config.files["./cloud-init.tpl"].source.unwrap();
    let src = config.sources.get(tpl);
    assert!(src.name.ends_with("cloud-init.tpl"), "{}", src.name);
    assert_eq!(src.text.as_str(), "hostname: ${name}\n");
    let init_sources = config
        .sources
        .files()
        .iter()
        .filter(|f| f.name.ends_with("scripts/init.sh"))
        .count();
    assert_eq!(init_sources, 1);
}

#[test]
fn a_missing_file_is_recorded_as_missing_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.toml",
        &resource("'${fileexists(\"optional/extra.sh\")}'"),
    );
    let config = load_dir(dir.path()).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    let f = &config.files["optional/extra.sh"];
    assert!(f.text.is_none() && f.source.is_none());
}

#[test]
fn a_path_that_is_not_static_is_a_located_error() {
    for (arg, expect) in [
        ("var.script", "computed from other values"),
        ("\"${var.dir}/x.sh\"", "computed from other values"),
        ("\"${path.cwd}/x.sh\"", "path.cwd is the working directory"),
        ("lower(\"X.SH\")", "computed from other values"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "main.toml",
            &resource(&format!("'${{file({arg})}}'")),
        );
        let text = load_err(dir.path());
        assert!(
            text.contains("the path of file() must be known when the configuration is read"),
            "{text}"
        );
        assert!(text.contains(expect), "{arg}: {text}");
        // Located at the argument: `input = '${file(` is 16 characters.
        assert!(text.contains("main.toml:3:17"), "{arg}: {text}");
        if !arg.contains("cwd") {
            assert!(
                text.contains("\"${path.module}/scripts/init.sh\""),
                "{text}"
            );
        }
    }
}

#[test]
fn a_file_outside_the_directory_is_refused_without_quoting_it() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf");
    write(&conf, "main.toml", &resource("'${file(\"../creds.txt\")}'"));
    write(tmp.path(), "creds.txt", "TOP-SECRET\n");
    let text = load_err(&conf);
    assert!(
        text.contains(
            "cannot read ../creds.txt for file(): it is outside the configuration directory"
        ),
        "{text}"
    );
    assert!(text.contains("main.toml:3:17"), "{text}");
    assert!(!text.contains("TOP-SECRET"), "{text}");
    // A missing file outside is refused too: existence outside cannot be probed.
    write(
        &conf,
        "main.toml",
        &resource("'${fileexists(\"../nothing.txt\")}'"),
    );
    let text = load_err(&conf);
    assert!(
        text.contains("outside the configuration directory"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_that_leads_outside_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf");
    write(&conf, "main.toml", &resource("'${file(\"link.txt\")}'"));
    write(tmp.path(), "creds.txt", "TOP-SECRET\n");
    std::os::unix::fs::symlink(tmp.path().join("creds.txt"), conf.join("link.txt")).unwrap();
    let text = load_err(&conf);
    assert!(
        text.contains("outside the configuration directory"),
        "{text}"
    );
    assert!(!text.contains("TOP-SECRET"), "{text}");
    // A symlinked directory leading outside, with nothing under it.
    std::os::unix::fs::symlink(tmp.path(), conf.join("up")).unwrap();
    write(
        &conf,
        "main.toml",
        &resource("'${fileexists(\"up/none.txt\")}'"),
    );
    let text = load_err(&conf);
    assert!(
        text.contains("outside the configuration directory"),
        "{text}"
    );
}

#[test]
fn an_absolute_path_is_an_explicit_choice_and_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf");
    let shared = tmp.path().join("shared.txt");
    write(tmp.path(), "shared.txt", "shared\n");
    let abs = shared.to_str().unwrap().to_string();
    write(
        &conf,
        "main.toml",
        &resource(&format!("'${{file(\"{abs}\")}}'")),
    );
    let config = load_dir(&conf).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    assert_eq!(file_text(&config, &abs), Some("shared\n"));
}

#[test]
fn unreadable_files_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin.dat"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    write(
        dir.path(),
        "main.toml",
        "[locals]\nb = '${file(\"bin.dat\")}'\nd = '${file(\"d\")}'\n",
    );
    let text = load_err(dir.path());
    assert!(
        text.contains("cannot read bin.dat for file(): it is not UTF-8 text"),
        "{text}"
    );
    assert!(text.contains("save the file as UTF-8 text"), "{text}");
    assert!(text.contains("main.toml:2:13"), "{text}");
    assert!(
        text.contains("cannot read d for file(): it is a directory, not a regular file"),
        "{text}"
    );
}

#[test]
fn files_a_template_file_names_are_read_too_and_located_in_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "motd.txt", "hello\n");
    write(
        dir.path(),
        "t.tpl",
        "banner: ${file(\"motd.txt\")}\nother: ${file(var.x)}\n",
    );
    write(
        dir.path(),
        "main.toml",
        "[locals]\nt = '${templatefile(\"t.tpl\", var.v)}'\n",
    );
    let text = load_err(dir.path());
    // The dynamic path in the template file is located in it, on its line 2.
    assert!(text.contains("t.tpl:2:"), "{text}");
    let dir2 = tempfile::tempdir().unwrap();
    write(dir2.path(), "motd.txt", "hello\n");
    write(dir2.path(), "t.tpl", "banner: ${file(\"motd.txt\")}\n");
    write(
        dir2.path(),
        "main.toml",
        "[locals]\nt = '${templatefile(\"t.tpl\", var.v)}'\n",
    );
    let config = load_dir(dir2.path()).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    assert_eq!(file_text(&config, "motd.txt"), Some("hello\n"));
}
