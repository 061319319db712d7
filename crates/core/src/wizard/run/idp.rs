//! Whether people sign in to an instance through an identity provider: its sign-in page sends
//! them to another host.

/// Whether the instance's sign-in page sends people to another host: an identity provider.
pub(super) async fn identity_provider(instance: &str) -> Option<String> {
    let instance = crate::instance::InstanceUrl::parse(instance).ok()?;
    let url = instance.endpoint("/login.do").ok()?;
    let http = crate::http::client(std::time::Duration::from_secs(10)).ok()?;
    let answer = http.get(url).send().await.ok()?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    idp_host(location, instance.host())
}

/// The host a sign-in redirect goes to, when it is not the instance.
fn idp_host(location: &str, instance_host: &str) -> Option<String> {
    let target = url::Url::parse(location).ok()?;
    let host = target.host_str()?;
    (host != instance_host).then(|| crate::text::untrusted(host, 100))
}

#[cfg(test)]
mod tests {
    use super::idp_host;

    #[test]
    fn a_redirect_to_another_host_is_an_identity_provider() {
        assert_eq!(
            idp_host(
                "https://login.microsoftonline.com/x/saml2?SAMLRequest=1",
                "acme.service-now.com"
            )
            .as_deref(),
            Some("login.microsoftonline.com")
        );
        assert_eq!(
            idp_host(
                "https://acme.service-now.com/navpage.do",
                "acme.service-now.com"
            ),
            None
        );
        assert_eq!(idp_host("/navpage.do", "acme.service-now.com"), None);
    }
}
