//! A request's query parameters (URL-decoded, in order) and the few the API reads often.

/// A request's query parameters.
pub(super) struct Query(pub Vec<(String, String)>);

impl Query {
    pub(super) fn parse(q: Option<&str>) -> Query {
        let decode = |s: &str| -> String {
            let bytes = s.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                    (b'+', _) => out.push(b' '),
                    (b'%', Some(b)) => {
                        out.push(b);
                        i += 2;
                    }
                    (b, _) => out.push(b),
                }
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        };
        Query(
            q.unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn dry_run(&self) -> bool {
        self.0.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }
}
