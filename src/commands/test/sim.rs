//! The simulated cloud a test file runs against: a fresh in-process one per file (instant
//! latency unless `PLINTH_SIM_LATENCY` says otherwise, its world kept in memory only), or the
//! running `plinth sim serve` that `--sim URL` names.

use plinth_config::DriftChange;

use crate::error::CliError;
use crate::workspace::Loaded;
use crate::{Common, IN_PROCESS};

/// A simulated cloud for one test file.
pub(super) struct Cloud {
    /// Where providers reach it.
    pub url: String,
    /// Set when started here: stopped after the file.
    handle: Option<plinth_sim::SimHandle>,
}

impl Cloud {
    /// The cloud `--sim` names, or a fresh in-process one.
    pub(super) async fn start(common: &Common) -> Result<Cloud, CliError> {
        if let Some(url) = common.sim.as_deref().filter(|u| *u != IN_PROCESS) {
            return Ok(Cloud {
                url: url.trim_end_matches('/').to_string(),
                handle: None,
            });
        }
        let latency = match std::env::var("PLINTH_SIM_LATENCY") {
            Ok(l) => l
                .parse()
                .map_err(|e: String| CliError::msg(format!("PLINTH_SIM_LATENCY: {e}")))?,
            Err(_) => plinth_sim::Latency::Instant,
        };
        let config = plinth_sim::SimConfig {
            latency,
            world_file: None,
            ..Default::default()
        };
        let cannot =
            |e: std::io::Error| CliError::msg(format!("cannot start the simulated cloud: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(cannot)?;
        let handle = plinth_sim::start(listener, config).await.map_err(cannot)?;
        Ok(Cloud {
            url: handle.url.clone(),
            handle: Some(handle),
        })
    }

    /// Lets simulated time pass until the clusters' controllers (Jobs, KEDA) have nothing
    /// left to do: `POST /_sim/settle`.
    pub(super) async fn settle(&self) -> Result<(), String> {
        match self.request("POST", "/_sim/settle", "").await {
            Some(200) => Ok(()),
            _ => Err(format!(
                "the simulated cloud at {} did not settle (POST /_sim/settle failed)",
                self.url
            )),
        }
    }

    /// Changes the ARM object `id` outside plinth (`[[run.drift]]`), as someone in the
    /// portal would: a JSON merge patch, or a delete.
    pub(super) async fn drift(&self, id: &str, change: &DriftChange) -> Result<(), String> {
        let path = format!("/_sim/resources{id}");
        let status = match change {
            DriftChange::Patch(patch) => self.request("PATCH", &path, &patch.to_string()).await,
            DriftChange::Delete => self.request("DELETE", &path, "").await,
        };
        match status {
            Some(s) if (200..300).contains(&s) => Ok(()),
            Some(404) => Err(format!("the simulated cloud has no object {id} to change")),
            other => Err(format!(
                "changing {id} in the simulated cloud failed ({})",
                other.map_or("no answer".to_string(), |s| format!("status {s}"))
            )),
        }
    }

    /// One HTTP/1.1 request with a JSON body: its status; `None` when the cloud did not
    /// answer within a minute.
    async fn request(&self, method: &str, path: &str, body: &str) -> Option<u16> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.url.trim_start_matches("http://");
        let host = host.split('/').next().unwrap_or(host);
        let exchange = async {
            let mut s = tokio::net::TcpStream::connect(host).await.ok()?;
            let req = format!(
                "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await.ok()?;
            let mut head = [0u8; 12];
            s.read_exact(&mut head).await.ok()?;
            std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), exchange)
            .await
            .ok()
            .flatten()
    }

    /// Stops an in-process cloud.
    pub(super) async fn stop(self) {
        if let Some(h) = self.handle {
            let _ = h.shutdown().await;
        }
    }
}

/// Points the providers of `loaded` at `cloud` (checking that it answers).
pub(super) async fn attach(
    loaded: &mut Loaded,
    cloud: &Cloud,
    common: &Common,
) -> Result<(), CliError> {
    let common = Common {
        sim: Some(cloud.url.clone()),
        // The test report is the command's only output on stdout.
        json: false,
        ..common.clone()
    };
    let how = if cloud.handle.is_some() {
        "started in-process for this test file"
    } else {
        "a running `plinth sim serve`"
    };
    let url = cloud.url.trim_end_matches('/').to_string();
    crate::workspace::attach_sim_at(loaded, &common, url, how).await
}
