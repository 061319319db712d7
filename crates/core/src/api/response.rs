//! Turns one HTTP answer from an instance into JSON or a typed [`ApiError`]. Pure: it sees the
//! status, a few headers and the body, so every ServiceNow answer in `docs/servicenow.md` is
//! tested here without a network. The content type is checked before anything is parsed,
//! because a hibernating instance answers HTML with status 200.

use std::time::Duration;

use serde_json::Value;

use super::error::{ApiError, AuthFailure, Forbidden};

/// The parts of a response the classification looks at.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub mfa_token: Option<&'a str>,
    pub retry_after: Option<&'a str>,
    /// `X-RateLimit-Limit`: present only when a rate-limit rule answered.
    pub rate_limit: Option<&'a str>,
    /// `X-RateLimit-Rule`: the rule's sys_id.
    pub rate_limit_rule: Option<&'a str>,
    pub location: Option<&'a str>,
    pub body: &'a [u8],
}

/// What the request was about, for error messages ("incident", "/api/snc/oauth_userinfo").
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub table: Option<&'a str>,
    pub path: &'a str,
}

/// The longest server message quoted in an error; longer ones are cut.
const MAX_QUOTED: usize = 200;

/// Longest `Retry-After` honoured; a hostile or broken server cannot park the client.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

pub fn classify(answer: &Answer<'_>, subject: Subject<'_>) -> Result<Value, ApiError> {
    let status = answer.status;
    let is_json = answer.content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if (200..300).contains(&status) {
        if status == 204 {
            return Ok(Value::Null);
        }
        if !is_json {
            return Err(not_json(answer));
        }
        if quota_cancelled(answer.body) {
            return Err(ApiError::QuotaCancelled);
        }
        let value: Value =
            serde_json::from_slice(answer.body).map_err(|err| ApiError::Malformed {
                detail: format!(
                    "invalid JSON at line {} column {}",
                    err.line(),
                    err.column()
                ),
            })?;
        // servicenow.md item 38: a 200 whose body says failure is a failure either way.
        if value.get("status").and_then(Value::as_str) == Some("failure") {
            let (message, _) = error_texts(answer.body);
            return Err(if message.contains("Transaction cancelled") {
                ApiError::QuotaCancelled
            } else {
                ApiError::ReportedFailure {
                    message: quoted(&message),
                }
            });
        }
        return Ok(value);
    }
    if (300..400).contains(&status) {
        return Err(ApiError::Redirected {
            location: answer.location.map(strip_query).unwrap_or_default(),
        });
    }
    if status == 429 {
        // servicenow.md §2.8: a rule sends X-RateLimit-* headers, a full queue sends none.
        if answer.rate_limit.is_none() && answer.rate_limit_rule.is_none() {
            return Err(ApiError::QueueFull);
        }
        return Err(ApiError::RateLimited {
            retry_after: answer.retry_after.and_then(parse_retry_after),
            rule: answer
                .rate_limit_rule
                .and_then(|rule| crate::text::SysId::parse(rule.trim()).ok())
                .map(|id| id.to_string()),
        });
    }
    let (message, detail) = if is_json {
        error_texts(answer.body)
    } else {
        (String::new(), String::new())
    };
    let what = subject.table.unwrap_or(subject.path).to_owned();
    match status {
        401 => Err(ApiError::NotAuthenticated(
            if answer
                .mfa_token
                .is_some_and(|v| v.eq_ignore_ascii_case("invalid"))
            {
                AuthFailure::MfaRequired
            } else {
                AuthFailure::Rejected
            },
        )),
        403 => {
            let text = format!("{message} {detail}").to_ascii_lowercase();
            let kind = if text.contains("api level acl") || text.contains("user not authorized") {
                Forbidden::ApiAcl
            } else if text.contains("scope") {
                Forbidden::MissingScope
            } else if text.contains("insufficient rights") || text.contains("acl exception") {
                Forbidden::RecordAcl
            } else {
                Forbidden::Other
            };
            Err(ApiError::Forbidden { kind, what })
        }
        404 => Err(ApiError::NotFound { what }),
        400 if message.starts_with("Invalid table") => Err(ApiError::InvalidTable {
            table: subject.table.map_or_else(
                || quoted(message.trim_start_matches("Invalid table").trim()),
                str::to_owned,
            ),
        }),
        400 if message.contains("does not represent any resource") => Err(ApiError::PathNotFound {
            path: subject.path.to_owned(),
        }),
        400 => Err(ApiError::BadRequest {
            message: quoted(&message),
        }),
        _ if !is_json && status < 500 => Err(not_json(answer)),
        _ => Err(ApiError::Server { status }),
    }
}

/// servicenow.md item 14: a quota rule appends `{"error":{"message":"Transaction cancelled: …"},
/// "status":"failure"}` to a partial body, so the whole is not one JSON document. Only the end
/// of the body is searched.
fn quota_cancelled(body: &[u8]) -> bool {
    let tail = &body[body.len().saturating_sub(4096)..];
    let tail = String::from_utf8_lossy(tail);
    tail.contains("Transaction cancelled") && serde_json::from_slice::<Value>(body).is_err()
}

fn not_json(answer: &Answer<'_>) -> ApiError {
    // Only a prefix is searched: a page is small, and a hostile one may be huge.
    let head = &answer.body[..answer.body.len().min(64 * 1024)];
    if String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("hibernating")
    {
        return ApiError::Hibernating;
    }
    ApiError::NotAnApiResponse {
        status: answer.status,
        content_type: quoted(answer.content_type.unwrap_or("no content type")),
    }
}

/// `{"error":{"message":…,"detail":…},"status":"failure"}` → (message, detail).
fn error_texts(body: &[u8]) -> (String, String) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return (String::new(), String::new());
    };
    let text = |key: &str| value["error"][key].as_str().unwrap_or_default().to_owned();
    (text("message"), text("detail"))
}

/// A server-supplied text made safe to show: no control characters, bounded length.
fn quoted(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUOTED)
        .collect();
    if text.chars().count() > MAX_QUOTED {
        format!("{clean}…")
    } else {
        clean
    }
}

fn strip_query(location: &str) -> String {
    quoted(location.split(['?', '#']).next().unwrap_or_default())
}

/// RFC 9110 §10.2.3: delay-seconds (an HTTP date is treated as unknown), capped.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: &'static str, body: &'static str) -> Answer<'static> {
        Answer {
            status,
            content_type: Some(content_type),
            mfa_token: None,
            retry_after: None,
            rate_limit: None,
            rate_limit_rule: None,
            location: None,
            body: body.as_bytes(),
        }
    }

    const TABLE: Subject<'static> = Subject {
        table: Some("incident"),
        path: "/api/now/v2/table/incident",
    };
    const JSON: &str = "application/json;charset=UTF-8";

    fn envelope(message: &str, detail: &str) -> String {
        serde_json::json!({"error": {"message": message, "detail": detail}, "status": "failure"})
            .to_string()
    }

    fn classify_owned(status: u16, body: String) -> Result<Value, ApiError> {
        let answer = Answer {
            body: body.as_bytes(),
            ..answer(status, JSON, "")
        };
        classify(&answer, TABLE)
    }

    #[test]
    fn json_success_is_parsed_and_204_is_empty() {
        let value = classify(&answer(200, JSON, r#"{"result":[]}"#), TABLE).unwrap();
        assert_eq!(value["result"], serde_json::json!([]));
        assert_eq!(
            classify(&answer(204, "text/plain", ""), TABLE).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn hibernating_instance_answers_html_with_200() {
        let page = "<html><body><h1>Your instance is hibernating</h1></body></html>";
        let err = classify(&answer(200, "text/html;charset=UTF-8", page), TABLE).unwrap_err();
        assert!(matches!(err, ApiError::Hibernating), "{err:?}");
        assert!(err.is_retryable());
    }

    #[test]
    fn other_html_is_not_an_api_response_and_bad_json_is_malformed() {
        let err = classify(&answer(200, "text/html", "<html>Sign in</html>"), TABLE).unwrap_err();
        assert!(
            matches!(err, ApiError::NotAnApiResponse { status: 200, .. }),
            "{err:?}"
        );
        let err = classify(&answer(200, JSON, "{\"result\": ["), TABLE).unwrap_err();
        assert!(matches!(err, ApiError::Malformed { .. }), "{err:?}");
        let missing = Answer {
            content_type: None,
            ..answer(200, JSON, "{}")
        };
        assert!(matches!(
            classify(&missing, TABLE),
            Err(ApiError::NotAnApiResponse { .. })
        ));
    }

    #[test]
    fn unauthenticated_is_told_apart_from_mfa() {
        let body = envelope(
            "User Not Authenticated",
            "Required to provide Auth information",
        );
        let err = classify_owned(401, body.clone()).unwrap_err();
        assert!(
            matches!(err, ApiError::NotAuthenticated(AuthFailure::Rejected)),
            "{err:?}"
        );
        let mfa = Answer {
            mfa_token: Some("invalid"),
            ..answer(401, JSON, "")
        };
        let mfa = Answer {
            body: body.as_bytes(),
            ..mfa
        };
        let err = classify(&mfa, TABLE).unwrap_err();
        assert!(
            matches!(err, ApiError::NotAuthenticated(AuthFailure::MfaRequired)),
            "{err:?}"
        );
        assert!(err.hint().contains("one-time code"));
    }

    #[test]
    fn forbidden_kinds_follow_the_real_messages() {
        let cases = [
            (
                envelope("User Not Authorized", "Failed API level ACL Validation"),
                Forbidden::ApiAcl,
            ),
            (
                envelope(
                    "Insufficient rights to query records",
                    "Fields present in the query do not have permission to be read",
                ),
                Forbidden::RecordAcl,
            ),
            (
                envelope(
                    "Operation Failed",
                    "ACL Exception Insert Failed due to security constraints",
                ),
                Forbidden::RecordAcl,
            ),
            (
                envelope("Missing required api access scope", ""),
                Forbidden::MissingScope,
            ),
            (envelope("Forbidden", ""), Forbidden::Other),
        ];
        for (body, expected) in cases {
            match classify_owned(403, body.clone()) {
                Err(ApiError::Forbidden { kind, what }) => {
                    assert_eq!(kind, expected, "{body}");
                    assert_eq!(what, "incident");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_table_and_scripted_path_point_at_the_update_set() {
        let err = classify_owned(400, envelope("Invalid table x_acme_link", "")).unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidTable { table } if table == "incident"),
            "{err:?}"
        );
        assert!(err.hint().contains("update set"));
        let scripted = Subject {
            table: None,
            path: "/api/x_acme/link/ping",
        };
        let body = envelope("Requested URI does not represent any resource", "");
        let answer = Answer {
            body: body.as_bytes(),
            ..answer(400, JSON, "")
        };
        let err = classify(&answer, scripted).unwrap_err();
        assert!(matches!(&err, ApiError::PathNotFound { path } if path == "/api/x_acme/link/ping"));
    }

    #[test]
    fn not_found_rate_limit_redirect_and_server_errors() {
        let err = classify_owned(
            404,
            envelope(
                "No Record found",
                "Record doesn't exist or ACL restricts the record retrieval",
            ),
        )
        .unwrap_err();
        assert!(matches!(err, ApiError::NotFound { .. }));
        let limited = Answer {
            retry_after: Some("7"),
            rate_limit: Some("100"),
            rate_limit_rule: Some("0123456789ABCDEF0123456789abcdef"),
            ..answer(429, JSON, "{}")
        };
        let err = classify(&limited, TABLE).unwrap_err();
        assert!(
            matches!(&err, ApiError::RateLimited { retry_after: Some(d), rule: Some(rule) }
                if *d == Duration::from_secs(7) && rule == "0123456789abcdef0123456789abcdef"),
            "{err:?}"
        );
        let forever = Answer {
            retry_after: Some("99999999"),
            rate_limit: Some("100"),
            ..answer(429, JSON, "{}")
        };
        assert!(matches!(
            classify(&forever, TABLE),
            Err(ApiError::RateLimited {
                retry_after: Some(MAX_RETRY_AFTER),
                rule: None,
            })
        ));
        // servicenow.md §2.8: no rate-limit header at all is a full request queue.
        let queue = Answer {
            retry_after: Some("3"),
            ..answer(429, JSON, "{}")
        };
        assert!(matches!(classify(&queue, TABLE), Err(ApiError::QueueFull)));
        let moved = Answer {
            location: Some("https://sso.example.com/login?token=abc"),
            ..answer(302, "text/html", "")
        };
        let err = classify(&moved, TABLE).unwrap_err();
        assert!(
            matches!(&err, ApiError::Redirected { location } if location == "https://sso.example.com/login")
        );
        assert!(matches!(
            classify_owned(503, String::new()),
            Err(ApiError::Server { status: 503 })
        ));
    }

    #[test]
    fn a_quota_cancelled_transaction_is_told_from_bad_json() {
        let body = concat!(
            r#"{"result":[{"number":"INC0010001"},{"number":"INC00"#,
            r#"{"error":{"message":"Transaction cancelled: maximum execution time exceeded","detail":"x"},"status":"failure"}"#
        );
        let err = classify(&answer(200, JSON, body), TABLE).unwrap_err();
        assert!(matches!(err, ApiError::QuotaCancelled), "{err:?}");
        assert!(err.hint().contains("Narrow the query"));
        let err = classify(&answer(200, JSON, r#"{"result":[{"a":"#), TABLE).unwrap_err();
        assert!(matches!(err, ApiError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn a_200_whose_body_says_failure_is_a_failure() {
        let cancelled = r#"{"result":[{"number":"INC0010001"}],"error":{"message":"Transaction cancelled: maximum execution time exceeded","detail":"x"},"status":"failure"}"#;
        let err = classify(&answer(200, JSON, cancelled), TABLE).unwrap_err();
        assert!(matches!(err, ApiError::QuotaCancelled), "{err:?}");
        let other =
            r#"{"result":[],"error":{"message":"Something broke","detail":""},"status":"failure"}"#;
        let err = classify(&answer(200, JSON, other), TABLE).unwrap_err();
        assert!(
            matches!(&err, ApiError::ReportedFailure { message } if message == "Something broke"),
            "{err:?}"
        );
        let fine = r#"{"result":[],"status":"success"}"#;
        assert!(classify(&answer(200, JSON, fine), TABLE).is_ok());
    }

    #[test]
    fn server_texts_are_bounded_and_stripped_of_control_characters() {
        let long = format!("bad\u{1b}[31m {}", "x".repeat(5000));
        let err = classify_owned(400, envelope(&long, "")).unwrap_err();
        let ApiError::BadRequest { message } = err else {
            panic!("{err:?}")
        };
        assert!(!message.contains('\u{1b}'));
        assert!(message.chars().count() <= MAX_QUOTED + 1);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_hostile_answers(
            status in 100u16..600,
            content_type in proptest::option::of("\\PC{0,40}"),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            header in proptest::option::of("\\PC{0,20}"),
        ) {
            let answer = Answer {
                status,
                content_type: content_type.as_deref(),
                mfa_token: header.as_deref(),
                retry_after: header.as_deref(),
                rate_limit: header.as_deref(),
                rate_limit_rule: header.as_deref(),
                location: header.as_deref(),
                body: &body,
            };
            let _ = classify(&answer, TABLE);
        }
    }
}
