//! Reading one profile: every field of the reference model and every derived field.

use serde_json::{Value, json};

use crate::fixtures::{self, bare_profile, create, example_profile, reference_data};
use crate::helpers::TestApp;

/// Every field of `Profile`, with every relation and every field of those.
pub const PROFILE_FIELDS: &str = r#"
  id externalId title firstName lastName fullName email gender currency joinedAt
  mobilePhone mobilePhoneCountry mobilePhoneNational mobilePhoneNationalPrefix mobilePhoneE164
  secondaryPhone birthYear birthMonth birthDay birthDate nextBirthday birthDays birthDaysPast
  company occupation avatarUrl
  preferredLocationId preferredLocationExternalId preferredLocation { id name externalId externalCode createdAt updatedAt }
  joinedLocationId joinedLocationExternalId joinedLocation { id name externalId externalCode createdAt updatedAt }
  tierHandle tier { id handle name rank createdAt updatedAt }
  identities { id handle identifier isPrimary isActive createdAt updatedAt }
  tags { id handle name createdAt updatedAt } flattenedTags
  statuses { id handle name rank createdAt updatedAt } flattenedStatuses
  attributes {
    comms {
      emailOptout emailBounced emailPromo emailDiscover emailBenefits emailReminders emailAccount emailBookings emailFeedback emailLocation emailService
      smsOptout smsBounced smsPromo smsDiscover smsBenefits smsReminders smsAccount smsBookings smsFeedback smsLocation smsService
      pushOptout pushBounced pushPromo pushDiscover pushBenefits pushReminders pushAccount pushBookings pushFeedback pushLocation pushService
      phoneOptout phoneBounced phonePromo phoneDiscover phoneBenefits phoneReminders phoneAccount phoneBookings phoneFeedback phoneLocation phoneService
      postOptout postBounced postPromo postDiscover postBenefits postReminders postAccount postBookings postFeedback postLocation postService
      emailVerification smsVerification phoneVerification postVerification termsAcceptedAt termsAcceptedVersion createdAt updatedAt
    }
    appearance {
      hairColour hairLength shapeBody shapeFace sizeCup sizeHat sizeFormalJacket sizeFormalJacketLength sizeFormalShirt
      sizeFormalShirtFit sizeFormalTrouser sizeFormalTrouserDrop sizeFormalTrouserLeg sizeJacket sizePant sizeShoe
      sizeTypeAge sizeTypeRegion sizeTop skinType measurementArm measurementArmInside measurementBust measurementChest
      measurementFootLength measurementHead measurementHeight measurementHip measurementLegInside measurementLegOutside
      measurementNeck measurementNeckToWrist measurementShoulders measurementWaist measurementWeight createdAt updatedAt
    }
    dates { id date isRecurring recurringSchedule name handle relationship description meta note createdAt updatedAt }
  }
  customAttributes
  address { ...AddressFields }
  addresses { ...AddressFields }
  isCompleted profileType version createdAt updatedAt
"#;

pub const ADDRESS_FRAGMENT: &str = r#"
fragment AddressFields on Address {
  id addressLine1 addressLine2 addressLine3 company latitude longitude city postcode state country
  notes externalId isDefault createdAt updatedAt
}"#;

async fn read(app: &TestApp, id: uuid::Uuid) -> Value {
    let query = format!("query($id: UUID!) {{ profile(id: $id) {{ {PROFILE_FIELDS} }} }} {ADDRESS_FRAGMENT}");
    app.data(&query, json!({ "id": id })).await["profile"].clone()
}

#[tokio::test]
async fn every_field_of_the_reference_profile_reads_back() {
    let app = TestApp::spawn().await;
    let reference = reference_data(&app).await;
    let id = create(&app, vec![example_profile(&reference)]).await[0];

    let profile = read(&app, id).await;

    // Ids of auto-increment rows differ between runs: check their form, then compare
    // the rest of the profile whole.
    let mut profile = profile;
    let mut address_ids = Vec::new();
    for address in profile["addresses"].as_array_mut().expect("addresses") {
        address_ids.push(address["id"].take());
    }
    assert_eq!(profile["address"]["id"].take(), address_ids[0], "the default address is the first one");
    for path in [["tier", "id"], ["preferredLocation", "id"], ["joinedLocation", "id"]] {
        assert!(profile[path[0]][path[1]].take().as_str().is_some_and(|id| id.parse::<i64>().is_ok()), "{path:?}");
    }
    for list in ["identities", "tags", "statuses"] {
        for item in profile[list].as_array_mut().expect("a list") {
            assert!(item["id"].take().as_str().is_some_and(|id| id.parse::<i64>().is_ok()), "{list} ids are integers");
        }
    }
    let reference_created = profile["tier"]["createdAt"].clone();
    for path in [["tier", "createdAt"], ["tier", "updatedAt"]] {
        profile[path[0]][path[1]].take();
    }
    for location in ["preferredLocation", "joinedLocation"] {
        profile[location]["createdAt"].take();
        profile[location]["updatedAt"].take();
    }
    for list in ["tags", "statuses"] {
        for item in profile[list].as_array_mut().expect("a list") {
            item["createdAt"].take();
            item["updatedAt"].take();
        }
    }
    assert!(reference_created.as_str().is_some(), "reference rows have timestamps");
    let date_id = profile["attributes"]["dates"][0]["id"].take();
    assert!(date_id.as_str().is_some_and(|id| id.parse::<i64>().is_ok()));

    let t0 = "2021-01-27T22:58:01+00:00";
    let t60 = "2021-01-27T22:59:01+00:00";
    let address = |line_1: &str, line_2: Value, company: Value, lat: Value, lon: Value, is_default: bool, at: &str| {
        json!({
            "id": null, "addressLine1": line_1, "addressLine2": line_2, "addressLine3": null, "company": company,
            "latitude": lat, "longitude": lon, "city": "Melbourne", "postcode": "3002", "state": "VIC",
            "country": "Australia", "notes": null, "externalId": null, "isDefault": is_default,
            "createdAt": at, "updatedAt": at
        })
    };
    let first_address = address("123 Buckaby Lane", Value::Null, Value::Null, Value::Null, Value::Null, true, t0);
    let comms_flags = |channel: &str, promo: bool| {
        let mut flags = serde_json::Map::new();
        flags.insert(format!("{channel}Optout"), json!(false));
        flags.insert(format!("{channel}Bounced"), json!(false));
        flags.insert(format!("{channel}Promo"), json!(promo));
        for category in ["Discover", "Benefits", "Reminders", "Account", "Bookings", "Feedback", "Location", "Service"]
        {
            flags.insert(format!("{channel}{category}"), json!(true));
        }
        flags
    };
    let mut comms = serde_json::Map::new();
    for (channel, promo) in [("email", true), ("sms", false), ("push", true), ("phone", false), ("post", false)] {
        comms.extend(comms_flags(channel, promo));
    }
    comms.extend(
        json!({
            "emailVerification": "VERIFIED", "smsVerification": "NOT_SENT", "phoneVerification": "NOT_SENT",
            "postVerification": "NOT_SENT", "termsAcceptedAt": null, "termsAcceptedVersion": "2021-01",
            "createdAt": t0, "updatedAt": t0
        })
        .as_object()
        .expect("an object")
        .clone(),
    );
    let mut appearance = serde_json::Map::new();
    for field in [
        "shapeFace",
        "sizeCup",
        "sizeHat",
        "sizeFormalJacket",
        "sizeFormalJacketLength",
        "sizeFormalShirt",
        "sizeFormalShirtFit",
        "sizeFormalTrouser",
        "sizeFormalTrouserDrop",
        "sizeFormalTrouserLeg",
        "sizeJacket",
        "sizePant",
        "sizeShoe",
        "sizeTypeAge",
        "sizeTypeRegion",
        "sizeTop",
        "skinType",
        "measurementArm",
        "measurementArmInside",
        "measurementBust",
        "measurementChest",
        "measurementFootLength",
        "measurementHead",
        "measurementHeight",
        "measurementHip",
        "measurementLegInside",
        "measurementLegOutside",
        "measurementNeck",
        "measurementNeckToWrist",
        "measurementShoulders",
        "measurementWaist",
        "measurementWeight",
    ] {
        appearance.insert(field.to_owned(), Value::Null);
    }
    appearance.extend(
        json!({ "hairColour": "Black", "hairLength": "Short", "shapeBody": "Straight", "createdAt": t0, "updatedAt": t0 })
            .as_object()
            .expect("an object")
            .clone(),
    );

    let expected = json!({
        "id": id,
        "externalId": "SHOP-42",
        "title": "Mr",
        "firstName": "Example",
        "lastName": "User",
        "fullName": "Example User",
        "email": "Example.User@Example.com",
        "gender": "MALE",
        "currency": "AUD",
        "joinedAt": "2021-01-27T00:00:00+00:00",
        "mobilePhone": "+61404123123",
        "mobilePhoneCountry": 61,
        "mobilePhoneNational": "404123123",
        "mobilePhoneNationalPrefix": "0404123123",
        "mobilePhoneE164": "+61404123123",
        "secondaryPhone": "+61421123123",
        "birthYear": 1989,
        "birthMonth": 1,
        "birthDay": 1,
        "birthDate": "1989-01-01",
        "nextBirthday": "2022-01-01",
        "birthDays": 25,
        "birthDaysPast": 340,
        "company": "Acme Shoe Co.",
        "occupation": "Marketing",
        "avatarUrl": "https://images.example.com/u/1.png",
        "preferredLocationId": reference.preferred.id.to_string(),
        "preferredLocationExternalId": "STORE-002",
        "preferredLocation": { "id": null, "name": "Chadstone", "externalId": "STORE-002", "externalCode": null, "createdAt": null, "updatedAt": null },
        "joinedLocationId": reference.joined.id.to_string(),
        "joinedLocationExternalId": "STORE-001",
        "joinedLocation": { "id": null, "name": "Melbourne Central", "externalId": "STORE-001", "externalCode": "MC", "createdAt": null, "updatedAt": null },
        "tierHandle": "gold",
        "tier": { "id": null, "handle": "gold", "name": "Gold", "rank": 3, "createdAt": null, "updatedAt": null },
        "identities": [
            { "id": null, "handle": "pos", "identifier": "POS-1", "isPrimary": false, "isActive": true, "createdAt": t0, "updatedAt": t0 },
            { "id": null, "handle": "shopify", "identifier": "SHOP-42", "isPrimary": true, "isActive": true, "createdAt": t0, "updatedAt": t0 }
        ],
        "tags": [
            { "id": null, "handle": "tag-two", "name": "Tag Two", "createdAt": null, "updatedAt": null },
            { "id": null, "handle": "tag1", "name": "tag1", "createdAt": null, "updatedAt": null }
        ],
        "flattenedTags": ["tag-two", "tag1"],
        "statuses": [
            { "id": null, "handle": "staff", "name": "Staff", "rank": 2, "createdAt": null, "updatedAt": null },
            { "id": null, "handle": "vip", "name": "VIP", "rank": 1, "createdAt": null, "updatedAt": null }
        ],
        "flattenedStatuses": ["staff", "vip"],
        "attributes": {
            "comms": comms,
            "appearance": appearance,
            "dates": [{
                "id": null, "date": "2020-05-13", "isRecurring": true, "recurringSchedule": "YEARLY",
                "name": "date_name", "handle": "date_handle", "relationship": "wife", "description": "anniversary",
                "meta": ["1"], "note": "note", "createdAt": t0, "updatedAt": t0
            }]
        },
        "customAttributes": { "custom": { "example-field": "test" } },
        "address": first_address,
        "addresses": [
            first_address,
            address("321 Winston St", json!("Georgebury Crt Level 3"), json!("Acme Shoe Co."), json!(-37.8136), json!(144.9631), false, t60)
        ],
        "isCompleted": true,
        "profileType": "ACTIVE",
        "version": 1,
        "createdAt": t0,
        "updatedAt": t0
    });
    assert_eq!(profile, expected);
}

#[tokio::test]
async fn derived_fields_follow_what_is_known() {
    let app = TestApp::spawn().await;
    // (first, last, month, day, year) → fullName, nextBirthday, birthDays, birthDaysPast, birthDate
    let cases = [
        (
            Some("Ann"),
            None,
            Some(2),
            Some(29),
            None,
            json!("Ann"),
            json!("2022-02-28"),
            json!(83),
            json!(282),
            json!(null),
        ),
        (
            None,
            Some("Lee"),
            Some(12),
            Some(7),
            Some(1990),
            json!("Lee"),
            json!("2021-12-07"),
            json!(0),
            json!(0),
            json!("1990-12-07"),
        ),
        (None, None, Some(12), None, Some(1990), json!(null), json!(null), json!(null), json!(null), json!(null)),
        (
            None,
            None,
            Some(2),
            Some(29),
            Some(1990),
            json!(null),
            json!("2022-02-28"),
            json!(83),
            json!(282),
            json!(null),
        ),
    ];
    for (n, (first, last, month, day, year, full, next, until, since, birth_date)) in cases.into_iter().enumerate() {
        let mut new = bare_profile(n as i64);
        new.profile.first_name = first.map(str::to_owned);
        new.profile.last_name = last.map(str::to_owned);
        (new.profile.birth_month, new.profile.birth_day, new.profile.birth_year) = (month, day, year);
        let id = create(&app, vec![new]).await[0];
        let data = app
            .data(
                "query($id: UUID!) { profile(id: $id) { fullName nextBirthday birthDays birthDaysPast birthDate isCompleted
                   externalId mobilePhoneCountry mobilePhoneE164 address { id } addresses { id } tier { id }
                   preferredLocation { id } attributes { comms { emailPromo smsDiscover emailVerification } appearance { hairColour } dates { id } } } }",
                json!({ "id": id }),
            )
            .await;
        let p = &data["profile"];
        let case = format!("case {n}");
        assert_eq!(p["fullName"], full, "{case}");
        assert_eq!(p["nextBirthday"], next, "{case}");
        assert_eq!(p["birthDays"], until, "{case}");
        assert_eq!(p["birthDaysPast"], since, "{case}");
        assert_eq!(p["birthDate"], birth_date, "{case}");
        assert_eq!(p["isCompleted"], json!(false), "{case}");
        for empty in ["externalId", "mobilePhoneCountry", "mobilePhoneE164", "address", "tier", "preferredLocation"] {
            assert_eq!(p[empty], Value::Null, "{case}: {empty}");
        }
        assert_eq!(p["addresses"], json!([]), "{case}");
        // comms and appearance exist from the start, with their defaults.
        assert_eq!(
            p["attributes"],
            json!({ "comms": { "emailPromo": false, "smsDiscover": true, "emailVerification": "NOT_SENT" },
                    "appearance": { "hairColour": null }, "dates": [] }),
            "{case}"
        );
    }
}

#[tokio::test]
async fn missing_and_deleted_profiles_read_as_null() {
    let app = TestApp::spawn().await;
    let ids = create(&app, vec![fixtures::deleted(bare_profile(0))]).await;
    for id in [ids[0], uuid::Uuid::new_v4()] {
        let data = app.data("query($id: UUID!) { profile(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(data, json!({ "profile": null }), "profile {id}");
    }
}
