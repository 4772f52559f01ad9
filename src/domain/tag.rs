//! Tag handles: trimmed, lower-case, each run of inner whitespace turned into one `-`.

/// The normal form of a tag handle.
pub(crate) fn normalize_handle(raw: &str) -> String {
    raw.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_trimmed_lowered_and_hyphenated() {
        assert_eq!(normalize_handle("  VIP  Customer "), "vip-customer");
        assert_eq!(normalize_handle("New\t\nArrivals"), "new-arrivals");
        assert_eq!(normalize_handle("already-normal"), "already-normal");
        assert_eq!(normalize_handle("   "), "");
    }
}
