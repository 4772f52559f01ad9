//! The mutation root: every write of the API, one file per noun.
//!
//! Each mutation validates its input without the database (collecting every problem
//! with its path; a profile's input by converting it one to one into the service's
//! plain input, whose `validate` holds the rules), then calls one service function, which runs one transaction and adds
//! the problems only the database can find. Problems come back as `userErrors` and
//! nothing is written; failures are GraphQL errors.

pub(crate) mod import;
pub(crate) mod input;
mod labels;
pub(crate) mod merge;
mod owned;
mod preferences;
mod profile;
mod reference;
mod user_error;
mod webhook;

use crate::graphql::errors::Result;
use async_graphql::{Context, MergedObject};

use crate::service::error::Error;
use crate::service::runtime::Services;
pub(crate) use user_error::UserError;

/// Writes: profiles, what they own, and reference data.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    profile::ProfileMutation,
    import::ImportMutation,
    owned::OwnedMutation,
    labels::LabelMutation,
    merge::MergeMutation,
    preferences::PreferenceMutation,
    reference::ReferenceMutation,
    webhook::WebhookMutation,
);

/// The app's services (the database, the clock, the notifier), which writes begin on.
fn db<'a>(ctx: &Context<'a>) -> Result<&'a Services> {
    Ok(ctx.data::<Services>()?)
}

/// A mutation payload: the changed records, or the problems with the input.
pub(crate) trait Payload: Sized {
    fn failed(user_errors: Vec<UserError>) -> Self;
}

/// The payload of a service result: `ok` builds it from a success; user errors go in
/// `userErrors`; failures become GraphQL errors.
pub(crate) fn respond<T, P: Payload>(result: crate::service::error::Result<T>, ok: impl FnOnce(T) -> P) -> Result<P> {
    match result {
        Ok(value) => Ok(ok(value)),
        Err(Error::User(errors)) => Ok(P::failed(errors.into_iter().map(UserError::from).collect())),
        Err(error) => Err(error.into()),
    }
}

/// Declares a payload type: `payload!(Name, "doc", field: Type "field doc", …)`.
/// Every field is null when the mutation did not happen.
macro_rules! payload {
    ($name:ident, $doc:expr, $($field:ident : $ty:ty => $field_doc:expr),+ $(,)?) => {
        #[doc = $doc]
        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $name {
            $(#[doc = $field_doc] pub $field: Option<$ty>,)+
            /// Problems with the input. When there are any, nothing was written.
            pub user_errors: Vec<crate::graphql::mutation::UserError>,
        }

        impl crate::graphql::mutation::Payload for $name {
            fn failed(user_errors: Vec<crate::graphql::mutation::UserError>) -> Self {
                $name { $($field: None,)+ user_errors }
            }
        }
    };
}
pub(crate) use payload;

payload!(ProfilePayload, "The result of a profile mutation.", profile: crate::graphql::types::profile::Profile => "The profile after the mutation.");

/// The payload of a mutation that changed one profile.
fn profile_payload(profile: entity::profile::Model) -> ProfilePayload {
    ProfilePayload { profile: Some(profile.into()), user_errors: Vec::new() }
}
