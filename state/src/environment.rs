//! Environments (dev, staging, prod): one configuration, a separate state per environment in
//! the same backend, as Terraform keeps one per workspace.
//!
//! - The `default` environment is the state a configuration always had: `<dir>/.plinth/` for
//!   the local backend, blob `KEY` for azure-blob. State written before environments existed
//!   is the default environment's, unchanged.
//! - Environment `NAME` lives beside it: `<dir>/.plinth/env/NAME/` (local), blob
//!   `KEYenv:NAME` (azure-blob: the key followed by `env:` and the name, as Terraform's
//!   azurerm backend names a workspace's state), with its journal, backup and lock named after
//!   it as the default's are.
//!
//! A name is checked ([`check_name`]) before it becomes part of a path or a blob name, so an
//! environment can never point outside the state directory.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::StateError;
use crate::local::{JOURNAL_FILE, SNAPSHOT_FILE};

/// The environment used when none is selected.
pub const DEFAULT_ENVIRONMENT: &str = "default";

/// The directory, inside the local state directory, holding one directory per environment.
pub const ENV_DIR: &str = "env";

/// What separates an azure-blob key from the environment's name (Terraform's azurerm
/// backend uses the same).
pub const ENV_KEY_PREFIX: &str = "env:";

/// The longest environment name.
pub const MAX_NAME_LEN: usize = 64;

/// Checks an environment name: 1 to 64 ASCII letters, digits, `-` and `_`, starting with a
/// letter or digit. The error says what is wrong (and quotes the name only when it is short
/// and printable).
pub fn check_name(name: &str) -> Result<(), String> {
    let shown =
        if name.len() <= MAX_NAME_LEN && name.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
            format!("`{name}`")
        } else {
            "the name".to_string()
        };
    if name.is_empty() {
        return Err("an environment name cannot be empty".to_string());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "an environment name has at most {MAX_NAME_LEN} characters; this one has {}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        let what = if bad == ' ' {
            "a space".to_string()
        } else if bad.is_ascii_graphic() {
            format!("`{bad}`")
        } else {
            format!("U+{:04X}", bad as u32)
        };
        return Err(format!(
            "{shown} is not a valid environment name: it contains {what}; use letters, digits, `-` and `_` (e.g. dev, staging, prod-eu)"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "{shown} is not a valid environment name: it must start with a letter or a digit"
        ));
    }
    Ok(())
}

/// The local state directory of environment `name`, for a configuration whose default state
/// directory is `base` (`<dir>/.plinth`). `name` must have passed [`check_name`].
pub fn local_dir(base: &Path, name: &str) -> PathBuf {
    if name == DEFAULT_ENVIRONMENT {
        base.to_path_buf()
    } else {
        base.join(ENV_DIR).join(name)
    }
}

/// The azure-blob key of environment `name` for `[backend] key = KEY`: `KEY` itself for the
/// default environment, `KEYenv:NAME` otherwise. `name` must have passed [`check_name`].
pub fn blob_key(key: &str, name: &str) -> String {
    if name == DEFAULT_ENVIRONMENT {
        key.to_string()
    } else {
        format!("{key}{ENV_KEY_PREFIX}{name}")
    }
}

/// The environments that have local state under `base`, sorted, `default` first when it has
/// state. A directory under `env/` with an invalid name, or without a snapshot or journal, is
/// not an environment.
pub fn local_environments(base: &Path) -> Result<Vec<String>, StateError> {
    let has_state = |dir: &Path| {
        [SNAPSHOT_FILE, JOURNAL_FILE]
            .iter()
            .any(|f| fs::symlink_metadata(dir.join(f)).is_ok())
    };
    let mut found = Vec::new();
    if has_state(base) {
        found.push(DEFAULT_ENVIRONMENT.to_string());
    }
    let env_dir = base.join(ENV_DIR);
    let entries = match fs::read_dir(&env_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(StateError::io("list", &env_dir, e)),
    };
    let mut named = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StateError::io("list", &env_dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name != DEFAULT_ENVIRONMENT && check_name(&name).is_ok() && has_state(&entry.path()) {
            named.push(name);
        }
    }
    named.sort();
    found.extend(named);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_letters_digits_dashes_and_underscores() {
        for ok in ["dev", "prod-eu", "stage_2", "7", "a".repeat(64).as_str()] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        let err = |n: &str| check_name(n).unwrap_err();
        assert!(err("").contains("cannot be empty"));
        assert!(
            err("../prod").contains("contains `.`"),
            "{}",
            err("../prod")
        );
        assert!(err("a/b").contains("contains `/`"));
        assert!(
            err("pr od").contains("`pr od` is not a valid environment name: it contains a space")
        );
        assert!(err("-x").contains("must start with a letter or a digit"));
        assert!(err(&"a".repeat(65)).contains("at most 64"));
        // A long or unprintable name is not echoed back.
        assert!(!err(&format!("{}\u{1b}", "x".repeat(70))).contains("xxxx"));
        assert!(
            err("a\u{1b}b")
                .contains("the name is not a valid environment name: it contains U+001B")
        );
    }

    #[test]
    fn the_default_environment_keeps_the_locations_state_always_had() {
        let base = Path::new("/c/.plinth");
        assert_eq!(local_dir(base, "default"), base);
        assert_eq!(local_dir(base, "prod"), Path::new("/c/.plinth/env/prod"));
        assert_eq!(blob_key("team/app.json", "default"), "team/app.json");
        assert_eq!(blob_key("team/app.json", "prod"), "team/app.jsonenv:prod");
        let config = crate::azure::AzureBlobConfig {
            account: Some("acct".into()),
            container: "tfstate".into(),
            key: "app.json".into(),
            endpoint: None,
        };
        let prod = config.for_environment("prod");
        assert_eq!(prod.key, "app.jsonenv:prod");
        assert_eq!(
            (prod.account, prod.container),
            (config.account.clone(), config.container.clone())
        );
        assert_eq!(config.for_environment("default"), config);
    }

    #[test]
    fn environments_with_state_are_listed_default_first() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join(".plinth");
        assert!(local_environments(&base).unwrap().is_empty());
        for (dir, file) in [
            ("env/prod", SNAPSHOT_FILE),
            ("env/dev", JOURNAL_FILE),
            ("env/empty", "state.lock"),
            ("env/bad.name", SNAPSHOT_FILE),
        ] {
            fs::create_dir_all(base.join(dir)).unwrap();
            fs::write(base.join(dir).join(file), "{}").unwrap();
        }
        assert_eq!(local_environments(&base).unwrap(), ["dev", "prod"]);
        fs::write(base.join(SNAPSHOT_FILE), "{}").unwrap();
        assert_eq!(
            local_environments(&base).unwrap(),
            ["default", "dev", "prod"]
        );
    }
}
