//! Reading a state snapshot's JSON quickly: the records, most of the document, are parsed on
//! as many threads as there are cores (100,000 records are 95 MB of JSON), and their map is
//! built in one go from the sorted records, which fills its nodes (a map built record by
//! record leaves them half empty).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::{HistoryEntry, OutputState, ResourceState, State};

/// Below this many records one thread parses them all: starting threads costs more.
const PARALLEL_FROM: usize = 2_000;

/// The snapshot with each record's JSON left unparsed (borrowed from the document).
#[derive(Deserialize)]
struct Outline<'a> {
    format: String,
    lineage: String,
    serial: u64,
    #[serde(default, borrow)]
    resources: BTreeMap<String, &'a RawValue>,
    #[serde(default)]
    outputs: BTreeMap<String, OutputState>,
    #[serde(default)]
    history: Vec<HistoryEntry>,
}

impl State {
    /// Parses a snapshot's JSON: the same [`State`] (and, for a document that is not one,
    /// the same error) as `serde_json::from_slice`, faster for a large one.
    pub fn from_json_slice(data: &[u8]) -> serde_json::Result<State> {
        match fast(data) {
            Ok(state) => Ok(state),
            // The error located in the whole document (a record's own parse counts lines
            // and columns from the record).
            Err(_) => serde_json::from_slice(data),
        }
    }
}

fn fast(data: &[u8]) -> serde_json::Result<State> {
    let outline: Outline<'_> = serde_json::from_slice(data)?;
    let records: Vec<(String, &RawValue)> = outline.resources.into_iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parsed = if threads <= 1 || records.len() < PARALLEL_FROM {
        parse_records(&records)?
    } else {
        let chunk = records.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = records
                .chunks(chunk)
                .map(|part| scope.spawn(move || parse_records(part)))
                .collect();
            let mut all = Vec::with_capacity(records.len());
            for (w, worker) in workers.into_iter().enumerate() {
                match worker.join() {
                    Ok(part) => all.extend(part?),
                    // A panic in the parser (a bug): parsed again here, where it is the
                    // caller's panic as it would have been without threads.
                    Err(_) => {
                        let start = w * chunk;
                        let end = (start + chunk).min(records.len());
                        all.extend(parse_records(&records[start..end])?);
                    }
                }
            }
            Ok::<_, serde_json::Error>(all)
        })?
    };
    Ok(State {
        format: outline.format,
        lineage: outline.lineage,
        serial: outline.serial,
        // Sorted and without duplicates (they came from a map): built node by full node.
        resources: parsed.into_iter().collect(),
        outputs: outline.outputs,
        history: outline.history,
    })
}

fn parse_records(
    records: &[(String, &RawValue)],
) -> serde_json::Result<Vec<(String, ResourceState)>> {
    records
        .iter()
        .map(|(address, raw)| Ok((address.clone(), serde_json::from_str(raw.get())?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeclKind, Status};
    use serde_json::json;

    fn record(address: &str) -> ResourceState {
        ResourceState {
            address: address.into(),
            type_name: "core:data".into(),
            mode: DeclKind::Resource,
            id: Some(format!("id-{address}")),
            inputs: json!({"input": {"b": 1, "a": [1, 2.5, "x"]}}),
            attributes: json!({"id": format!("id-{address}"), "output": {"b": 1, "a": null}}),
            dependencies: vec!["dep".into()],
            sensitive_paths: vec!["input.b".into()],
            status: Status::Created,
            deposed: false,
            settings: Some(json!({"cluster": "c"})),
        }
    }

    #[test]
    fn a_large_snapshot_parses_as_serde_json_parses_it() {
        let mut state = State::new();
        for i in 0..PARALLEL_FROM + 7 {
            let r = record(&format!("r{i:05}"));
            state.resources.insert(r.address.clone(), r);
        }
        state.outputs.insert(
            "o".into(),
            OutputState {
                value: json!({"z": 1, "a": 2}),
                sensitive: true,
            },
        );
        state.history.push(HistoryEntry {
            address: "action.a".into(),
            action: "k8s:rollout-restart".into(),
            at: "t".into(),
            outcome: "ok".into(),
        });
        let bytes = serde_json::to_vec_pretty(&state).unwrap();
        let slow: State = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(State::from_json_slice(&bytes).unwrap(), slow);
        assert_eq!(slow, state);
    }

    #[test]
    fn errors_are_those_of_the_whole_document() {
        let mut state = State::new();
        for i in 0..PARALLEL_FROM + 1 {
            let r = record(&format!("r{i:05}"));
            state.resources.insert(r.address.clone(), r);
        }
        let text = serde_json::to_string_pretty(&state).unwrap();
        // A record whose status is not one: the error names the line in the file.
        let broken = text.replacen("\"created\"", "\"made\"", 1500);
        let slow = serde_json::from_slice::<State>(broken.as_bytes()).unwrap_err();
        let fast = State::from_json_slice(broken.as_bytes()).unwrap_err();
        assert_eq!(fast.to_string(), slow.to_string());
        assert!(fast.line() > 1, "{fast}");
        // Not JSON at all.
        let e = State::from_json_slice(b"{\"format\": ").unwrap_err();
        assert!(e.is_eof(), "{e}");
    }
}
