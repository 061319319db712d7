//! `InstanceUrl` turns what people type for "which ServiceNow instance?" into one canonical
//! origin (`https://acme.service-now.com`), or an error that names the problem and the fix.
//!
//! People paste anything: a bare instance name, a host, a deep link copied from the browser
//! (`https://acme.service-now.com/now/nav/ui/home`), a custom domain, sometimes with a user name
//! and password in it. Only the origin matters to Snowlink; credentials in a URL are refused
//! outright because they would end up in config files and logs.

use std::net::IpAddr;

use serde::Serialize;
use url::{Host, Url};

/// ServiceNow's own domain: a bare name `acme` means `acme.service-now.com`.
pub const SERVICE_NOW_DOMAIN: &str = "service-now.com";

/// Longest input we look at; anything longer is not an instance address.
const MAX_INPUT_LEN: usize = 2048;
/// RFC 1035 §2.3.4: labels are 63 octets at most, names 253 in text form.
const MAX_LABEL_LEN: usize = 63;
const MAX_HOST_LEN: usize = 253;

/// The canonical origin of a ServiceNow instance: scheme, host and (non-default) port only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InstanceUrl {
    origin: String,
    host: String,
}

/// Why a typed instance address was refused. `Display` is the message; [`hint`] is the fix.
///
/// [`hint`]: InstanceUrlError::hint
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceUrlError {
    #[error("The instance address is empty.")]
    Empty,
    #[error("The instance address is too long ({len} characters).")]
    TooLong { len: usize },
    #[error("The instance address contains a space or an invisible character.")]
    Whitespace,
    #[error("The instance address contains a user name or password.")]
    Credentials,
    #[error("\"{scheme}://\" is not a web address scheme ServiceNow uses.")]
    UnsupportedScheme { scheme: String },
    #[error("ServiceNow instances are only reachable over https://, not http://{host}.")]
    InsecureHttp { host: String },
    #[error("\"{name}\" is not a valid instance name: {reason}.")]
    InvalidName { name: String, reason: &'static str },
    #[error("\"{host}\" is not a valid host name: {reason}.")]
    InvalidHost { host: String, reason: String },
}

impl InstanceUrlError {
    /// What the person should do about it, in one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::Empty | Self::TooLong { .. } | Self::Whitespace => {
                "Type the instance name (acme) or its address (https://acme.service-now.com)."
                    .into()
            }
            Self::Credentials => "Remove the user name and password from the address: Snowlink \
                                  asks for credentials separately and keeps them in the OS keyring."
                .into(),
            Self::UnsupportedScheme { .. } => {
                "Use the address that starts with https:// from your browser's address bar.".into()
            }
            Self::InsecureHttp { host } => format!("Use https://{host} instead."),
            Self::InvalidName { .. } => "An instance name has only letters, digits and hyphens, \
                                         like acme or acme-dev."
                .into(),
            Self::InvalidHost { .. } => {
                "Copy the address from your browser's address bar while signed in to ServiceNow."
                    .into()
            }
        }
    }
}

impl InstanceUrl {
    /// Parses what a person typed; see the module docs for what is accepted.
    pub fn parse(input: &str) -> Result<Self, InstanceUrlError> {
        Self::parse_explained(input).map(|(url, _)| url)
    }

    /// Like [`parse`](Self::parse), also saying in plain words what was changed in the input,
    /// so the UI can show "path /now/nav/ui/home dropped" next to the result.
    pub fn parse_explained(input: &str) -> Result<(Self, Vec<String>), InstanceUrlError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(InstanceUrlError::Empty);
        }
        if text.chars().count() > MAX_INPUT_LEN {
            return Err(InstanceUrlError::TooLong {
                len: text.chars().count(),
            });
        }
        if text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
        {
            return Err(InstanceUrlError::Whitespace);
        }

        // Credentials are refused before anything is quoted back: no later message may echo a
        // password, whatever else is wrong with the address.
        if authority(text).contains('@')
            || text.split_once("://").is_some_and(|(s, _)| s.contains('@'))
        {
            return Err(InstanceUrlError::Credentials);
        }

        let mut notes = Vec::new();
        let with_scheme = match text.split_once("://") {
            Some((scheme, _)) => {
                let scheme = scheme.to_ascii_lowercase();
                if !is_scheme(&scheme) {
                    return Err(InstanceUrlError::InvalidHost {
                        host: crate::text::untrusted(host_part(text), 80),
                        reason: "the text before :// is not a web address scheme".into(),
                    });
                }
                if scheme != "https" && scheme != "http" {
                    return Err(InstanceUrlError::UnsupportedScheme { scheme });
                }
                text.to_owned()
            }
            None => format!("https://{}", text.trim_start_matches("//")),
        };

        // A bare name made only of digits ("08") is read as an IPv4 address by the URL
        // standard; parse such a name as the instance host it will become.
        let url = Url::parse(&with_scheme)
            .or_else(|err| match bare_name(host_part(text)) {
                Some(name) if !name.is_empty() => {
                    let (scheme, rest) = with_scheme.split_once("://").unwrap_or_default();
                    let rest = rest.replacen(name, &format!("{name}.{SERVICE_NOW_DOMAIN}"), 1);
                    Url::parse(&format!("{scheme}://{rest}"))
                }
                _ => Err(err),
            })
            .map_err(|err| InstanceUrlError::InvalidHost {
                host: host_part(text).to_owned(),
                reason: err.to_string(),
            })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InstanceUrlError::Credentials);
        }

        let host = match url.host() {
            Some(Host::Domain(domain)) => domain.trim_end_matches('.').to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => format!("[{ip}]"),
            None => {
                return Err(InstanceUrlError::InvalidHost {
                    host: host_part(text).to_owned(),
                    reason: "there is no host name".into(),
                });
            }
        };
        let loopback = is_loopback(&url);

        let host = if let Some(name) = bare_name(host_part(text)) {
            validate_instance_name(name)?;
            if url.port().is_some() {
                return Err(InstanceUrlError::InvalidName {
                    name: name.to_owned(),
                    reason: "a port needs the full host name, like acme.service-now.com:8443",
                });
            }
            let full = format!("{}.{SERVICE_NOW_DOMAIN}", name.to_ascii_lowercase());
            notes.push(format!("\"{name}\" expanded to {full}"));
            full
        } else {
            validate_host(&host, &url)?;
            host
        };

        let scheme = url.scheme();
        if scheme == "http" && !loopback {
            return Err(InstanceUrlError::InsecureHttp { host });
        }
        if !text.contains("://") {
            notes.push(format!("{scheme}:// added"));
        }
        let path = url.path();
        if !path.is_empty() && path != "/" {
            notes.push(format!("path {path} dropped"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            notes.push("query and fragment dropped".into());
        }

        let origin = match url.port() {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        };
        Ok((Self { origin, host }, notes))
    }

    /// The origin without a trailing slash, e.g. `https://acme.service-now.com`.
    /// A page of the instance's own UI, from a classic UI target such as
    /// `sys_user.do?sys_id=…` or `oauth_entity_list.do?sysparm_query=…`: opened through
    /// `nav_to.do`, which every release redirects to the UI it uses, signing the person in first.
    pub fn ui_link(&self, target: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        format!("{}/nav_to.do?uri={encoded}", self.origin)
    }

    pub fn as_str(&self) -> &str {
        &self.origin
    }

    /// The host name (IPv6 addresses in brackets), without the port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The instance name for `*.service-now.com` hosts (`acme`), `None` for custom domains.
    pub fn instance_name(&self) -> Option<&str> {
        self.host
            .strip_suffix(SERVICE_NOW_DOMAIN)
            .and_then(|prefix| prefix.strip_suffix('.'))
            .filter(|name| !name.contains('.'))
    }

    /// An absolute URL on this instance for `path` (which must start with `/`).
    pub fn endpoint(&self, path: &str) -> Result<Url, url::ParseError> {
        Url::parse(&format!("{}{}", self.origin, path))
    }
}

/// What the UI and `snowlink instance parse --json` show for a parsed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct InstanceUrlView {
    /// The canonical origin, e.g. `https://acme.service-now.com`.
    pub url: String,
    pub host: String,
    /// `acme` for `acme.service-now.com`; absent for custom domains.
    pub instance_name: Option<String>,
    /// What was changed in the input, in plain words ("path /now/nav/ui/home dropped").
    pub notes: Vec<String>,
}

impl InstanceUrlView {
    /// Parses `input` and describes the result; see [`InstanceUrl::parse_explained`].
    pub fn parse(input: &str) -> Result<Self, InstanceUrlError> {
        let (url, notes) = InstanceUrl::parse_explained(input)?;
        Ok(Self {
            url: url.origin.clone(),
            instance_name: url.instance_name().map(str::to_owned),
            host: url.host,
            notes,
        })
    }
}

impl std::str::FromStr for InstanceUrl {
    type Err = InstanceUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

crate::text::checked_text!(InstanceUrl);

/// The authority as typed: everything between an optional scheme and the first `/`, `\`, `?`
/// or `#` (the URL standard treats `\` like `/` in http(s) URLs).
fn authority(text: &str) -> &str {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let rest = rest.trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// The host (and port) as typed: the authority without any user name or password.
fn host_part(text: &str) -> &str {
    let authority = authority(text);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// RFC 3986 §3.1: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The instance name when the typed host is a single label other than `localhost` (`acme`,
/// `acme-dev`). Judged on the typed text because the URL standard reads a lone number such
/// as `12345` as an IPv4 address.
fn bare_name(typed_host: &str) -> Option<&str> {
    let name = typed_host.split(':').next().unwrap_or(typed_host);
    (!name.contains(['.', '[']) && !name.eq_ignore_ascii_case("localhost")).then_some(name)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.trim_end_matches('.') == "localhost",
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Zero-width and bidi control characters that make two addresses look the same.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}' | '\u{FEFF}')
}

fn validate_instance_name(name_only: &str) -> Result<(), InstanceUrlError> {
    let invalid = |reason| InstanceUrlError::InvalidName {
        name: name_only.to_owned(),
        reason,
    };
    if name_only.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name_only.len() > MAX_LABEL_LEN {
        return Err(invalid("it is longer than 63 characters"));
    }
    if !name_only
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(invalid("only letters, digits and hyphens are allowed"));
    }
    if name_only.starts_with('-') || name_only.ends_with('-') {
        return Err(invalid("it cannot start or end with a hyphen"));
    }
    Ok(())
}

fn validate_host(host: &str, url: &Url) -> Result<(), InstanceUrlError> {
    let invalid = |reason: &str| InstanceUrlError::InvalidHost {
        host: host.to_owned(),
        reason: reason.to_owned(),
    };
    if !matches!(url.host(), Some(Host::Domain(_))) {
        return Ok(());
    }
    if host == SERVICE_NOW_DOMAIN {
        return Err(invalid(
            "the instance name is missing, as in acme.service-now.com",
        ));
    }
    if !host.contains('.') && host != "localhost" {
        return Err(invalid("it needs a domain, as in acme.service-now.com"));
    }
    if host.len() > MAX_HOST_LEN {
        return Err(invalid("it is longer than 253 characters"));
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(invalid("it has an empty part between two dots"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(invalid("one part is longer than 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(invalid(
                "only letters, digits, hyphens and dots are allowed",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a part cannot start or end with a hyphen"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(input: &str) -> String {
        match InstanceUrl::parse(input) {
            Ok(url) => url.to_string(),
            Err(err) => panic!("{input:?} was refused: {err}"),
        }
    }

    fn err(input: &str) -> InstanceUrlError {
        match InstanceUrl::parse(input) {
            Ok(url) => panic!("{input:?} was accepted as {url}"),
            Err(err) => err,
        }
    }

    #[test]
    fn accepts_what_people_type() {
        let cases = [
            ("acme", "https://acme.service-now.com"),
            ("08", "https://08.service-now.com"),
            ("0x1", "https://0x1.service-now.com"),
            ("  Acme-Dev  ", "https://acme-dev.service-now.com"),
            ("acme/", "https://acme.service-now.com"),
            ("12345", "https://12345.service-now.com"),
            ("acme.service-now.com", "https://acme.service-now.com"),
            ("ACME.Service-Now.com", "https://acme.service-now.com"),
            ("acme.service-now.com.", "https://acme.service-now.com"),
            (
                "https://acme.service-now.com/",
                "https://acme.service-now.com",
            ),
            (
                "https://acme.service-now.com/now/nav/ui/home",
                "https://acme.service-now.com",
            ),
            (
                "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D1#top",
                "https://acme.service-now.com",
            ),
            (
                "HTTPS://acme.service-now.com",
                "https://acme.service-now.com",
            ),
            ("https://itsm.example.com", "https://itsm.example.com"),
            ("itsm.example.com/sp", "https://itsm.example.com"),
            ("https://itsm.example.com:443/", "https://itsm.example.com"),
            (
                "https://itsm.example.com:8443",
                "https://itsm.example.com:8443",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:3000/api", "http://localhost:3000"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("https://10.1.2.3", "https://10.1.2.3"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("//acme.service-now.com", "https://acme.service-now.com"),
        ];
        for (input, expected) in cases {
            assert_eq!(ok(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        assert_eq!(err(""), InstanceUrlError::Empty);
        assert_eq!(err("   \t\n"), InstanceUrlError::Empty);
        assert_eq!(err("ac me"), InstanceUrlError::Whitespace);
        assert_eq!(err("acme\u{200B}"), InstanceUrlError::Whitespace);
        assert_eq!(
            err("https://user:pw@acme.service-now.com"),
            InstanceUrlError::Credentials
        );
        assert_eq!(
            err("admin@acme.service-now.com"),
            InstanceUrlError::Credentials
        );
        assert_eq!(
            err("ftp://acme.service-now.com"),
            InstanceUrlError::UnsupportedScheme {
                scheme: "ftp".into()
            }
        );
        assert_eq!(
            err("http://acme.service-now.com"),
            InstanceUrlError::InsecureHttp {
                host: "acme.service-now.com".into()
            }
        );
        assert_eq!(
            err("http://acme"),
            InstanceUrlError::InsecureHttp {
                host: "acme.service-now.com".into()
            }
        );
        assert!(matches!(err("ac_me"), InstanceUrlError::InvalidName { .. }));
        assert!(matches!(err("-acme"), InstanceUrlError::InvalidName { .. }));
        assert!(matches!(
            err("acme:8443"),
            InstanceUrlError::InvalidName { .. }
        ));
        assert!(matches!(
            err(&"a".repeat(64)),
            InstanceUrlError::InvalidName { .. }
        ));
        assert!(matches!(
            err("service-now.com"),
            InstanceUrlError::InvalidHost { .. }
        ));
        assert!(matches!(
            err("acme..example.com"),
            InstanceUrlError::InvalidHost { .. }
        ));
        assert!(matches!(
            err("bücher."),
            InstanceUrlError::InvalidHost { .. }
        ));
        assert!(matches!(
            err("https://"),
            InstanceUrlError::InvalidHost { .. }
        ));
        assert!(matches!(
            err("https://acme.example.com:99999"),
            InstanceUrlError::InvalidHost { .. }
        ));
        assert!(matches!(
            err(&"a.".repeat(1100)),
            InstanceUrlError::TooLong { .. }
        ));
    }

    #[test]
    fn errors_name_the_problem_and_the_fix() {
        let credentials = err("https://user:pw@acme.service-now.com");
        assert!(credentials.to_string().contains("user name or password"));
        assert!(credentials.hint().contains("keyring"));
        let http = err("http://acme.service-now.com");
        assert_eq!(http.hint(), "Use https://acme.service-now.com instead.");
        // The message never echoes a password typed into the address.
        for typed in [
            "https://user:hunter2@acme.service-now.com",
            "user:hunter2@acme.service-now.com",
            "https://hunter2@itsm.example.com/path",
        ] {
            let e = err(typed);
            assert!(!e.to_string().contains("hunter2"), "{typed}");
            assert!(!e.hint().contains("hunter2"), "{typed}");
        }
    }

    #[test]
    fn explains_what_changed() {
        let (url, notes) =
            InstanceUrl::parse_explained("acme.service-now.com/now/nav/ui/home?x=1").unwrap();
        assert_eq!(url.as_str(), "https://acme.service-now.com");
        assert_eq!(
            notes,
            vec![
                "https:// added".to_owned(),
                "path /now/nav/ui/home dropped".to_owned(),
                "query and fragment dropped".to_owned(),
            ]
        );
        let (_, notes) = InstanceUrl::parse_explained("https://acme.service-now.com").unwrap();
        assert!(notes.is_empty());
    }

    #[test]
    fn knows_instance_names_and_loopback() {
        let acme = InstanceUrl::parse("acme").unwrap();
        assert_eq!(acme.instance_name(), Some("acme"));
        assert_eq!(acme.host(), "acme.service-now.com");
        let custom = InstanceUrl::parse("itsm.example.com").unwrap();
        assert_eq!(custom.instance_name(), None);
        let deep = InstanceUrl::parse("a.b.service-now.com").unwrap();
        assert_eq!(deep.instance_name(), None);
        // Plain http is kept only where the simulator runs: loopback addresses.
        for local in ["http://localhost:1", "http://127.0.0.2:1"] {
            let url = InstanceUrl::parse(local).unwrap();
            assert!(url.as_str().starts_with("http://"), "{local}");
        }
        assert!(matches!(
            InstanceUrl::parse("http://acme.service-now.com"),
            Err(InstanceUrlError::InsecureHttp { .. })
        ));
        assert_eq!(
            acme.ui_link("sys_user.do?sys_id=-1"),
            "https://acme.service-now.com/nav_to.do?uri=sys_user.do%3Fsys_id%3D-1"
        );
        assert_eq!(
            acme.endpoint("/api/now/table/incident").unwrap().as_str(),
            "https://acme.service-now.com/api/now/table/incident"
        );
    }

    #[test]
    fn serializes_as_the_origin_and_validates_on_read() {
        let acme = InstanceUrl::parse("acme").unwrap();
        let json = serde_json::to_string(&acme).unwrap();
        assert_eq!(json, "\"https://acme.service-now.com\"");
        let back: InstanceUrl = serde_json::from_str(&json).unwrap();
        assert_eq!(back, acme);
        assert!(serde_json::from_str::<InstanceUrl>("\"http://evil.example\"").is_err());
    }

    /// Valid instance names. `??--` is reserved for IDN labels (RFC 5891 §4.2.3.1): `xn--…`
    /// must be valid punycode, so such names are not plain instance names.
    fn instance_name() -> impl Strategy<Value = String> {
        "[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?"
            .prop_filter("reserved IDN prefix", |name| name.get(2..4) != Some("--"))
    }

    proptest! {
        #[test]
        fn never_panics_and_results_are_canonical(
            input in prop_oneof![
                "\\PC{0,80}",
                "(https?://|//)?[a-zA-Z0-9.:/\\\\@?#%\\[\\]_-]{0,40}",
            ]
        ) {
            if let Ok(url) = InstanceUrl::parse(&input) {
                let text = url.as_str();
                let plain = text.starts_with("http://")
                    && is_loopback(&Url::parse(text).expect("a URL"));
                prop_assert!(text.starts_with("https://") || plain);
                prop_assert!(!text.contains('@'));
                prop_assert!(!text.ends_with('/'));
                prop_assert_eq!(InstanceUrl::parse(text), Ok(url.clone()));
            }
        }

        #[test]
        fn bare_names_expand(name in instance_name()) {
            prop_assert_eq!(ok(&name), format!("https://{name}.service-now.com"));
        }

        #[test]
        fn paths_queries_and_spaces_around_are_dropped(
            name in instance_name(),
            path in "(/[a-z0-9_.]{0,10}){0,4}",
            query in proptest::option::of("[a-z]{1,5}=[a-z0-9]{0,5}"),
        ) {
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            let typed = format!("  https://{name}.service-now.com{path}{query} ");
            prop_assert_eq!(ok(&typed), format!("https://{name}.service-now.com"));
        }

        #[test]
        fn credentials_are_always_refused(user in "[a-z]{1,8}", password in "[a-z0-9]{0,8}", name in instance_name()) {
            let typed = format!("https://{user}:{password}@{name}.service-now.com");
            prop_assert_eq!(InstanceUrl::parse(&typed), Err(InstanceUrlError::Credentials));
        }
    }

    #[test]
    fn credentials_are_never_echoed_whatever_else_is_wrong() {
        for input in [
            "https://bob:hunter2@acme.service-now.com:99999",
            "https://bob:hunter2@bad_host!.example.com",
            "bob:hunter2@acme:70000",
            "ftp://bob:hunter2@acme",
            "bob:hunter2@x://acme",
            "https://bob:hunter2@",
            "https://hunter2@[::1",
        ] {
            let err = InstanceUrl::parse(input).unwrap_err();
            let shown = format!("{err} {} {err:?}", err.hint());
            assert!(!shown.contains("hunter2"), "{input}: {shown}");
            assert_eq!(err, InstanceUrlError::Credentials, "{input}");
        }
    }
}
