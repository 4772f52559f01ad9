//! API tokens and scopes.
//!
//! A token is `pgw_` and 43 characters of base64url: 32 random bytes from the
//! operating system. Only its SHA-256 is stored, which is enough for a secret with
//! 256 bits of entropy (no salt or slow hash is needed to resist guessing).
//!
//! Scopes: `profiles:read` for queries; `profiles:write` for profile mutations (and,
//! so that a writer can read what it wrote, everything read allows); `profiles:merge`
//! for merging duplicates (`previewMerge`, `mergeProfiles`: merges cannot be undone, so
//! neither read nor write implies it; it implies read, as write does); `admin` for
//! reference data, and everything else.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Whether requests must carry an API token.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// Required on a non-loopback address; off on a loopback one (with a warning).
    #[default]
    Auto,
    /// Always required.
    Required,
    /// Never required; refused on a non-loopback address.
    Off,
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    ProfilesRead,
    ProfilesWrite,
    ProfilesMerge,
    Admin,
}

impl Scope {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::ProfilesRead => "profiles:read",
            Scope::ProfilesWrite => "profiles:write",
            Scope::ProfilesMerge => "profiles:merge",
            Scope::Admin => "admin",
        }
    }

    pub(crate) const ALL: [Scope; 4] = [Scope::ProfilesRead, Scope::ProfilesWrite, Scope::ProfilesMerge, Scope::Admin];
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text.trim()).ok_or_else(|| {
            format!("unknown scope `{text}`: use profiles:read, profiles:write, profiles:merge or admin")
        })
    }
}

/// The API token a request is made with, as change events record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub token_id: i32,
    pub token_name: String,
}

impl Actor {
    /// The actor a row records in its two columns; none unless both are set.
    pub fn from_columns(token_id: Option<i32>, token_name: Option<String>) -> Option<Actor> {
        Some(Actor { token_id: token_id?, token_name: token_name? })
    }
}

/// Who is calling: the scopes they hold, and the token they hold them by (none when
/// authentication is off). Every request carries one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    scopes: BTreeSet<Scope>,
    actor: Option<Actor>,
}

impl Caller {
    /// A caller holding `scopes`, by no token.
    pub(crate) fn with(scopes: impl IntoIterator<Item = Scope>) -> Caller {
        Caller { scopes: scopes.into_iter().collect(), actor: None }
    }

    /// This caller, holding its scopes by token `actor`.
    pub(crate) fn by(self, actor: Actor) -> Caller {
        Caller { actor: Some(actor), ..self }
    }

    /// The token the caller holds its scopes by.
    pub(crate) fn actor(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    /// The caller when authentication is off: allowed everything.
    pub fn anyone() -> Caller {
        Caller::with(Scope::ALL)
    }

    /// Whether the caller may do what `needed` allows.
    pub(crate) fn may(&self, needed: Scope) -> bool {
        self.scopes.contains(&Scope::Admin)
            || self.scopes.contains(&needed)
            || (needed == Scope::ProfilesRead
                && (self.scopes.contains(&Scope::ProfilesWrite) || self.scopes.contains(&Scope::ProfilesMerge)))
    }
}

/// Parses `profiles:read,admin` into scopes.
pub(crate) fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let scopes: Vec<Scope> =
        text.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    if scopes.is_empty() {
        return Err("give at least one scope".to_owned());
    }
    Ok(scopes)
}

/// The stored form of scopes.
pub(crate) fn format_scopes(scopes: &[Scope]) -> String {
    let unique: BTreeSet<Scope> = scopes.iter().copied().collect();
    unique.into_iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
}

/// A new random secret.
pub(crate) fn new_secret() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(format!("pgw_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What is stored of a secret.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The secret of an `Authorization: Bearer …` header value.
pub(crate) fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// Whether a server listening on `listen` is reachable from this machine only: tokens
/// are then optional under `auto`, and webhooks may target loopback.
pub(crate) fn on_loopback(listen: SocketAddr) -> bool {
    listen.ip().is_loopback()
}

/// Whether requests must carry a token, for a server listening on `listen`; an error
/// for a configuration that would expose profiles without one.
pub(crate) fn required(mode: AuthMode, listen: SocketAddr) -> Result<bool, String> {
    match (mode, on_loopback(listen)) {
        (AuthMode::Required, _) | (AuthMode::Auto, false) => Ok(true),
        (AuthMode::Auto, true) => Ok(false),
        (AuthMode::Off, true) => Ok(false),
        (AuthMode::Off, false) => Err(format!(
            "PROFILES_AUTH=off on {listen}, which is not a loopback address: refusing to serve profiles without tokens"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_reads_and_admin_does_everything() {
        let reader = Caller::with([Scope::ProfilesRead]);
        assert!(reader.may(Scope::ProfilesRead) && !reader.may(Scope::ProfilesWrite) && !reader.may(Scope::Admin));
        let writer = Caller::with([Scope::ProfilesWrite]);
        assert!(writer.may(Scope::ProfilesRead) && writer.may(Scope::ProfilesWrite) && !writer.may(Scope::Admin));
        let admin = Caller::with([Scope::Admin]);
        assert!(Scope::ALL.into_iter().all(|s| admin.may(s)));
        // Merging cannot be undone: neither reading nor writing implies it.
        assert!(!reader.may(Scope::ProfilesMerge) && !writer.may(Scope::ProfilesMerge));
        let merger = Caller::with([Scope::ProfilesMerge]);
        assert!(merger.may(Scope::ProfilesMerge) && merger.may(Scope::ProfilesRead));
        assert!(!merger.may(Scope::ProfilesWrite) && !merger.may(Scope::Admin));
        assert!(!Caller::with([]).may(Scope::ProfilesRead));
    }

    #[test]
    fn scopes_parse_and_format() {
        assert_eq!(parse_scopes("profiles:write, profiles:read"), Ok(vec![Scope::ProfilesWrite, Scope::ProfilesRead]));
        assert_eq!(format_scopes(&[Scope::Admin, Scope::ProfilesRead, Scope::Admin]), "profiles:read,admin");
        assert!(parse_scopes("profiles:delete").is_err());
        assert_eq!(parse_scopes("profiles:merge"), Ok(vec![Scope::ProfilesMerge]));
        assert!(parse_scopes(" , ").is_err());
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (new_secret().expect("a secret"), new_secret().expect("a secret"));
        assert_ne!(a, b);
        assert!(a.starts_with("pgw_") && a.len() == 4 + 43);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn tokens_are_required_off_loopback_and_off_cannot_expose() {
        let local: SocketAddr = "127.0.0.1:8000".parse().expect("an address");
        let public: SocketAddr = "0.0.0.0:8000".parse().expect("an address");
        assert_eq!(required(AuthMode::Auto, local), Ok(false));
        assert_eq!(required(AuthMode::Auto, public), Ok(true));
        assert_eq!(required(AuthMode::Required, local), Ok(true));
        assert_eq!(required(AuthMode::Off, local), Ok(false));
        assert!(required(AuthMode::Off, public).is_err());
        assert_eq!(required(AuthMode::Auto, "[::1]:8000".parse().expect("v6")), Ok(false));
    }
}
