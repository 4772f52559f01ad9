//! Global ids (`Node.nodeId`): a record's GraphQL type and its own id in this
//! database, as one opaque string (URL-safe base64 of `Type:id`). Relay refetches any
//! record by it (`Query.node`). It names a row of this database only: another
//! database's records have other ids, so a global id does not travel between them.

use async_graphql::ID;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The global id of the record of GraphQL type `type_name` whose own id is `id`.
pub fn id(type_name: &str, id: impl std::fmt::Display) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// The type name and own id a global id holds; `None` for anything that is not one.
pub fn parse(global: &str) -> Option<(String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(global).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (type_name, id) = text.split_once(':')?;
    Some((type_name.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_global_id_holds_its_type_and_id() {
        let global = super::id("Address", 12);
        assert_eq!(super::parse(&global), Some(("Address".to_owned(), "12".to_owned())));
        assert_eq!(super::parse("not base64!"), None);
        assert_eq!(super::parse(&super::id("", "").0[..0]), None);
    }
}
