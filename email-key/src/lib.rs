//! The one key that every spelling of an email address shares:
//! `ÉLISE@example.com` and `élise@example.com`, `josé` composed (NFC) and
//! decomposed (NFD), `ΑΣ` and `ασ`.
//!
//! Computed here, in Rust, and nowhere else: the database only stores it and compares
//! it bytewise, so it is the same on SQLite (whose `lower` folds ASCII only) and on
//! PostgreSQL (whose `lower` follows the collation). The service derives it whenever it
//! writes an email, and the migration that added the column derived it for the rows
//! already there; a change to this function needs a migration that derives it again.

use unicode_normalization::UnicodeNormalization;

/// The key of `email`: trimmed, composed (NFC), then folded with Unicode's full case
/// folding, and composed again.
///
/// Case folding rather than `to_lowercase`: lower-casing is for display and depends on
/// context (a final `Σ` becomes `ς`, any other `σ`), while folding maps every case
/// variant to one form (`Σ`, `σ` and `ς` all to `σ`; `ß` and `SS` to `ss`). Composing
/// first makes canonically equivalent spellings one string; composing again because
/// folding can decompose (`ΐ` folds to `ι` + two combining marks, while `Ϊ́` folds to
/// `ϊ` + one): both compose back to the same character.
pub fn of(email: &str) -> String {
    let composed: String = email.trim().nfc().collect();
    caseless::default_case_fold_str(&composed).nfc().collect()
}

/// The key of `email` without its sub-address: the key ([`of`]) with the `+tag` of its
/// local part removed, so `Ann+Shop@example.com` and `ann@example.com` share one
/// (`ann@example.com`). The tag runs from the local part's first `+` to its `@`. An
/// address whose local part starts with `+` (nothing before the tag) or that has no
/// `@`, or whose local part is quoted (`"a+b"@…`, where `+` is just a character), is
/// its own base.
///
/// Duplicate candidates compare it (`profile.email_base_key`); like the key, a change
/// here needs a migration that derives it again.
pub fn base_of(email: &str) -> String {
    let key = of(email);
    let Some((local, domain)) = key.rsplit_once('@') else { return key };
    match local.split_once('+') {
        Some((base, _tag)) if !base.is_empty() && !local.starts_with('"') => format!("{base}@{domain}"),
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::{base_of, of};

    #[test]
    fn the_base_drops_the_sub_address_of_the_key() {
        for (email, base, case) in [
            ("ann+shop@example.com", "ann@example.com", "a tag"),
            ("Ann+Shop@Example.COM", "ann@example.com", "a tag, folded"),
            ("ann@example.com", "ann@example.com", "no tag"),
            ("ann+a+b@example.com", "ann@example.com", "from the first plus"),
            ("ann+@example.com", "ann@example.com", "an empty tag"),
            ("+shop@example.com", "+shop@example.com", "nothing before the plus"),
            ("\"a+b\"@example.com", "\"a+b\"@example.com", "a quoted local part"),
            ("ann@ex+ample.com", "ann@ex+ample.com", "a plus in the domain"),
            ("no-at-sign", "no-at-sign", "no @"),
        ] {
            assert_eq!(base_of(email), base, "{case}: {email}");
        }
    }

    #[test]
    fn spellings_of_one_address_share_a_key() {
        let same = [
            ("ÉLISE@example.com", "élise@example.com", "accented capital"),
            ("jos\u{e9}@example.com", "jose\u{301}@example.com", "NFC and NFD"),
            ("JOSE\u{301}@EXAMPLE.COM", "josé@example.com", "NFD capital and NFC small"),
            ("ÄRGER@example.de", "ärger@example.de", "umlaut"),
            ("ΑΣ@example.gr", "ασ@example.gr", "final sigma"),
            ("ας@example.gr", "ασ@example.gr", "final and medial sigma"),
            ("ЖАННА@example.ru", "жанна@example.ru", "Cyrillic"),
            ("ann@BÜCHER.example", "ann@bücher.example", "non-ASCII domain"),
            ("STRASSE@example.de", "straße@example.de", "sharp s, folded in full"),
            ("\u{390}@example.gr", "\u{3aa}\u{301}@example.gr", "folding that decomposes"),
            ("  Ann@Example.COM ", "ann@example.com", "ASCII, with spaces around"),
        ];
        for (a, b, case) in same {
            assert_eq!(of(a), of(b), "{case}: {a} and {b}");
        }
    }

    #[test]
    fn different_addresses_keep_different_keys() {
        assert_ne!(of("jose@example.com"), of("josé@example.com"));
        assert_ne!(of("ann@example.com"), of("anne@example.com"));
    }

    #[test]
    fn the_key_is_composed_and_folded() {
        assert_eq!(of("ΑΣ@Example.GR"), "ασ@example.gr");
        assert_eq!(of("JOSE\u{301}@x.example"), "jos\u{e9}@x.example");
        assert_eq!(of(&of("ÉLISE@example.com")), of("ÉLISE@example.com"), "a key is its own key");
    }
}
