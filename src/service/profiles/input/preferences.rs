//! The inputs of communication preferences and appearance, and their rules. The
//! field lists are kept here once: the GraphQL layer declares its input types from
//! them (`with_comms_fields!`, `with_appearance_fields!`).

use chrono::{DateTime, Utc};
use entity::enums::VerificationState;
use serde::Deserialize;

use super::field::{Checks, Field, optional, plain, read_objects, text};
use crate::domain::validate::{self, MAX_NAME, Path, Problems};
use crate::service::draft::{AppearanceChanges, CommsChanges, Patch};

/// `hair_colour` → `hairColour`: the GraphQL name of a field, for error paths.
pub(crate) fn camel_case(snake: &str) -> String {
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

/// Calls `$then!` with the comms flags and verification fields.
macro_rules! with_comms_fields {
    ($then:path) => {
        $then! {
            flags:
            email_optout, email_bounced, email_promo, email_discover, email_benefits, email_reminders, email_account, email_bookings, email_feedback, email_location, email_service,
            sms_optout, sms_bounced, sms_promo, sms_discover, sms_benefits, sms_reminders, sms_account, sms_bookings, sms_feedback, sms_location, sms_service,
            push_optout, push_bounced, push_promo, push_discover, push_benefits, push_reminders, push_account, push_bookings, push_feedback, push_location, push_service,
            phone_optout, phone_bounced, phone_promo, phone_discover, phone_benefits, phone_reminders, phone_account, phone_bookings, phone_feedback, phone_location, phone_service,
            post_optout, post_bounced, post_promo, post_discover, post_benefits, post_reminders, post_account, post_bookings, post_feedback, post_location, post_service;
            verifications: email_verification, sms_verification, phone_verification, post_verification;
        }
    };
}
pub(crate) use with_comms_fields;

/// Calls `$then!` with the appearance fields.
macro_rules! with_appearance_fields {
    ($then:path) => {
        $then! {
            hair_colour, hair_length, shape_body, shape_face, size_cup,
            size_hat, size_formal_jacket, size_formal_jacket_length, size_formal_shirt, size_formal_shirt_fit,
            size_formal_trouser, size_formal_trouser_drop, size_formal_trouser_leg, size_jacket, size_pant,
            size_shoe, size_type_age, size_type_region, size_top, skin_type,
            measurement_arm, measurement_arm_inside, measurement_bust, measurement_chest, measurement_foot_length,
            measurement_head, measurement_height, measurement_hip, measurement_leg_inside, measurement_leg_outside,
            measurement_neck, measurement_neck_to_wrist, measurement_shoulders, measurement_waist, measurement_weight,
        }
    };
}
pub(crate) use with_appearance_fields;

macro_rules! comms_input {
    (flags: $($flag:ident),* ; verifications: $($verification:ident),* $(;)?) => {
        /// Changes to communication preferences: a flag or state left out (or `null`)
        /// is kept; `null` clears the terms' time and version.
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(default)]
        pub(crate) struct CommsInput {
            $(pub $flag: Field<bool>,)*
            $(pub $verification: Field<VerificationState>,)*
            pub terms_accepted_at: Field<DateTime<Utc>>,
            pub terms_accepted_version: Field<String>,
        }

        impl CommsInput {
            /// Sets the columns this input changes on `row`.
            pub(crate) fn apply(&self, checks: &mut Checks, path: &Path, row: &mut CommsChanges) {
                $(if let Some(value) = optional(checks, &path.key(&camel_case(stringify!($flag))), &self.$flag) {
                    row.$flag = Patch::Set(value);
                })*
                $(if let Some(value) =
                    optional(checks, &path.key(&camel_case(stringify!($verification))), &self.$verification)
                {
                    row.$verification = Patch::Set(value);
                })*
                let accepted = path.key("termsAcceptedAt");
                validate::instant(&mut checks.problems, &accepted, self.terms_accepted_at.value());
                row.terms_accepted_at = plain(checks, &accepted, &self.terms_accepted_at);
                let version = path.key("termsAcceptedVersion");
                row.terms_accepted_version = text(checks, &version, &self.terms_accepted_version, MAX_NAME);
            }
        }
    };
}

with_comms_fields!(comms_input);

macro_rules! appearance_input {
    ($($field:ident),* $(,)?) => {
        /// Changes to appearance and sizes: a field left out is kept, `null` clears it.
        /// Each value at most 100 characters.
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(default)]
        pub(crate) struct AppearanceInput {
            $(pub $field: Field<String>,)*
        }

        impl AppearanceInput {
            /// Sets the columns this input changes on `row`.
            pub(crate) fn apply(&self, checks: &mut Checks, path: &Path, row: &mut AppearanceChanges) {
                $(row.$field = text(checks, &path.key(&camel_case(stringify!($field))), &self.$field, MAX_NAME);)*
            }
        }
    };
}

with_appearance_fields!(appearance_input);

impl CommsInput {
    /// The change `updateComms` makes.
    pub(crate) fn validate(&self) -> (CommsChanges, Problems) {
        let mut checks = Checks::default();
        let mut columns = CommsChanges::default();
        self.apply(&mut checks, &Path::root("input"), &mut columns);
        (columns, checks.finish())
    }
}

impl AppearanceInput {
    /// The change `updateAppearance` makes.
    pub(crate) fn validate(&self) -> (AppearanceChanges, Problems) {
        let mut checks = Checks::default();
        let mut columns = AppearanceChanges::default();
        self.apply(&mut checks, &Path::root("input"), &mut columns);
        (columns, checks.finish())
    }
}

read_objects!(CommsInput, AppearanceInput);

#[cfg(test)]
mod tests {
    #[test]
    fn camel_case_follows_graphql_names() {
        assert_eq!(super::camel_case("hair_colour"), "hairColour");
        assert_eq!(super::camel_case("measurement_neck_to_wrist"), "measurementNeckToWrist");
        assert_eq!(super::camel_case("skin"), "skin");
    }
}
