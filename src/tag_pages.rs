//! The tag list, page by page (distribution-spec, "Listing Tags", end-8a and end-8b).
//!
//! Pages are asked for with `n` = [`PAGE_SIZE`]: the fewer pages, the faster a list where a
//! registry reads its whole tag folder for each page (distribution 3 does, so 100,000 tags in
//! pages of 1,000 take 100 readings: docs/performance-scale.md). A registry that bounds `n`
//! either refuses it, answering the first page `400` (`PAGINATION_NUMBER_INVALID`), or
//! clamps it, answering a first page shorter than asked with a `Link` (distribution v3.1.2
//! clamps to `tags.maxtags`, 1000 by default: registry/handlers/tags.go, `GetTags`). Either
//! way the list starts again without `n`, where distribution 3 answers every tag at once (as
//! distribution 2.8 always does) and a registry that pages by itself sends `Link`; the
//! registry is remembered as such. A first page clamped below [`CLAMPED_AT_LEAST`] is
//! followed as it is: a registry with small pages of its own pages without `n` too.
//!
//! Pages that name no next page: a response to `tags/list?n=<int>` MAY carry a
//! `Link: <...>; rel="next"` header when more tags follow; without one it holds `<int>` tags
//! unless fewer remain. A full page without `Link` may therefore have more after it, which
//! `last=<its last tag>` asks for. go-containerregistry's registry pages this way
//! (pkg/registry/manifest.go, `handleTags`: it honours `n` and `last`, and never sends
//! `Link`), and it has a quirk to guard against: where no tag follows `last`, it answers the
//! list from its start rather than an empty page. distribution 2.8 ignores `n` (a page larger
//! than asked is the whole list) and distribution 3 sends `Link`.

use std::collections::HashSet;

use crate::encoding::percent_encode;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Method, Request};
use crate::registry::{expect, next_link, Registry};
use crate::url::follow;

/// Tags asked for per page, where the registry paginates (distribution 2.8 ignores it).
pub const PAGE_SIZE: u32 = 10_000;
/// A first page at least this long but shorter than asked, with a `Link`, is taken for a
/// registry that clamps `n` (distribution 3's default `tags.maxtags`).
pub const CLAMPED_AT_LEAST: usize = 1000;
/// A page of the tag list larger than this is refused.
const PAGE_LIMIT: usize = 64 << 20;
/// At most this many pages are followed (a registry could link new pages forever; one
/// linking back to a page it gave is refused at once).
const PAGES_MAX: usize = 50_000;
/// A tag list longer than this is refused (about 160 MB of tags; a store of 2 million
/// objects). docs/security.md documents the bound.
pub const TAGS_MAX: usize = 2_000_000;

/// What became of a list.
enum Listed {
    Tags(Option<Vec<String>>),
    /// The first page of a list asked in pages of `n` says the registry bounds `n`: refused
    /// or clamped.
    Bounded,
}

impl Registry {
    /// Every tag of the repository; `None` where the repository does not exist.
    pub fn tags(&self) -> Result<Option<Vec<String>>> {
        match self.tags_in_pages(self.tag_page_size.get())? {
            Listed::Tags(tags) => Ok(tags),
            // The same list again without `n`, which is never bounded: this recurses once.
            Listed::Bounded => {
                self.tag_page_size.set(None);
                self.tags()
            }
        }
    }

    /// The list in pages of `size` tags (or the registry's own pages), following
    /// `Link: <...>; rel="next"` pages, and after a full page without `Link`, asking for the
    /// tags after its last.
    fn tags_in_pages(&self, size: Option<u32>) -> Result<Listed> {
        #[derive(serde::Deserialize)]
        struct Page {
            tags: Option<Vec<String>>,
        }
        let mut url = match size {
            Some(size) => self.url(&format!("tags/list?n={size}")),
            None => self.url("tags/list"),
        };
        let mut tags = Vec::new();
        // The `last=` of a page asked for after a full page without `Link`.
        let mut last: Option<String> = None;
        let mut visited = HashSet::new();
        for _ in 0..PAGES_MAX {
            let first = visited.is_empty();
            visited.insert(url.clone());
            let page = Request::new(Method::Get, url.as_str()).whole_body(PAGE_LIMIT);
            let response = self.send(page)?;
            let status = response.status;
            let response = match expect(response, &[200], Method::Get) {
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(Listed::Tags(None)),
                Err(_) if first && size.is_some() && status == 400 => return Ok(Listed::Bounded),
                other => other?,
            };
            let next = next_link(&response)
                .map(|link| follow(&url, link, "the tag list's next page"))
                .transpose()?;
            let body = response.read_to_end(PAGE_LIMIT)?;
            let page: Page = serde_json::from_slice(&body)
                .map_err(|e| Error::protocol(format!("malformed tag list: {e}")))?;
            let mut page = page.tags.unwrap_or_default();
            let clamped = page.len() >= CLAMPED_AT_LEAST
                && size.is_some_and(|size| page.len() < size as usize);
            if first && clamped && next.is_some() {
                return Ok(Listed::Bounded);
            }
            let full = size.is_some_and(|size| page.len() == size as usize);
            if let Some(last) = &last {
                keep_after(last, &mut page);
            }
            let unlinked = match next {
                None => next_unlinked(&url, size.unwrap_or(0), full, &page),
                Some(_) => None,
            };
            add_page(&mut tags, page, TAGS_MAX)?;
            last = None;
            match next {
                Some(next) if visited.contains(&next) => {
                    return Err(Error::protocol(
                        "the tag list links back to a page it already gave",
                    ))
                }
                Some(next) => url = next,
                None => match unlinked {
                    Some(page) => (url, last) = (page.url, Some(page.last)),
                    None => return Ok(Listed::Tags(Some(tags))),
                },
            }
        }
        Err(Error::protocol(format!(
            "the tag list has more than {PAGES_MAX} pages"
        )))
    }
}

/// Adds a page's tags, refusing a list longer than `max`.
fn add_page(tags: &mut Vec<String>, page: Vec<String>, max: usize) -> Result<()> {
    if tags.len() + page.len() > max {
        return Err(Error::protocol(format!(
            "the tag list has more than {max} tags"
        )));
    }
    tags.extend(page);
    Ok(())
}

/// Where the tag list goes on after a page that named no next page: `?n=<asked>&last=<the
/// greatest tag kept>` when the page was full, else nowhere (the list is complete).
/// `kept` are the page's tags after [`keep_after`]; `full` says whether the page, before that,
/// held exactly `asked` tags (a registry that ignores `n` answers more: its whole list).
pub fn next_unlinked(list_url: &str, asked: u32, full: bool, kept: &[String]) -> Option<Page> {
    if !full {
        return None;
    }
    // The greatest, not the last: each such page then starts strictly further on, so that
    // a registry answering out of order still ends.
    let last = kept.iter().max()?;
    let base = list_url.split('?').next().unwrap_or(list_url);
    Some(Page {
        url: format!("{base}?n={asked}&last={}", percent_encode(last)),
        last: last.clone(),
    })
}

/// A page asked for with `last=`.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub url: String,
    pub last: String,
}

/// Keeps the tags that follow `last` (the spec's "ASCIIbetical" order, which is `str`'s): a
/// page asked for with `last=` holds nothing else, but go-containerregistry answers from the
/// start of the list where nothing follows.
pub fn keep_after(last: &str, tags: &mut Vec<String>) {
    tags.retain(|t| t.as_str() > last);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::http::Method::Get;
    use crate::location::Location;
    use crate::registry::Registry;
    use crate::testing::{oci_error, Answer, Scripted};

    fn registry(t: &Scripted) -> Registry {
        let location = Location::parse("oci://127.0.0.1:5000/backups/laptop", None).unwrap();
        Registry::new(t.boxed(), location)
    }

    /// Tags `t00000`.. in order: what a registry lists.
    fn tags(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("t{i:05}")).collect()
    }

    /// A page's size.
    const N: usize = PAGE_SIZE as usize;

    fn page(tags: &[String]) -> Answer {
        Answer::new(200)
            .body(serde_json::json!({ "name": "backups/laptop", "tags": tags }).to_string())
    }

    const FIRST: &str = "/v2/backups/laptop/tags/list?n=10000";

    /// go-containerregistry: full pages without `Link`, then, past the end, the list again
    /// from its start.
    #[test]
    fn full_pages_without_link_go_on_with_last() {
        assert_eq!(PAGE_SIZE, 10_000);
        let all = tags(0..25_000);
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&all[..N]));
        t.expect(Get, "/tags/list?n=10000&last=t09999", page(&all[N..2 * N]));
        t.expect(Get, "/tags/list?n=10000&last=t19999", page(&all[2 * N..]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all.clone()));
        assert_eq!(t.remaining(), 0);

        let t = Scripted::default();
        t.expect(Get, FIRST, page(&all[..N]));
        // Nothing after t09999 in a list of N: crane answers the first N again.
        t.expect(Get, "/tags/list?n=10000&last=t09999", page(&all[..N]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all[..N].to_vec()));
        assert_eq!(t.remaining(), 0);
    }

    /// A page shorter than asked, or longer (distribution 2.8 ignores `n`), is the end.
    #[test]
    fn a_page_not_of_the_size_asked_for_ends_the_list() {
        for count in [0, N - 1, N + 1, 25_000] {
            let t = Scripted::default();
            t.expect(Get, FIRST, page(&tags(0..count)));
            assert_eq!(
                registry(&t).tags().unwrap(),
                Some(tags(0..count)),
                "{count}"
            );
            assert_eq!(t.seen().len(), 1);
        }
    }

    /// A full page with a `Link` is followed by its link, not by `last=`.
    #[test]
    fn a_link_wins_over_last() {
        let all = tags(0..15_000);
        let t = Scripted::default();
        let link = "</v2/backups/laptop/tags/list?n=10000&cursor=abc>; rel=\"next\"";
        t.expect(Get, FIRST, page(&all[..N]).header("link", link));
        t.expect(Get, "/tags/list?n=10000&cursor=abc", page(&all[N..]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all));
    }

    /// Out-of-order pages still end: each `last=` is greater than the one before.
    #[test]
    fn unordered_full_pages_end() {
        let mut first = tags(0..N);
        first.reverse();
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&first));
        t.expect(Get, "&last=t09999", page(&first));
        let listed = registry(&t).tags().unwrap().unwrap();
        assert_eq!(listed.len(), N);
        assert_eq!(t.remaining(), 0);
    }

    /// A repository gone between pages: no store.
    #[test]
    fn a_later_page_not_found_is_no_repository() {
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&tags(0..N)));
        t.expect(
            Get,
            "&last=t09999",
            Answer::new(404).body(oci_error("NAME_UNKNOWN")),
        );
        assert_eq!(registry(&t).tags().unwrap(), None);
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&tags(0..N)));
        t.expect(Get, "&last=t09999", Answer::new(200).body("{"));
        assert_eq!(registry(&t).tags().unwrap_err().kind, ErrorKind::Protocol);
    }

    #[test]
    fn last_is_percent_encoded_and_replaces_the_query() {
        let odd = vec!["a&b=c #d".to_string()];
        let next = next_unlinked("http://h/v2/r/tags/list?n=1&last=x", 1, true, &odd).unwrap();
        assert_eq!(
            next.url,
            "http://h/v2/r/tags/list?n=1&last=a%26b%3Dc%20%23d"
        );
        assert_eq!(next.last, "a&b=c #d");
        assert_eq!(next_unlinked("http://h/l", 1, false, &odd), None);
        assert_eq!(next_unlinked("http://h/l", 1, true, &[]), None);
        let mut page = vec!["b".to_string(), "a".into(), "c".into()];
        keep_after("b", &mut page);
        assert_eq!(page, vec!["c".to_string()]);
    }

    /// A registry that bounds `n`, refusing it (400) or clamping it (distribution v3.1.2: a
    /// page of 1000 with a `Link`): the list starts again without `n`, and later lists ask
    /// without it at once.
    #[test]
    fn a_bounded_page_size_lists_again_without_n() {
        let all = tags(0..2500);
        let refused = Answer::new(400).body(oci_error("PAGINATION_NUMBER_INVALID"));
        let link = "</v2/backups/laptop/tags/list?n=1000&last=t00999>; rel=\"next\"";
        for first in [refused.clone(), page(&all[..1000]).header("link", link)] {
            let t = Scripted::default();
            let r = registry(&t);
            t.expect(Get, FIRST, first);
            t.expect(Get, "/tags/list", page(&all));
            assert_eq!(r.tags().unwrap(), Some(all.clone()));
            t.expect(Get, "/tags/list", page(&all[..10]));
            assert_eq!(r.tags().unwrap(), Some(all[..10].to_vec()));
            assert_eq!(t.remaining(), 0);
            let seen = t.seen();
            assert!(
                seen[1].head.url.ends_with("/tags/list"),
                "{}",
                seen[1].head.url
            );
            assert!(
                seen[2].head.url.ends_with("/tags/list"),
                "asked at once without n"
            );
        }

        // Without `n`, the registry's own pages are followed.
        let t = Scripted::default();
        let cursor = "</v2/backups/laptop/tags/list?cursor=abc>; rel=\"next\"";
        t.expect(Get, FIRST, refused.clone());
        t.expect(Get, "/tags/list", page(&all[..100]).header("link", cursor));
        t.expect(Get, "/tags/list?cursor=abc", page(&all[100..]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all.clone()));

        // Refused without `n` too: the registry's error.
        let t = Scripted::default();
        t.expect(Get, FIRST, refused.clone());
        t.expect(
            Get,
            "/tags/list",
            Answer::new(400).body(oci_error("NAME_INVALID")),
        );
        let e = registry(&t).tags().unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidConfig, "{e}");

        // A short first page with a `Link` (a registry's own small pages) is followed, and a
        // 400 on a later page is no bound.
        let t = Scripted::default();
        let link = "</v2/backups/laptop/tags/list?n=10000&cursor=abc>; rel=\"next\"";
        t.expect(Get, FIRST, page(&all[..10]).header("link", link));
        t.expect(Get, "cursor=abc", refused);
        assert!(registry(&t).tags().is_err());
        assert_eq!(t.remaining(), 0);
    }

    #[test]
    fn a_tag_list_stops_at_its_bound() {
        let mut tags = vec!["a".to_string(); 3];
        add_page(&mut tags, vec!["b".to_string(); 2], 5).unwrap();
        let e = add_page(&mut tags, vec!["c".to_string()], 5).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("more than 5 tags"), "{e}");
        assert_eq!(tags.len(), 5);
    }
}
