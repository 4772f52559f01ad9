//! Communication preferences, appearance and custom attributes. The comms and
//! appearance inputs convert one to one into the service's plain inputs, which hold
//! the rules and the field lists.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::enums::VerificationState;
use entity::{appearance, comms};
use uuid::Uuid;

use super::{ProfilePayload, db, payload, respond};
use crate::domain::validate::{self, Path, Problems};
use crate::graphql::types::profile::Profile;
use crate::service::profiles::input::preferences::{self as plain, with_appearance_fields, with_comms_fields};
use crate::service::profiles::preferences::{self, AttributeChange};

payload!(CommsPayload, "The result of `updateComms`.",
    comms: comms::Model => "The communication preferences after the mutation.",
    profile: Profile => "The profile they belong to, after the mutation.");
payload!(AppearancePayload, "The result of `updateAppearance`.",
    appearance: appearance::Model => "The appearance after the mutation.",
    profile: Profile => "The profile it belongs to, after the mutation.");

/// Declares `CommsInput` from the comms flags and verification fields the service's
/// input lists.
macro_rules! comms_input {
    (flags: $($flag:ident),* ; verifications: $($verification:ident),* $(;)?) => {
        /// Changes to communication preferences: an omitted field is left as it is.
        #[derive(InputObject, Default, Clone)]
        pub(crate) struct CommsInput {
            $(
                #[doc = "New value of the `Comms` flag of the same name."]
                pub $flag: Option<bool>,
            )*
            $(
                #[doc = "New state of the `Comms` verification of the same name."]
                pub $verification: Option<VerificationState>,
            )*
            /// When the customer accepted the terms (UTC); `null` clears it.
            pub terms_accepted_at: MaybeUndefined<DateTime<Utc>>,
            /// Which version of the terms the customer accepted (at most 100 characters);
            /// `null` clears it.
            pub terms_accepted_version: MaybeUndefined<String>,
        }

        /// One to one: the service's input holds the rules.
        impl From<CommsInput> for plain::CommsInput {
            fn from(input: CommsInput) -> Self {
                plain::CommsInput {
                    $($flag: input.$flag.into(),)*
                    $($verification: input.$verification.into(),)*
                    terms_accepted_at: input.terms_accepted_at.into(),
                    terms_accepted_version: input.terms_accepted_version.into(),
                }
            }
        }
    };
}

with_comms_fields!(comms_input);

/// Declares `AppearanceInput` from the appearance fields the service's input lists.
macro_rules! appearance_input {
    ($($field:ident),* $(,)?) => {
        /// Changes to appearance and sizes: an omitted field is left as it is, `null`
        /// clears it. Each value at most 100 characters.
        #[derive(InputObject, Default, Clone)]
        pub(crate) struct AppearanceInput {
            $(
                #[doc = "New value of the `Appearance` field of the same name."]
                pub $field: MaybeUndefined<String>,
            )*
        }

        /// One to one: the service's input holds the rules.
        impl From<AppearanceInput> for plain::AppearanceInput {
            fn from(input: AppearanceInput) -> Self {
                plain::AppearanceInput { $($field: input.$field.into(),)* }
            }
        }
    };
}

with_appearance_fields!(appearance_input);

/// One custom attribute to set or remove.
#[derive(InputObject)]
pub(crate) struct CustomAttributeInput {
    /// Namespace: 1–64 of a-z, 0-9, `-` and `_`.
    pub namespace: String,
    /// Handle within the namespace: 1–64 of a-z, 0-9, `-` and `_`.
    pub handle: String,
    /// The value (any JSON, at most 10 KiB); null removes the attribute.
    pub value: Option<serde_json::Value>,
}

#[derive(Default)]
pub(crate) struct PreferenceMutation;

/// Mutations of communication preferences, appearance and custom attributes.
#[Object(guard = "Scoped::MUTATION")]
impl PreferenceMutation {
    /// Changes a profile's communication preferences.
    #[graphql(requires_scopes = "profiles:write")]
    async fn update_comms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "The changes.")] input: CommsInput,
    ) -> Result<CommsPayload> {
        let (columns, problems) = plain::CommsInput::from(input).validate();
        respond(preferences::update_comms(db(ctx)?, profile_id, columns, problems).await, |(comms, profile)| {
            CommsPayload { comms: Some(comms), profile: Some(profile.into()), user_errors: Vec::new() }
        })
    }

    /// Changes a profile's appearance and sizes.
    #[graphql(requires_scopes = "profiles:write")]
    async fn update_appearance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "The changes.")] input: AppearanceInput,
    ) -> Result<AppearancePayload> {
        let (columns, problems) = plain::AppearanceInput::from(input).validate();
        respond(
            preferences::update_appearance(db(ctx)?, profile_id, columns, problems).await,
            |(appearance, profile)| AppearancePayload {
                appearance: Some(appearance),
                profile: Some(profile.into()),
                user_errors: Vec::new(),
            },
        )
    }

    /// Sets or removes single custom attributes, in order; a namespace left empty goes.
    /// (`updateProfile` with `customAttributes` replaces them all.)
    #[graphql(requires_scopes = "profiles:write")]
    async fn set_custom_attributes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "The attributes to set (a value) or remove (null); at most 250.")] attributes: Vec<
            CustomAttributeInput,
        >,
    ) -> Result<ProfilePayload> {
        let mut problems = Problems::default();
        let path = Path::root("attributes");
        validate::list_len(&mut problems, &path, attributes.len());
        let changes = attributes
            .into_iter()
            .enumerate()
            .map(|(i, attribute)| {
                let at = path.index(i);
                validate::attribute_key(&mut problems, &at.key("namespace"), &attribute.namespace);
                validate::attribute_key(&mut problems, &at.key("handle"), &attribute.handle);
                if let Some(value) = &attribute.value {
                    validate::attribute_value(&mut problems, &at.key("value"), value);
                }
                AttributeChange { namespace: attribute.namespace, handle: attribute.handle, value: attribute.value }
            })
            .collect();
        respond(preferences::set_custom_attributes(db(ctx)?, profile_id, changes, problems).await, |profile| {
            ProfilePayload { profile: Some(profile.into()), user_errors: Vec::new() }
        })
    }
}
