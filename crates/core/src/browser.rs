//! What may be handed to the system browser. Only `http` and `https` URLs leave the app: a
//! `file:`, `javascript:` or custom-scheme URL from an instance or a profile could run local
//! programs through the desktop's URL handlers.

use url::Url;

/// A URL checked to be safe to open in the system browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserUrl(Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserUrlError {
    #[error("\"{0}\" is not a web address.")]
    Malformed(String),
    #[error("Only http:// and https:// addresses are opened in the browser, not {0}:.")]
    Scheme(String),
}

impl BrowserUrl {
    pub fn parse(text: &str) -> Result<Self, BrowserUrlError> {
        let url = Url::parse(text.trim())
            .map_err(|_| BrowserUrlError::Malformed(text.chars().take(80).collect::<String>()))?;
        match url.scheme() {
            "http" | "https" => Ok(Self(url)),
            other => Err(BrowserUrlError::Scheme(other.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_schemes_pass() {
        assert!(BrowserUrl::parse("https://acme.service-now.com/oauth_auth.do?x=1").is_ok());
        assert!(BrowserUrl::parse("http://127.0.0.1:8080/").is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ms-settings:",
            "ssh://host",
        ] {
            assert!(
                matches!(BrowserUrl::parse(bad), Err(BrowserUrlError::Scheme(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            BrowserUrl::parse("not a url"),
            Err(BrowserUrlError::Malformed(_))
        ));
    }
}
