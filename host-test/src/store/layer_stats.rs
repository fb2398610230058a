//! What a store's protocol layers did (the component's `stats()`), and the one-line report
//! of `kloset-oci --stats`.

use crate::net::stats::RequestStats;

/// Counts the component keeps since `connect`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Requests sent again after a passing fault (connection error, 408, 429, 5xx).
    pub retries: u64,
    /// Redirects followed.
    pub redirects: u64,
    /// Tokens asked for, and credentials sent again, after the registry asked.
    pub credential_renewals: u64,
}

/// `requests 7 (GET 3, POST 2, PUT 2), retries 0, redirects 0, credential renewals 1,
/// bytes sent 1234, bytes received 56` (methods with no request are left out).
pub fn stats_line(requests: &RequestStats, layers: &LayerStats) -> String {
    let methods: Vec<String> = [
        ("GET", requests.get),
        ("HEAD", requests.head),
        ("POST", requests.post),
        ("PUT", requests.put),
        ("PATCH", requests.patch),
        ("DELETE", requests.delete),
        ("other", requests.other),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(method, n)| format!("{method} {n}"))
    .collect();
    let by_method = if methods.is_empty() {
        String::new()
    } else {
        format!(" ({})", methods.join(", "))
    };
    format!(
        "requests {}{by_method}, refused {}, retries {}, redirects {}, credential renewals {}, \
         bytes sent {}, bytes received {}",
        requests.requests(),
        requests.refused,
        layers.retries,
        layers.redirects,
        layers.credential_renewals,
        requests.bytes_sent,
        requests.bytes_received,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_every_figure() {
        let requests = RequestStats {
            get: 3,
            put: 2,
            bytes_sent: 10,
            bytes_received: 20,
            ..RequestStats::default()
        };
        let layers = LayerStats {
            retries: 4,
            redirects: 1,
            credential_renewals: 2,
        };
        assert_eq!(
            stats_line(&requests, &layers),
            "requests 5 (GET 3, PUT 2), refused 0, retries 4, redirects 1, credential renewals 2, \
             bytes sent 10, bytes received 20"
        );
    }
}
