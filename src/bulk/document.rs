//! An NDJSON input that is a JSON document instead: told once, with the `jq` that
//! turns it into NDJSON.

/// An NDJSON input whose first line shows it is one JSON document spread over lines
/// (a lone `{`) or an array: said once for the whole input, not as a "not JSON"
/// reject for each of its lines.
#[derive(Debug)]
pub struct JsonDocument {
    /// An array (`[` first), whose items would be the rows.
    pub array: bool,
}

impl JsonDocument {
    /// What the first line of an NDJSON input says of it, when it is no row.
    pub(super) fn of_first_line(bytes: &[u8]) -> Option<JsonDocument> {
        let text = std::str::from_utf8(bytes.strip_prefix(super::BOM).unwrap_or(bytes)).ok()?.trim();
        match text {
            "{" => Some(JsonDocument { array: false }),
            _ if text.starts_with('[') => Some(JsonDocument { array: true }),
            _ => None,
        }
    }

    /// When `error` is an input found to be a JSON document, the command that turns
    /// `file` into NDJSON.
    pub(crate) fn fix_for(error: &anyhow::Error, file: &std::path::Path) -> Option<String> {
        let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
        Some(inner.downcast_ref::<JsonDocument>()?.fix(file))
    }

    /// The command that turns `file` into NDJSON.
    pub fn fix(&self, file: &std::path::Path) -> String {
        let filter = if self.array { "'.[]'" } else { "." };
        if file == std::path::Path::new("-") {
            return format!("jq -c {filter} | profiles-gateway import -");
        }
        let out = match file.extension() {
            Some(extension) if extension == "ndjson" => file.with_extension("lines.ndjson"),
            _ => file.with_extension("ndjson"),
        };
        format!("jq -c {filter} {} > {}", file.display(), out.display())
    }
}

impl std::fmt::Display for JsonDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.array { "a JSON array" } else { "one JSON document spread over lines" };
        write!(f, "the input is {what}, not NDJSON, which is one JSON object a line")
    }
}

impl std::error::Error for JsonDocument {}

#[cfg(test)]
mod tests {
    use super::JsonDocument;
    use std::path::Path;

    #[test]
    fn the_first_line_tells_a_document_and_the_fix_names_the_file() {
        assert!(JsonDocument::of_first_line(b"{\n").is_some_and(|d| !d.array));
        assert!(JsonDocument::of_first_line(b"\xEF\xBB\xBF [\n").is_some_and(|d| d.array));
        assert!(JsonDocument::of_first_line(b"[{\"email\": \"a@b.example\"}]\n").is_some_and(|d| d.array));
        assert!(JsonDocument::of_first_line(b"{\"email\": \"a@b.example\"}\n").is_none());
        assert!(JsonDocument::of_first_line(b"{}\n").is_none());
        let object = JsonDocument { array: false };
        assert_eq!(object.fix(Path::new("p.json")), "jq -c . p.json > p.ndjson");
        assert_eq!(object.fix(Path::new("p.ndjson")), "jq -c . p.ndjson > p.lines.ndjson");
        assert_eq!(JsonDocument { array: true }.fix(Path::new("-")), "jq -c '.[]' | profiles-gateway import -");
    }
}
