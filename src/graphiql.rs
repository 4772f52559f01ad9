//! GraphiQL, served by the service itself: the page and its scripts and styles are in
//! the binary (GraphiQL 3.9.0 with React 18.3.1, MIT, licences in
//! `assets/graphiql/LICENSES.txt`), so it works with no internet. The page opens with
//! an example query, the schema documentation, and the headers editor for a bearer
//! token. Subscriptions run over a WebSocket to the page's own host (`ws://` or
//! `wss://`, as the page came). Its Content-Security-Policy lets it load nothing from
//! elsewhere: `connect-src 'self'` also covers the WebSocket to the same host.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The versioned path the assets are served under (so they can be cached for good).
pub const ASSETS: &str = "/graphiql/3.9.0";

/// The embedded files: name, media type, bytes.
const FILES: [(&str, &str, &[u8]); 5] = [
    ("react.production.min.js", "text/javascript", include_bytes!("../assets/graphiql/react.production.min.js")),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    ("graphiql.min.js", "text/javascript", include_bytes!("../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", "text/css", include_bytes!("../assets/graphiql/graphiql.min.css")),
    ("LICENSES.txt", "text/plain; charset=utf-8", include_bytes!("../assets/graphiql/LICENSES.txt")),
];

/// The query GraphiQL opens with.
const EXAMPLE: &str = r#"# Welcome to the profiles gateway.
# With tokens required, open "Headers" below and add:
#   { "Authorization": "Bearer pgw_..." }
# The "Docs" button lists every type and field.
query FirstProfiles {
  profiles(first: 5, orderBy: { field: CREATED_AT, direction: DESC }) {
    totalCount
    nodes {
      id
      fullName
      email
      mobilePhone
      nextBirthday
      tier { name }
      flattenedTags
    }
  }
}
"#;

const CSP: &str = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
                   font-src 'self' data:; img-src 'self' data:; connect-src 'self'";

/// The GraphiQL page.
pub(crate) fn page() -> Response {
    #[allow(clippy::expect_used, reason = "a string always serialises")]
    let example = serde_json::to_string(EXAMPLE).expect("a string serialises");
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Profiles gateway — GraphiQL</title>
  <link rel="stylesheet" href="{ASSETS}/graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{ASSETS}/react.production.min.js"></script>
  <script src="{ASSETS}/react-dom.production.min.js"></script>
  <script src="{ASSETS}/graphiql.min.js"></script>
  <script>
    // Subscriptions go over a WebSocket to the same host as the page (graphql-ws's
    // client, bundled in GraphiQL, speaks graphql-transport-ws); wss:// when the page
    // came over HTTPS, so it works behind a proxy that ends TLS. The headers editor's
    // headers become connection_init's payload, so a bearer token works there too.
    const subscriptionUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
    const fetcher = GraphiQL.createFetcher({{ url: '/graphql', subscriptionUrl }});
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: {example},
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        defaultEditorToolsVisibility: 'headers',
      }})
    );
  </script>
</body>
</html>"#
    );
    let mut response = axum::response::Html(html).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

/// One embedded asset, cached for a year (its path names the version).
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, ..)| *file == name) {
        Some((_, media, bytes)) => {
            ([(header::CONTENT_TYPE, *media), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], *bytes)
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Bytes the assets add to the binary.
pub fn embedded_bytes() -> usize {
    FILES.iter().map(|(_, _, bytes)| bytes.len()).sum()
}
