//! CSV cells that are safe to open in a spreadsheet (OWASP's "CSV injection"): a cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
//! by Excel, LibreOffice and Google Sheets, so the export writes it with a leading
//! `'`, which they show as text. The import takes exactly that `'` off again, and
//! nothing else: an E.164 phone `+61404123123` is written `'+61404123123` and reads
//! back as it was.
//!
//! A value that itself starts with quotes before such a character (`'=x`) gets one
//! more, so every value survives the round trip unchanged.

/// The characters a spreadsheet starts a formula with.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` is written with a leading `'`: it starts with a trigger, after any
/// quotes.
fn needs_quote(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(TRIGGERS)
}

/// A cell as the export writes it.
pub(crate) fn neutralise(cell: String) -> String {
    if needs_quote(&cell) { format!("'{cell}") } else { cell }
}

/// A cell as the import reads it: the export's `'` taken off, any other cell as it is.
pub(crate) fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_every_value_comes_back() {
        for (value, written) in [
            ("=1+2", "'=1+2"),
            ("+61404123123", "'+61404123123"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("Ann", "Ann"),
            ("'quoted'", "'quoted'"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(value.to_owned()), written, "{value:?}");
            assert_eq!(restore(written), value, "{written:?}");
        }
        // A hand-made file's quote before a formula is taken off; others stay.
        assert_eq!(restore("'+44 20 7946 0958"), "+44 20 7946 0958");
        assert_eq!(restore("'Connor"), "'Connor");
    }
}
