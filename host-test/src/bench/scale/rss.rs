//! The process's resident memory, from `/proc/self/status`: the peak (`VmHWM`) can be reset
//! to the current size by writing `5` to `/proc/self/clear_refs` (Linux), so the growth of
//! one operation's peak can be read.

/// Resets the peak to the current resident size; returns that size in bytes. `None` where
/// there is no `/proc` or it cannot be written.
pub fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_bytes("VmRSS")
}

/// The peak resident size since the last [`reset_peak`] (or the start), in bytes.
pub fn peak() -> Option<u64> {
    status_bytes("VmHWM")
}

/// A `Key:   1234 kB` line of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse(&status, key)
}

fn parse(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.split(':').next() == Some(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_status_line_in_bytes() {
        let status = "Name:\tx\nVmHWM:\t   2048 kB\nVmRSS:\t   1024 kB\n";
        assert_eq!(parse(status, "VmHWM"), Some(2 << 20));
        assert_eq!(parse(status, "VmRSS"), Some(1 << 20));
        assert_eq!(parse(status, "VmSize"), None);
    }
}
