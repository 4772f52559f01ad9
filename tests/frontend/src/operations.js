// The operations of a small frontend, as an app's source holds them: the manifest
// generator finds them here (persisted-query-manifest.config.json).
import { gql } from "@apollo/client/core/index.js";

export const TIERS = gql`
  query Tiers {
    tiers {
      handle
    }
  }
`;

export const PROFILE = gql`
  query ProfileName($id: UUID!) {
    profile(id: $id) {
      id
      firstName
    }
  }
`;

export const CREATE = gql`
  mutation CreateProfile($firstName: String!) {
    createProfile(input: { firstName: $firstName }) {
      profile {
        id
        firstName
      }
      userErrors {
        code
      }
    }
  }
`;

export const FIRST_PROFILES = gql`
  query FirstProfiles($first: Int) {
    profiles(first: $first) {
      nodes {
        id
        firstName
      }
    }
  }
`;
