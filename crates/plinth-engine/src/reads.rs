//! Reading objects, alone or in batches: refresh and the plan's existence checks hand every
//! read here. Objects a provider can read from one collection (equal
//! [`Provider::batch_key`]s and equal settings) go to [`Provider::read_batch`] together, so
//! that 1,000 identities in one resource group cost a few list pages instead of 1,000 GETs;
//! the rest are read alone with [`Provider::read`]. Either way every object gets the answer
//! its own read would have given (the provider's contract), so batching changes only the
//! requests made, never the plan.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use tokio::task::{JoinError, JoinSet};

use plinth_provider::{BatchRead, Observed, Prior, Provider, ProviderError, Reporter, Request};
use plinth_value::Value;

/// How to read: how many reads (or batches) run at once, and whether objects may be read in
/// batches at all (`false`: every object with its own request, to compare or to diagnose).
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// Reads or batches in flight at once (at least one).
    pub parallelism: usize,
    /// Objects that share a collection are read together.
    pub batch: bool,
}

/// One object to read.
pub(crate) struct Read {
    pub(crate) provider: Arc<dyn Provider>,
    /// The type without the provider prefix.
    pub(crate) type_name: String,
    pub(crate) address: String,
    /// The provider's settings for this object.
    pub(crate) settings: Value,
    pub(crate) prior: Prior,
    /// State records the object (refresh), rather than a planned create's existence check.
    pub(crate) recorded: bool,
}

/// A read's answer, with the address and prior it was asked for.
pub(crate) type Answer = (String, Prior, Result<Option<Observed>, ProviderError>);

/// Splits `reads` into batches: objects with the same provider, batch key and settings
/// together (in the order they came), every other object alone. With `batch` off, each
/// object alone.
pub(crate) fn batches(reads: Vec<Read>, batch: bool, reporter: &dyn Reporter) -> Vec<Vec<Read>> {
    if !batch {
        return reads.into_iter().map(|r| vec![r]).collect();
    }
    let mut out: Vec<Vec<Read>> = Vec::new();
    let mut by_key: HashMap<(String, String, String), usize> = HashMap::new();
    for r in reads {
        let req = Request::new(&r.type_name, &r.address, reporter).with_settings(&r.settings);
        let Some(key) = r.provider.batch_key(&req, &r.prior) else {
            out.push(vec![r]);
            continue;
        };
        let key = (
            r.provider.name().to_string(),
            key,
            r.settings.to_json().to_string(),
        );
        match by_key.get(&key) {
            Some(&i) => out[i].push(r),
            None => {
                by_key.insert(key, out.len());
                out.push(vec![r]);
            }
        }
    }
    interleave(out)
}

/// The order batches start in: the biggest first (a list of many pages is a chain of
/// requests, best begun early), and the providers taking turns, so that one provider's
/// thousand reads do not queue another's few behind them (a cluster's credentials, then its
/// lists, are a chain too). Only the order changes, never an answer.
fn interleave(mut batches: Vec<Vec<Read>>) -> Vec<Vec<Read>> {
    // Stable: batches of one size keep the order they came in (address order).
    batches.sort_by_key(|b| std::cmp::Reverse(b.len()));
    let mut by_provider: Vec<(String, std::collections::VecDeque<Vec<Read>>)> = Vec::new();
    for b in batches {
        let name = b
            .first()
            .map(|r| r.provider.name().to_string())
            .unwrap_or_default();
        match by_provider.iter_mut().find(|(n, _)| *n == name) {
            Some((_, q)) => q.push_back(b),
            None => by_provider.push((name, std::collections::VecDeque::from([b]))),
        }
    }
    let mut out = Vec::new();
    while by_provider.iter().any(|(_, q)| !q.is_empty()) {
        for (_, q) in &mut by_provider {
            if let Some(b) = q.pop_front() {
                out.push(b);
            }
        }
    }
    out
}

/// Reads one batch: a lone object with `read`, more with `read_batch`. One answer per
/// object, in the batch's order. A provider answering a batch with the wrong number of
/// answers is a bug in it; every object it left unanswered gets an error saying so.
pub(crate) async fn read_all(batch: Vec<Read>, reporter: &dyn Reporter) -> Vec<Answer> {
    if let [one] = batch.as_slice() {
        let req = Request::new(&one.type_name, &one.address, reporter).with_settings(&one.settings);
        let res = one.provider.read(&req, &one.prior).await;
        let one = batch.into_iter().next().expect("one read");
        return vec![(one.address, one.prior, res)];
    }
    let Some(first) = batch.first() else {
        return Vec::new();
    };
    let provider = first.provider.clone();
    let requests: Vec<BatchRead<'_>> = batch
        .iter()
        .map(|r| BatchRead {
            req: Request::new(&r.type_name, &r.address, reporter).with_settings(&r.settings),
            prior: &r.prior,
            recorded: r.recorded,
        })
        .collect();
    let mut answers = provider.read_batch(&requests).await.into_iter();
    drop(requests);
    batch
        .into_iter()
        .map(|r| {
            let res = answers.next().unwrap_or_else(|| {
                Err(ProviderError::new(format!(
                    "the {} provider answered a batch read without an answer for this object",
                    provider.name()
                )))
            });
            (r.address, r.prior, res)
        })
        .collect()
}

/// Reads batches with at most `parallelism` in flight, started in the order given (the order
/// [`batches`] chose): a task is spawned only when a slot is free, so the order holds — tasks
/// spawned all at once behind a semaphore would take their permits in whatever order the
/// runtime first polls them (its local queues overflow into a global one).
pub(crate) struct Reader {
    waiting: VecDeque<Vec<Read>>,
    running: JoinSet<Vec<Answer>>,
    parallelism: usize,
    reporter: Arc<dyn Reporter>,
}

impl Reader {
    /// A reader of `batches`, none started yet.
    pub(crate) fn new(
        batches: Vec<Vec<Read>>,
        parallelism: usize,
        reporter: Arc<dyn Reporter>,
    ) -> Self {
        Reader {
            waiting: batches.into(),
            running: JoinSet::new(),
            parallelism: parallelism.max(1),
            reporter,
        }
    }

    /// The answers of the next batch to finish (starting more while slots are free);
    /// `None` once every batch has been answered.
    pub(crate) async fn next(&mut self) -> Option<Result<Vec<Answer>, JoinError>> {
        while self.running.len() < self.parallelism {
            let Some(batch) = self.waiting.pop_front() else {
                break;
            };
            let reporter = self.reporter.clone();
            self.running
                .spawn(async move { read_all(batch, reporter.as_ref()).await });
        }
        self.running.join_next().await
    }
}
