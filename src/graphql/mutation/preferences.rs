//! Communication preferences, appearance and custom attributes.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::enums::VerificationState;
use entity::{appearance, comms};
use uuid::Uuid;

use super::input::{plain, text};
use super::{ProfilePayload, db, payload, respond};
use crate::domain::validate::{self, MAX_NAME, Path, Problems};
use crate::graphql::types::profile::Profile;
use crate::service::draft::{AppearanceChanges, CommsChanges, Patch};
use crate::service::profiles::preferences::{self, AttributeChange};

payload!(CommsPayload, "The result of `updateComms`.",
    comms: comms::Model => "The communication preferences after the mutation.",
    profile: Profile => "The profile they belong to, after the mutation.");
payload!(AppearancePayload, "The result of `updateAppearance`.",
    appearance: appearance::Model => "The appearance after the mutation.",
    profile: Profile => "The profile it belongs to, after the mutation.");

/// `hair_colour` → `hairColour`: the GraphQL name of a field, for error paths.
fn camel_case(snake: &str) -> String {
    let mut words = snake.split('_');
    let first = words.next().unwrap_or_default().to_owned();
    words.fold(first, |mut name, word| {
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            name.extend(c.to_uppercase());
            name.push_str(chars.as_str());
        }
        name
    })
}

/// Declares `CommsInput` from the comms flags and verification fields, listed once.
macro_rules! comms_input {
    (flags: $($flag:ident),* ; verifications: $($verification:ident),* $(;)?) => {
        /// Changes to communication preferences: an omitted field is left as it is.
        #[derive(InputObject, Default, Clone)]
        pub struct CommsInput {
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

        impl CommsInput {
            /// Sets the columns this input changes on `row`.
            pub fn apply(&self, problems: &mut Problems, path: &Path, row: &mut CommsChanges) {
                $(if let Some(value) = self.$flag { row.$flag = Patch::Set(value); })*
                $(if let Some(value) = self.$verification { row.$verification = Patch::Set(value); })*
                let accepted = path.key("termsAcceptedAt");
                validate::instant(problems, &accepted, self.terms_accepted_at.value());
                row.terms_accepted_at = plain(&self.terms_accepted_at);
                let version = path.key("termsAcceptedVersion");
                row.terms_accepted_version = text(problems, &version, &self.terms_accepted_version, MAX_NAME);
            }
        }
    };
}

comms_input! {
    flags:
    email_optout, email_bounced, email_promo, email_discover, email_benefits, email_reminders, email_account, email_bookings, email_feedback, email_location, email_service,
    sms_optout, sms_bounced, sms_promo, sms_discover, sms_benefits, sms_reminders, sms_account, sms_bookings, sms_feedback, sms_location, sms_service,
    push_optout, push_bounced, push_promo, push_discover, push_benefits, push_reminders, push_account, push_bookings, push_feedback, push_location, push_service,
    phone_optout, phone_bounced, phone_promo, phone_discover, phone_benefits, phone_reminders, phone_account, phone_bookings, phone_feedback, phone_location, phone_service,
    post_optout, post_bounced, post_promo, post_discover, post_benefits, post_reminders, post_account, post_bookings, post_feedback, post_location, post_service;
    verifications: email_verification, sms_verification, phone_verification, post_verification;
}

/// Declares `AppearanceInput` from the appearance fields, listed once.
macro_rules! appearance_input {
    ($($field:ident),* $(,)?) => {
        /// Changes to appearance and sizes: an omitted field is left as it is, `null`
        /// clears it. Each value at most 100 characters.
        #[derive(InputObject, Default, Clone)]
        pub struct AppearanceInput {
            $(
                #[doc = "New value of the `Appearance` field of the same name."]
                pub $field: MaybeUndefined<String>,
            )*
        }

        impl AppearanceInput {
            /// Sets the columns this input changes on `row`.
            pub fn apply(&self, problems: &mut Problems, path: &Path, row: &mut AppearanceChanges) {
                $(row.$field = text(problems, &path.key(&camel_case(stringify!($field))), &self.$field, MAX_NAME);)*
            }
        }
    };
}

appearance_input! {
    hair_colour, hair_length, shape_body, shape_face, size_cup,
    size_hat, size_formal_jacket, size_formal_jacket_length, size_formal_shirt, size_formal_shirt_fit,
    size_formal_trouser, size_formal_trouser_drop, size_formal_trouser_leg, size_jacket, size_pant,
    size_shoe, size_type_age, size_type_region, size_top, skin_type,
    measurement_arm, measurement_arm_inside, measurement_bust, measurement_chest, measurement_foot_length,
    measurement_head, measurement_height, measurement_hip, measurement_leg_inside, measurement_leg_outside,
    measurement_neck, measurement_neck_to_wrist, measurement_shoulders, measurement_waist, measurement_weight,
}

/// One custom attribute to set or remove.
#[derive(InputObject)]
pub struct CustomAttributeInput {
    /// Namespace: 1–64 of a-z, 0-9, `-` and `_`.
    pub namespace: String,
    /// Handle within the namespace: 1–64 of a-z, 0-9, `-` and `_`.
    pub handle: String,
    /// The value (any JSON, at most 10 KiB); null removes the attribute.
    pub value: Option<serde_json::Value>,
}

#[derive(Default)]
pub struct PreferenceMutation;

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
        let mut problems = Problems::default();
        let mut columns = CommsChanges::default();
        input.apply(&mut problems, &Path::root("input"), &mut columns);
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
        let mut problems = Problems::default();
        let mut columns = AppearanceChanges::default();
        input.apply(&mut problems, &Path::root("input"), &mut columns);
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

#[cfg(test)]
mod tests {
    #[test]
    fn camel_case_follows_graphql_names() {
        assert_eq!(super::camel_case("hair_colour"), "hairColour");
        assert_eq!(super::camel_case("measurement_neck_to_wrist"), "measurementNeckToWrist");
        assert_eq!(super::camel_case("skin"), "skin");
    }
}
