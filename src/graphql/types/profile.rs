//! The `Profile` type: stored fields, derived fields (computed on read, never
//! stored) and relations; and `DuplicateCandidate`, what `Profile.duplicates` lists.
//!
//! A relation resolves from the profile value when a planned read fetched it with the
//! profile ([`Relations`]: one statement per root field), and through the request's
//! [`Loaders`] otherwise (e.g. the profile of a mutation's payload).

use std::borrow::Cow;
use std::sync::Arc;

use crate::graphql::errors::Result;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::{Gender, ProfileType};
use entity::scalars::Date;
use entity::{address, appearance, comms, identity, location, profile, profile_date, status, tag, tier};

use uuid::Uuid;

use crate::domain::{birthday, person, phone};
use crate::graphql::Clock;
use crate::graphql::loaders::{DuplicatesKey, HistoryKey, Loaders, Siblings};
use crate::graphql::types::event::EventConnection;
use crate::graphql::types::merge::ProfileMerge;
use crate::service::error::Error as ServiceError;
use crate::service::events::feed::Feed;
use crate::service::profiles::duplicates::{self, Candidate, Reason};
use crate::service::profiles::read::{Planned, Relations};

/// Complexity weight of a profile's list relations (addresses, tags, …).
const LIST: usize = 10;

/// Complexity weight of `duplicates`: the candidates `first` asks for (10 by default).
fn duplicates_weight(first: Option<i32>) -> usize {
    first.map_or(duplicates::DEFAULT_FIRST, |n| n.clamp(1, duplicates::MAX_FIRST as i32)) as usize
}

/// A customer profile. A planned read fills only the columns its selection reads.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    pub model: profile::Model,
    /// Relations fetched with the profile; `None` means "ask the loader".
    pub prefetched: Relations,
    /// The profiles read with this one (a page), whose duplicates load with its own;
    /// `None` for a profile read alone.
    pub siblings: Option<Arc<Siblings>>,
}

impl From<profile::Model> for Profile {
    fn from(model: profile::Model) -> Self {
        Profile { model, prefetched: Relations::default(), siblings: None }
    }
}

impl From<Planned> for Profile {
    fn from(planned: Planned) -> Self {
        Profile { model: planned.model, prefetched: planned.relations, siblings: None }
    }
}

impl Profile {
    /// `profiles`, each knowing the others as its siblings.
    pub(crate) fn siblings(mut profiles: Vec<Profile>) -> Vec<Profile> {
        let siblings = Siblings::new(profiles.iter().map(|p| p.model.id).collect());
        for profile in &mut profiles {
            profile.siblings = Some(siblings.clone());
        }
        profiles
    }
}

/// The prefetched value (borrowed: a planned read's rows are not copied), or the one
/// `loader` finds for `key`.
async fn load<'a, L, K>(
    prefetched: &'a Option<Option<L::Value>>,
    loader: &DataLoader<L>,
    key: Option<K>,
) -> Result<Option<Cow<'a, L::Value>>>
where
    L: Loader<K, Error = ServiceError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    if let Some(value) = prefetched {
        return Ok(value.as_ref().map(Cow::Borrowed));
    }
    // Boxed: the loader's future is large, and every field of `Profile` shares one
    // resolver future as large as its largest; a planned read never gets here.
    match key {
        Some(key) => Ok(Box::pin(loader.load_one(key)).await?.map(Cow::Owned)),
        None => Ok(None),
    }
}

/// A list relation: prefetched (borrowed), or loaded by profile id (empty when none).
async fn load_list<'a, L, T>(
    prefetched: &'a Option<Vec<T>>,
    loader: &DataLoader<L>,
    id: Uuid,
) -> Result<Cow<'a, Vec<T>>>
where
    L: Loader<Uuid, Value = Vec<T>, Error = ServiceError>,
    T: Clone + Send + Sync + 'static,
{
    match prefetched {
        Some(rows) => Ok(Cow::Borrowed(rows)),
        None => Ok(Cow::Owned(Box::pin(loader.load_one(id)).await?.unwrap_or_default())),
    }
}

/// A relation of one row per profile (comms, appearance): prefetched, or the first
/// row its loader finds.
async fn load_single<'a, L, T>(
    prefetched: &'a Option<Option<T>>,
    loader: &DataLoader<L>,
    id: Uuid,
) -> Result<Option<Cow<'a, T>>>
where
    L: Loader<Uuid, Value = Vec<T>, Error = ServiceError>,
    T: Clone + Send + Sync + 'static,
{
    match prefetched {
        Some(row) => Ok(row.as_ref().map(Cow::Borrowed)),
        None => Ok(load_list(&None, loader, id).await?.into_owned().into_iter().next().map(Cow::Owned)),
    }
}

fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    Ok(ctx.data::<Loaders>()?)
}

impl Profile {
    async fn address_rows(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<address::Model>>> {
        load_list(&self.prefetched.addresses, &loaders(ctx)?.addresses, self.model.id).await
    }

    async fn identity_rows(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<identity::Model>>> {
        load_list(&self.prefetched.identities, &loaders(ctx)?.identities, self.model.id).await
    }

    async fn tag_rows(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<tag::Model>>> {
        load_list(&self.prefetched.tags, &loaders(ctx)?.tags, self.model.id).await
    }

    async fn status_rows(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<status::Model>>> {
        load_list(&self.prefetched.statuses, &loaders(ctx)?.statuses, self.model.id).await
    }

    async fn location<'a>(
        &self,
        ctx: &Context<'_>,
        which: &'a Option<Option<location::Model>>,
        id: Option<i32>,
    ) -> Result<Option<Cow<'a, location::Model>>> {
        load(which, &loaders(ctx)?.locations, id).await
    }

    fn phone_parts(&self) -> Option<phone::PhoneParts> {
        self.model.mobile_phone.as_deref().and_then(phone::parts)
    }

    fn today(ctx: &Context<'_>) -> chrono::NaiveDate {
        ctx.data_opt::<Clock>().cloned().unwrap_or_default().today()
    }
}

/// A customer profile: contact details, birthday, loyalty tier and locations,
/// identities in other systems, tags, statuses, preferences, appearance, important
/// dates, custom attributes and addresses.
#[Object]
impl Profile {
    /// The profile's id (UUID v4, made by the server).
    async fn id(&self) -> Uuid {
        self.model.id
    }

    /// The profile's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        entity::node::id("Profile", self.model.id)
    }

    /// The identifier of the profile's primary identity (read-only).
    async fn external_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.identity_rows(ctx).await?.iter().find(|i| i.is_primary).map(|i| i.identifier.clone()))
    }

    /// Salutation, e.g. `Mr` or `Dr`.
    async fn title(&self) -> Option<&str> {
        self.model.title.as_deref()
    }

    /// First name.
    async fn first_name(&self) -> Option<&str> {
        self.model.first_name.as_deref()
    }

    /// Last name.
    async fn last_name(&self) -> Option<&str> {
        self.model.last_name.as_deref()
    }

    /// First and last name joined by one space; null when both are absent.
    async fn full_name(&self) -> Option<String> {
        person::full_name(self.model.first_name.as_deref(), self.model.last_name.as_deref())
    }

    /// Email address, as given. Unique among profiles, compared case-insensitively.
    async fn email(&self) -> Option<&str> {
        self.model.email.as_deref()
    }

    /// Gender.
    async fn gender(&self) -> Option<Gender> {
        self.model.gender
    }

    /// Default currency of the customer (ISO 4217 code, e.g. `AUD`).
    async fn currency(&self) -> Option<&str> {
        self.model.currency.as_deref()
    }

    /// When the customer joined (UTC); defaults to when the profile was created.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.model.joined_at
    }

    /// Mobile phone in E.164, e.g. `+61404123123`. Unique among profiles.
    async fn mobile_phone(&self) -> Option<&str> {
        self.model.mobile_phone.as_deref()
    }

    /// Calling code of the mobile phone, e.g. 61.
    async fn mobile_phone_country(&self) -> Option<u16> {
        self.phone_parts().map(|p| p.country_code)
    }

    /// National significant number of the mobile phone, e.g. `404123123`.
    async fn mobile_phone_national(&self) -> Option<String> {
        self.phone_parts().map(|p| p.national)
    }

    /// The mobile phone in national format with its trunk prefix, digits only, e.g.
    /// `0404123123`.
    async fn mobile_phone_national_prefix(&self) -> Option<String> {
        self.phone_parts().map(|p| p.national_prefix)
    }

    /// The mobile phone in E.164, e.g. `+61404123123`.
    async fn mobile_phone_e164(&self) -> Option<String> {
        self.phone_parts().map(|p| p.e164)
    }

    /// Secondary phone in E.164.
    async fn secondary_phone(&self) -> Option<&str> {
        self.model.secondary_phone.as_deref()
    }

    /// Year of birth.
    async fn birth_year(&self) -> Option<i32> {
        self.model.birth_year
    }

    /// Month of birth, 1–12.
    async fn birth_month(&self) -> Option<i32> {
        self.model.birth_month
    }

    /// Day of birth, 1–31.
    async fn birth_day(&self) -> Option<i32> {
        self.model.birth_day
    }

    /// Date of birth, when year, month and day are all known.
    async fn birth_date(&self) -> Option<Date> {
        let m = &self.model;
        birthday::birth_date(m.birth_year, m.birth_month, m.birth_day).map(Date)
    }

    /// The next birthday, today or later (UTC). 29 February falls on 28 February in
    /// other years. Needs month and day only.
    async fn next_birthday(&self, ctx: &Context<'_>) -> Option<Date> {
        birthday::next_birthday(self.model.birth_month, self.model.birth_day, Self::today(ctx)).map(Date)
    }

    /// Days from today (UTC) to `nextBirthday`; 0 on the birthday.
    async fn birth_days(&self, ctx: &Context<'_>) -> Option<i64> {
        birthday::days_until(self.model.birth_month, self.model.birth_day, Self::today(ctx))
    }

    /// Days since the most recent birthday, today or earlier (UTC); 0 on the birthday.
    async fn birth_days_past(&self, ctx: &Context<'_>) -> Option<i64> {
        birthday::days_since(self.model.birth_month, self.model.birth_day, Self::today(ctx))
    }

    /// Company the customer works for.
    async fn company(&self) -> Option<&str> {
        self.model.company.as_deref()
    }

    /// The customer's occupation.
    async fn occupation(&self) -> Option<&str> {
        self.model.occupation.as_deref()
    }

    /// URL (http or https) of the profile's avatar image.
    async fn avatar_url(&self) -> Option<&str> {
        self.model.avatar_url.as_deref()
    }

    /// Id of the customer's preferred location.
    async fn preferred_location_id(&self) -> Option<ID> {
        self.model.preferred_location_id.map(ID::from)
    }

    /// External id of the preferred location (its reference in the primary system).
    async fn preferred_location_external_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let location =
            self.location(ctx, &self.prefetched.preferred_location, self.model.preferred_location_id).await?;
        Ok(location.and_then(|l| l.external_id.clone()))
    }

    /// The customer's preferred location.
    async fn preferred_location(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, location::Model>>> {
        self.location(ctx, &self.prefetched.preferred_location, self.model.preferred_location_id).await
    }

    /// Id of the location the customer joined at.
    async fn joined_location_id(&self) -> Option<ID> {
        self.model.joined_location_id.map(ID::from)
    }

    /// External id of the joined location (its reference in the primary system).
    async fn joined_location_external_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let location = self.location(ctx, &self.prefetched.joined_location, self.model.joined_location_id).await?;
        Ok(location.and_then(|l| l.external_id.clone()))
    }

    /// The location the customer joined at.
    async fn joined_location(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, location::Model>>> {
        self.location(ctx, &self.prefetched.joined_location, self.model.joined_location_id).await
    }

    /// Handle of the customer's loyalty tier.
    async fn tier_handle(&self) -> Option<&str> {
        self.model.tier_handle.as_deref()
    }

    /// The customer's loyalty tier.
    async fn tier(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, tier::Model>>> {
        load(&self.prefetched.tier, &loaders(ctx)?.tiers, self.model.tier_handle.clone()).await
    }

    /// The profile's identities in other systems, oldest first.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn identities(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<identity::Model>>> {
        self.identity_rows(ctx).await
    }

    /// Tags attached to the profile, by handle.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn tags(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<tag::Model>>> {
        self.tag_rows(ctx).await
    }

    /// Handles of the profile's tags, sorted.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn flattened_tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.tag_rows(ctx).await?.iter().map(|t| t.handle.clone()).collect())
    }

    /// Statuses the profile holds, by handle.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn statuses(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<status::Model>>> {
        self.status_rows(ctx).await
    }

    /// Handles of the profile's statuses, sorted.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn flattened_statuses(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.status_rows(ctx).await?.iter().map(|s| s.handle.clone()).collect())
    }

    /// Communication preferences, appearance and important dates.
    async fn attributes(&self) -> ProfileAttributes<'_> {
        ProfileAttributes(self)
    }

    /// Custom attributes: an object of namespace → object of handle → JSON value.
    async fn custom_attributes(&self) -> &serde_json::Value {
        &self.model.custom_attributes
    }

    /// The default address, if the profile has any address.
    async fn address(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, address::Model>>> {
        Ok(match self.address_rows(ctx).await? {
            Cow::Borrowed(rows) => rows.iter().find(|a| a.is_default).map(Cow::Borrowed),
            Cow::Owned(rows) => rows.into_iter().find(|a| a.is_default).map(Cow::Owned),
        })
    }

    /// All addresses of the profile, oldest first.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Cow<'_, Vec<address::Model>>> {
        self.address_rows(ctx).await
    }

    /// True when first name, last name, email, mobile phone and full birth date are all
    /// present.
    async fn is_completed(&self) -> bool {
        crate::service::events::context::is_completed(&self.model)
    }

    /// The profile's change events, oldest first: the feed of `Query.events`
    /// for this profile alone.
    #[graphql(complexity = "crate::graphql::limits::page_size(first, None) * child_complexity + 1")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many events to return (0–250, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return events after this cursor.")] after: Option<String>,
    ) -> Result<EventConnection> {
        let feed = Feed { after, first, ..Feed::default() };
        let window = feed.window()?;
        let key = HistoryKey { profile: self.model.id, window };
        let page = Box::pin(loaders(ctx)?.histories.load_one(key)).await?;
        Ok(EventConnection::new(page.unwrap_or_default(), feed.after.is_some()))
    }

    /// Other visible profiles that may be this one's duplicates: those sharing a phone
    /// (mobile or secondary, either with either), the same email but for a `+tag`
    /// sub-address, or the same first and last name (ignoring ASCII case) and full
    /// birth date. Most reasons first, then by id. Candidates to review or merge, never
    /// merged by themselves.
    #[graphql(complexity = "duplicates_weight(first) * child_complexity + 1")]
    async fn duplicates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many candidates to return (1–50, default 10).", default = 10)] first: Option<i32>,
    ) -> Result<Vec<DuplicateCandidate>> {
        let key = DuplicatesKey { profile: self.model.id, first: duplicates::first(first)? };
        let loader = &loaders(ctx)?.duplicates;
        let found = match &self.siblings {
            Some(siblings) => Box::pin(siblings.duplicates(loader, key)).await?,
            None => Box::pin(loader.load_one(key)).await?.unwrap_or_default(),
        };
        Ok(DuplicateCandidate::list(found))
    }

    /// The profile this one was merged into: set only on a tombstone, which no read
    /// returns (`profile(id:)` answers its survivor), so null on every profile seen here.
    async fn merged_into(&self) -> Option<Uuid> {
        self.model.merged_into
    }

    /// The merges of other profiles into this one, oldest first.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn merges(&self, ctx: &Context<'_>) -> Result<Vec<ProfileMerge>> {
        let merges = Box::pin(loaders(ctx)?.merges.load_one(self.model.id)).await?;
        Ok(merges.unwrap_or_default().into_iter().map(ProfileMerge).collect())
    }

    /// The kind of profile.
    async fn profile_type(&self) -> ProfileType {
        self.model.profile_type
    }

    /// Goes up by one with every change to the profile or anything it owns; pass it as
    /// `expectedVersion` to update only what you read.
    async fn version(&self) -> i32 {
        self.model.version
    }

    /// When the profile was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the profile or anything it owns last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
}

/// The reference model's `attributes`: communication preferences, appearance, dates.
pub(crate) struct ProfileAttributes<'a>(&'a Profile);

/// The reference model's `attributes`: communication preferences, appearance and
/// important dates.
#[Object]
impl<'a> ProfileAttributes<'a> {
    /// Communication preferences (one record per profile).
    async fn comms(&self, ctx: &Context<'_>) -> Result<Option<Cow<'a, comms::Model>>> {
        let profile = self.0;
        load_single(&profile.prefetched.comms, &loaders(ctx)?.comms, profile.model.id).await
    }

    /// Appearance and sizes (one record per profile).
    async fn appearance(&self, ctx: &Context<'_>) -> Result<Option<Cow<'a, appearance::Model>>> {
        let profile = self.0;
        load_single(&profile.prefetched.appearance, &loaders(ctx)?.appearance, profile.model.id).await
    }

    /// Important dates, oldest record first.
    #[graphql(complexity = "LIST * child_complexity")]
    async fn dates(&self, ctx: &Context<'_>) -> Result<Cow<'a, Vec<profile_date::Model>>> {
        let profile = self.0;
        load_list(&profile.prefetched.dates, &loaders(ctx)?.dates, profile.model.id).await
    }
}

/// Why a profile may be a duplicate of another.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "Reason")]
pub(crate) enum DuplicateReason {
    /// A phone of one, mobile or secondary, is a phone of the other (in E.164).
    SharedPhone,
    /// The same email but for a sub-address: `ann+shop@example.com` and
    /// `ann@example.com` (compared by the email's key, ignoring case).
    EmailSubaddress,
    /// The same first and last name (ignoring ASCII case) and the same full birth date
    /// (year, month and day).
    SameNameAndBirthDate,
}

/// A profile that may be a duplicate of another, and every reason it may be.
#[derive(SimpleObject)]
pub(crate) struct DuplicateCandidate {
    /// The other profile.
    pub profile: Profile,
    /// Every rule the two profiles meet, in the order `SHARED_PHONE`,
    /// `EMAIL_SUBADDRESS`, `SAME_NAME_AND_BIRTH_DATE`.
    pub reasons: Vec<DuplicateReason>,
}

impl DuplicateCandidate {
    /// The candidates of one profile, siblings of each other (their own duplicates load
    /// together).
    fn list(candidates: Vec<Candidate>) -> Vec<DuplicateCandidate> {
        let (profiles, reasons): (Vec<Profile>, Vec<Vec<Reason>>) =
            candidates.into_iter().map(|c| (Profile::from(c.profile), c.reasons)).unzip();
        Profile::siblings(profiles)
            .into_iter()
            .zip(reasons)
            .map(|(profile, reasons)| DuplicateCandidate {
                profile,
                reasons: reasons.into_iter().map(DuplicateReason::from).collect(),
            })
            .collect()
    }
}
