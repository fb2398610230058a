//! The realms that `WWW-Authenticate` values name in `Bearer` challenges, for the allow-list.
//!
//! RFC 9110 §11.6.1: `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, with
//! `auth-param = token BWS "=" BWS ( token / quoted-string )`; parameter names are
//! case-insensitive, and one header value may hold several challenges
//! (`Basic realm="r", Bearer realm="https://auth/token"`). The component reads challenges
//! that way (`src/auth/challenge.rs`), so the host must too: a realm the component follows
//! but the host never admitted would end every token request in a refusal.

/// Every non-empty `realm` of a `Bearer` challenge in `value`, in order.
pub fn bearer_realms(value: &str) -> Vec<String> {
    let mut realms = Vec::new();
    let mut in_bearer = false;
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return realms;
        }
        let end = rest
            .find(|c: char| c == '=' || c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(end);
        match after.trim_start().strip_prefix('=') {
            // A parameter of the current challenge (or the padding of a token68).
            Some(assigned) => {
                let (param, remaining) = parameter_value(assigned.trim_start());
                if in_bearer && name.eq_ignore_ascii_case("realm") && !param.is_empty() {
                    realms.push(param);
                }
                rest = remaining;
            }
            // A new challenge's scheme, or a token68.
            None => {
                in_bearer = name.eq_ignore_ascii_case("bearer");
                rest = after;
            }
        }
    }
}

/// A quoted-string (`\` escapes a character) or a bare value up to the next `,`; and what
/// follows it.
fn parameter_value(text: &str) -> (String, &str) {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(',').unwrap_or(text.len());
        return (text[..end].trim().to_string(), &text[end..]);
    };
    let mut value = String::new();
    let mut escaped = false;
    for (i, c) in quoted.char_indices() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, '"') => return (value, &quoted[i + 1..]),
            _ => {
                value.push(c);
                escaped = false;
            }
        }
    }
    (value, "")
}

#[cfg(test)]
mod tests {
    use super::bearer_realms;

    #[test]
    fn the_forms_distribution_and_others_send() {
        let distribution =
            r#"Bearer realm="http://127.0.0.1:6000/token",service="s",scope="repository:r:pull""#;
        assert_eq!(
            bearer_realms(distribution),
            vec!["http://127.0.0.1:6000/token"]
        );
        // Scheme and parameter names in any case, spaces around `=`, a bare value.
        for value in [
            r#"BEARER Realm="http://a:1/t", service="s""#,
            r#"bearer service="s" , realm = "http://a:1/t""#,
            "Bearer realm=http://a:1/t, scope=x",
        ] {
            assert_eq!(bearer_realms(value), vec!["http://a:1/t"], "{value}");
        }
    }

    #[test]
    fn several_challenges_in_one_value() {
        let both = r#"Basic realm="basic realm", Bearer realm="http://a:1/t",scope="r""#;
        assert_eq!(bearer_realms(both), vec!["http://a:1/t"]);
        let bearer_first = r#"Bearer realm="http://a:1/t", Basic realm="http://b:2/""#;
        assert_eq!(bearer_realms(bearer_first), vec!["http://a:1/t"]);
    }

    #[test]
    fn only_the_realm_parameter_of_a_bearer_challenge() {
        // Text that looks like a realm inside another parameter's value is not one.
        let tricky = r#"Bearer scope="x realm=\"http://evil:1/\"", realm="http://a:1/t""#;
        assert_eq!(bearer_realms(tricky), vec!["http://a:1/t"]);
        assert!(bearer_realms(r#"Basic realm="http://b:2/""#).is_empty());
        assert!(bearer_realms(r#"Bearer service="s""#).is_empty());
        assert!(bearer_realms(r#"Bearer realm="""#).is_empty());
        assert!(bearer_realms("Negotiate abc==, NTLM").is_empty());
        assert!(bearer_realms("").is_empty());
        assert_eq!(
            bearer_realms(r#"Bearer realm="http://a:1/t?x=\"y\"""#),
            vec![r#"http://a:1/t?x="y""#]
        );
    }
}
