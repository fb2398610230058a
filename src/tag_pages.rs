//! Tag-list pages that name no next page.
//!
//! distribution-spec, "Listing Tags" (end-8b): a response to `tags/list?n=<int>` MAY carry a
//! `Link: <...>; rel="next"` header when more tags follow; without one it holds `<int>` tags
//! unless fewer remain. A full page without `Link` may therefore have more after it, which
//! `last=<its last tag>` asks for. go-containerregistry's registry pages this way
//! (pkg/registry/manifest.go, `handleTags`: it honours `n` and `last`, and never sends
//! `Link`), and it has a quirk to guard against: where no tag follows `last`, it answers the
//! list from its start rather than an empty page. distribution 2.8 ignores `n` (a page larger
//! than asked is the whole list) and distribution 3 sends `Link`.

use crate::encoding::percent_encode;

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
    use crate::registry::{Registry, TAG_PAGE_SIZE};
    use crate::testing::{oci_error, Answer, Scripted};

    fn registry(t: &Scripted) -> Registry {
        let location = Location::parse("oci://127.0.0.1:5000/backups/laptop", None).unwrap();
        Registry::new(t.boxed(), location)
    }

    /// Tags `t0000`.. in order: what a registry lists.
    fn tags(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("t{i:04}")).collect()
    }

    fn page(tags: &[String]) -> Answer {
        Answer::new(200)
            .body(serde_json::json!({ "name": "backups/laptop", "tags": tags }).to_string())
    }

    const FIRST: &str = "/v2/backups/laptop/tags/list?n=1000";

    /// go-containerregistry: full pages without `Link`, then, past the end, the list again
    /// from its start.
    #[test]
    fn full_pages_without_link_go_on_with_last() {
        assert_eq!(TAG_PAGE_SIZE, 1000);
        let all = tags(0..2500);
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&all[..1000]));
        t.expect(Get, "/tags/list?n=1000&last=t0999", page(&all[1000..2000]));
        t.expect(Get, "/tags/list?n=1000&last=t1999", page(&all[2000..]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all.clone()));
        assert_eq!(t.remaining(), 0);

        let t = Scripted::default();
        t.expect(Get, FIRST, page(&all[..1000]));
        // Nothing after t0999 in a list of 1000: crane answers the first 1000 again.
        t.expect(Get, "/tags/list?n=1000&last=t0999", page(&all[..1000]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all[..1000].to_vec()));
        assert_eq!(t.remaining(), 0);
    }

    /// A page shorter than asked, or longer (distribution 2.8 ignores `n`), is the end.
    #[test]
    fn a_page_not_of_the_size_asked_for_ends_the_list() {
        for count in [0, 999, 1001, 2500] {
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
        let all = tags(0..1500);
        let t = Scripted::default();
        let link = "</v2/backups/laptop/tags/list?n=1000&cursor=abc>; rel=\"next\"";
        t.expect(Get, FIRST, page(&all[..1000]).header("link", link));
        t.expect(Get, "/tags/list?n=1000&cursor=abc", page(&all[1000..]));
        assert_eq!(registry(&t).tags().unwrap(), Some(all));
    }

    /// Out-of-order pages still end: each `last=` is greater than the one before.
    #[test]
    fn unordered_full_pages_end() {
        let mut first = tags(0..1000);
        first.reverse();
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&first));
        t.expect(Get, "&last=t0999", page(&first));
        let listed = registry(&t).tags().unwrap().unwrap();
        assert_eq!(listed.len(), 1000);
        assert_eq!(t.remaining(), 0);
    }

    /// A repository gone between pages: no store.
    #[test]
    fn a_later_page_not_found_is_no_repository() {
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&tags(0..1000)));
        t.expect(
            Get,
            "&last=t0999",
            Answer::new(404).body(oci_error("NAME_UNKNOWN")),
        );
        assert_eq!(registry(&t).tags().unwrap(), None);
        let t = Scripted::default();
        t.expect(Get, FIRST, page(&tags(0..1000)));
        t.expect(Get, "&last=t0999", Answer::new(200).body("{"));
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
}
