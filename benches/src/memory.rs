//! This process's memory, as the kernel counts it.

/// `(current RSS, peak RSS)` in bytes, from `/proc/self/status`; zeros where
/// that file does not exist.
pub fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        let (now, peak) = super::rss();
        assert!(now > 0 && peak >= now, "rss {now} peak {peak}");
    }
}
