//! The journal record format and its replay, shared by the backends.
//!
//! A record is one line: `<crc32 of json, 8 lowercase hex> <json>\n`, where json is
//! `{"serial":N,"lineage":"...","change":<Change>}` in compact form.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::fresh_state;
use crate::error::StateError;
use crate::model::{Change, State};

#[derive(Serialize)]
struct RecordRef<'a> {
    serial: u64,
    lineage: &'a str,
    change: &'a Change,
}

/// A decoded journal record.
#[derive(Debug, Deserialize)]
pub(crate) struct Record {
    pub serial: u64,
    pub lineage: String,
    pub change: Change,
}

/// Encodes one record as a complete journal line (including the trailing newline).
pub(crate) fn encode(serial: u64, lineage: &str, change: &Change) -> Result<Vec<u8>, StateError> {
    let json = serde_json::to_vec(&RecordRef {
        serial,
        lineage,
        change,
    })
    .map_err(|e| StateError::encode("a journal record", e))?;
    let mut line = Vec::with_capacity(json.len() + 10);
    write!(line, "{:08x} ", crc32fast::hash(&json)).expect("writing to a Vec cannot fail");
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok(line)
}

/// A final record that was dropped as a torn write.
#[derive(Debug)]
pub(crate) struct Torn {
    pub line: usize,
    pub bytes: usize,
    pub reason: &'static str,
}

/// The good records of a journal.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// (1-based line, record), in file order.
    pub records: Vec<(usize, Record)>,
    /// Length of the prefix holding the good records; anything after it is a torn tail.
    pub valid_len: u64,
    pub torn: Option<Torn>,
}

enum LineError {
    /// Damage a torn write can cause: the last record may be dropped for it.
    Damaged(&'static str),
    /// Checksummed but unreadable: never dropped silently.
    Unreadable(String),
}

fn decode(line: &[u8]) -> Result<Record, LineError> {
    if line.len() < 10 || line[8] != b' ' {
        return Err(LineError::Damaged(
            "is malformed (expected `<crc32> <json>`)",
        ));
    }
    let crc = std::str::from_utf8(&line[..8])
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or(LineError::Damaged(
            "is malformed (its checksum is not 8 hex digits)",
        ))?;
    let json = &line[9..];
    if crc32fast::hash(json) != crc {
        return Err(LineError::Damaged("fails its checksum"));
    }
    serde_json::from_slice(json).map_err(|e| {
        LineError::Unreadable(format!(
            "passes its checksum but cannot be read ({e}); it may come from a newer plinth"
        ))
    })
}

/// Splits and checks a journal. An unterminated last record (no trailing newline: a crash cut
/// the append short) is a torn write and is reported in [`Scan::torn`]; any other bad record,
/// including a complete last line that fails its checksum, is an error.
pub(crate) fn scan(data: &[u8], path: &Path, backup: &Path) -> Result<Scan, StateError> {
    // (start, end excluding newline, terminated)
    let mut lines = Vec::new();
    let mut start = 0;
    while start < data.len() {
        match data[start..].iter().position(|&b| b == b'\n') {
            Some(n) => {
                lines.push((start, start + n, true));
                start += n + 1;
            }
            None => {
                lines.push((start, data.len(), false));
                start = data.len();
            }
        }
    }
    let mut scan = Scan::default();
    let count = lines.len();
    for (i, &(start, end, terminated)) in lines.iter().enumerate() {
        let line_no = i + 1;
        let last = i + 1 == count;
        let corrupt = |problem: String| StateError::Corrupt {
            path: path.to_path_buf(),
            line: line_no,
            problem,
            following: count - i - 1,
            backup: backup.to_path_buf(),
        };
        let result = if terminated {
            decode(&data[start..end])
        } else {
            Err(LineError::Damaged("is incomplete (no trailing newline)"))
        };
        match result {
            Ok(record) => {
                scan.records.push((line_no, record));
                scan.valid_len = (end + 1) as u64;
            }
            // Only an unterminated tail can be a write cut short: appends end with the
            // newline, so a crash leaves a prefix of the last line. A complete line that is
            // damaged was changed after it was written (and may have been acknowledged).
            Err(LineError::Damaged(reason)) if last && !terminated => {
                scan.torn = Some(Torn {
                    line: line_no,
                    bytes: data.len() - start,
                    reason,
                });
            }
            Err(LineError::Damaged(reason)) if last => {
                return Err(corrupt(format!(
                    "{reason} although it is complete (it ends with a newline, so it is not a write cut short by a crash: the journal is corrupt, changed or damaged after the record was saved)"
                )));
            }
            Err(LineError::Damaged(reason)) => return Err(corrupt(reason.to_string())),
            Err(LineError::Unreadable(problem)) => return Err(corrupt(problem)),
        }
    }
    Ok(scan)
}

/// The result of replaying a journal onto a snapshot.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub state: Option<State>,
    /// Records applied.
    pub applied: usize,
    /// Records skipped because the snapshot already contains them.
    pub skipped: usize,
}

/// Replays `records` onto `snapshot`. Records with a serial at or below the snapshot's are
/// skipped (a crash between writing the snapshot and truncating the journal); the rest must
/// continue the serial one by one and share the lineage.
pub(crate) fn replay(
    snapshot: Option<State>,
    records: Vec<(usize, Record)>,
    path: &Path,
    snapshot_path: &Path,
    backup: &Path,
) -> Result<Replayed, StateError> {
    let mut state = match snapshot {
        Some(s) => s,
        None => match records.first() {
            Some((_, first)) => fresh_state(&first.lineage),
            None => {
                return Ok(Replayed {
                    state: None,
                    applied: 0,
                    skipped: 0,
                });
            }
        },
    };
    let base = state.serial;
    let total = records.len();
    if base > crate::MAX_SERIAL
        && let Some((line, record)) = records.first()
    {
        // Every record would be skipped as already compacted, although a writer counting on
        // from this serial wrapped around to 0 (older plinth versions did).
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            line: *line,
            problem: format!(
                "has serial {} after a snapshot ({}) at serial {base}, beyond the largest serial plinth records ({}): the serials may have wrapped around, and the records cannot be placed",
                record.serial,
                snapshot_path.display(),
                crate::MAX_SERIAL
            ),
            following: total - 1,
            backup: backup.to_path_buf(),
        });
    }
    let (mut applied, mut skipped) = (0, 0);
    for (i, (line, record)) in records.into_iter().enumerate() {
        if record.lineage != state.lineage {
            return Err(StateError::LineageMismatch {
                path: path.to_path_buf(),
                line,
                expected: state.lineage.clone(),
                found: record.lineage,
                snapshot: snapshot_path.to_path_buf(),
            });
        }
        if applied == 0 && record.serial <= base {
            skipped += 1;
            continue;
        }
        let expected = crate::next_serial(state.serial);
        if Some(record.serial) != expected {
            return Err(StateError::Corrupt {
                path: path.to_path_buf(),
                line,
                problem: match expected {
                    Some(expected) => format!(
                        "has serial {} but serial {expected} was expected (a change is missing or repeated)",
                        record.serial
                    ),
                    None => format!(
                        "has serial {}, beyond the largest serial plinth records ({})",
                        record.serial,
                        crate::MAX_SERIAL
                    ),
                },
                following: total - i - 1,
                backup: backup.to_path_buf(),
            });
        }
        state.apply_change(&record.change);
        state.serial = record.serial;
        applied += 1;
    }
    Ok(Replayed {
        state: Some(state),
        applied,
        skipped,
    })
}
