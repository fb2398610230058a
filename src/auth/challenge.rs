//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1; distribution spec, "Token Authentication").

/// What the registry asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// The challenge of a 401 answer's `WWW-Authenticate` values: Bearer where one is offered
/// (with a realm), else Basic. Unknown schemes give `None`.
pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Option<Challenge> {
    let mut basic = false;
    for value in values {
        for (scheme, params) in split_challenges(value) {
            if scheme.eq_ignore_ascii_case("bearer") {
                if let Some(realm) = param(&params, "realm").filter(|r| !r.is_empty()) {
                    return Some(Challenge::Bearer {
                        realm: realm.clone(),
                        service: param(&params, "service").cloned(),
                        scope: param(&params, "scope").cloned(),
                    });
                }
            } else if scheme.eq_ignore_ascii_case("basic") {
                basic = true;
            }
        }
    }
    basic.then_some(Challenge::Basic)
}

/// A challenge's parameters, names lowercased, in the order given. A list, not a map: there
/// are a handful, and a `BTreeMap` would add kilobytes to the component (docs/performance.md, "What bounds the figures").
type Params = Vec<(String, String)>;

/// The value of parameter `name`; the last one where it is given more than once.
fn param<'a>(params: &'a Params, name: &str) -> Option<&'a String> {
    params.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Splits one header value into challenges: `scheme k=v, k="v, w", scheme2 ...`.
fn split_challenges(value: &str) -> Vec<(String, Params)> {
    let mut out: Vec<(String, Params)> = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        // A token followed by '=' is a parameter of the current challenge; else a new scheme.
        let token_end = rest
            .find(|c: char| c == '=' || c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        let token = &rest[..token_end];
        let after = rest[token_end..].trim_start();
        if let (Some(stripped), false) = (after.strip_prefix('='), out.is_empty()) {
            let (value, remaining) = parameter_value(stripped.trim_start());
            out.last_mut()
                .expect("checked")
                .1
                .push((token.to_ascii_lowercase(), value));
            rest = remaining.trim_start().trim_start_matches(',').trim_start();
        } else if !token.is_empty() {
            out.push((token.to_string(), Params::new()));
            rest = after.trim_start_matches(',').trim_start();
        } else {
            rest = rest[1..].trim_start();
        }
    }
    out
}

/// A quoted string (with `\` escapes) or a token, and what follows it.
fn parameter_value(text: &str) -> (String, &str) {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                _ => value.push(c),
            }
        }
        (value, "")
    } else {
        let end = text.find(',').unwrap_or(text.len());
        (text[..end].trim().to_string(), &text[end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_give_realm_service_and_scope() {
        let v = r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#;
        assert_eq!(
            parse([v].into_iter()),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        let unquoted = "bearer realm=https://a/t, service=s";
        assert!(
            matches!(parse([unquoted].into_iter()), Some(Challenge::Bearer { service: Some(s), .. }) if s == "s")
        );
    }

    #[test]
    fn basic_and_several_challenges() {
        assert_eq!(
            parse([r#"Basic realm="Registry Realm""#].into_iter()),
            Some(Challenge::Basic)
        );
        let both = r#"Basic realm="x", Bearer realm="https://a/t",scope="repository:r:pull""#;
        assert!(matches!(
            parse([both].into_iter()),
            Some(Challenge::Bearer { .. })
        ));
        let twice = r#"Bearer realm="https://a/first", REALM="https://a/second""#;
        assert!(
            matches!(parse([twice].into_iter()), Some(Challenge::Bearer { realm, .. }) if realm == "https://a/second")
        );
        assert_eq!(parse(["Negotiate"].into_iter()), None);
        assert_eq!(parse(["Bearer service=\"no realm\""].into_iter()), None);
        let escaped = r#"Bearer realm="https://a/t?x=\"y\"""#;
        assert!(
            matches!(parse([escaped].into_iter()), Some(Challenge::Bearer { realm, .. }) if realm == "https://a/t?x=\"y\"")
        );
    }
}
