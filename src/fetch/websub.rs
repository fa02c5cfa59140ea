//! WebSub, publisher side: telling a hub that a feed changed, so subscribers get it pushed within seconds
//! instead of at their next poll.
//!
//! The ping is the form-encoded `POST hub.mode=publish&hub.url=<topic>` that every public hub accepts
//! (the PubSubHubbub 0.4 convention, which the W3C recommendation leaves to hubs and which they kept).
//! One request per topic: the repeated-`hub.url` form of 0.3 is not understood by every hub. Any 2xx
//! is success (hubs answer 204). The request goes through the run's client and the same rules as a
//! fetch: the host limit, the SSRF guard, the whole-request timeout (a hub that timed out is not asked
//! again in the run), and retries with full-jitter backoff or the hub's `Retry-After` up to
//! `[fetch] retry_after_cap`. Redirects are not followed: a POST that is redirected would have to be
//! re-sent as a GET, which no hub wants.

use reqwest::header::{self, HeaderValue};
use tokio::time::Instant;
use url::Url;

use super::http::send_failure;
use super::retry::Retry;
use super::{Failure, FetchError, FetchErrorKind, Fetcher};

impl Fetcher {
    /// Tells `hub` that the feed at `topic` changed. Returns the attempts it took.
    pub async fn ping_hub(&self, hub: &Url, topic: &str) -> Result<u32, FetchError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", topic)
            .finish();
        let (_, attempts) = self.retrying(hub, || self.ping_once(hub, &body)).await?;
        Ok(attempts)
    }

    async fn ping_once(&self, hub: &Url, body: &str) -> Result<(), Failure> {
        if let Some(refused) = self.refusal(hub) {
            return Err(refused);
        }
        let _permit = self.host_permit(hub).await;
        let started = Instant::now();
        let request = self
            .client
            .post(hub.clone())
            .header(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"))
            .body(body.to_owned())
            .send();
        let response = tokio::time::timeout(self.settings.timeout, request)
            .await
            .map_err(|_| Failure {
                error: FetchError::http(hub, FetchErrorKind::Timeout { after: self.settings.timeout }),
                retry: Retry::No,
            })?
            .map_err(|source| send_failure(hub, source))?;
        let status = response.status().as_u16();
        tracing::debug!(%hub, status, elapsed = ?started.elapsed(), "hub answered");
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(self.status_failure(hub, status, response.headers()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::test_server::{Reply, TestServer};
    use super::super::FetchSettings;
    use super::*;

    fn fetcher() -> Fetcher {
        let settings = FetchSettings {
            timeout: Duration::from_secs(2),
            backoff_base: Duration::from_millis(10),
            ..FetchSettings::default()
        };
        Fetcher::new(settings).unwrap()
    }

    #[tokio::test]
    async fn posts_a_form_encoded_publish_ping() {
        let server = TestServer::start();
        server.route("/hub", [Reply::status(204)]);
        let hub = Url::parse(&server.url("/hub")).unwrap();
        let attempts = fetcher().ping_hub(&hub, "https://feeds.example.org/kz-news/rss.xml?a=1&b=2").await.unwrap();
        assert_eq!(attempts, 1);
        let req = &server.requests_to("/hub")[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(
            req.body_text(),
            "hub.mode=publish&hub.url=https%3A%2F%2Ffeeds.example.org%2Fkz-news%2Frss.xml%3Fa%3D1%26b%3D2"
        );
        assert!(req.header("user-agent").is_some_and(|ua| ua.starts_with("feedmill/")));
    }

    #[tokio::test]
    async fn retries_server_trouble_but_not_a_refusal() {
        let server = TestServer::start();
        server.route("/busy", [Reply::status(503), Reply::status(500), Reply::status(202)]);
        server.route("/no", [Reply::status(400)]);
        let f = fetcher();
        let busy = Url::parse(&server.url("/busy")).unwrap();
        assert_eq!(f.ping_hub(&busy, "https://feeds.example.org/all/atom.xml").await.unwrap(), 3);
        let no = Url::parse(&server.url("/no")).unwrap();
        let err = f.ping_hub(&no, "https://feeds.example.org/all/atom.xml").await.unwrap_err();
        assert!(matches!(err.kind(), FetchErrorKind::Status { status: 400 }), "{err:?}");
        assert_eq!(err.attempts(), 1);
        assert_eq!(server.requests_to("/no").len(), 1);
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let server = TestServer::start();
        server.route("/moved", [Reply::redirect(302, "/elsewhere")]);
        let hub = Url::parse(&server.url("/moved")).unwrap();
        let err = fetcher().ping_hub(&hub, "https://feeds.example.org/all/rss.xml").await.unwrap_err();
        assert!(err.to_string().contains("HTTP 302"), "{err}");
        assert!(server.requests_to("/elsewhere").is_empty());
    }
}
