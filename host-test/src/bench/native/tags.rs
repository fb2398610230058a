//! The native client's tag listing: one request without `n` (the whole list in one answer
//! from distribution), or pages of `n` tags following `Link: <...>; rel="next"` as the
//! component asks for them.

use super::{empty, BenchError, NativeClient};

use kloset_oci::tag_pages::{CLAMPED_AT_LEAST, PAGE_SIZE};

/// More pages than this is a registry gone wrong (100 million tags at the component's size).
const PAGES_MAX: usize = 10_000;

/// What a listing found: the tags with the prefix asked for, and the pages read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Listed {
    pub tags: usize,
    pub pages: usize,
}

impl NativeClient {
    /// The tags of the repository that name objects of `kind`, in one request without `n`.
    pub async fn list(&self, kind: &str) -> Result<usize, BenchError> {
        self.count_tags(&format!("{kind}-"), &[200]).await
    }

    /// The tags that name objects of `kind`, read as the component reads them: pages of
    /// [`PAGE_SIZE`], following each page's `Link` to the next; where the registry clamps
    /// the first page (at least [`CLAMPED_AT_LEAST`] tags, fewer than asked, with a `Link`),
    /// again from the start without `n` (src/tag_pages.rs).
    pub async fn list_paged(&self, kind: &str) -> Result<Listed, BenchError> {
        let prefix = format!("{kind}-");
        let mut url = self.url(&format!("tags/list?n={PAGE_SIZE}"));
        let mut listed = Listed::default();
        let mut sized = true;
        for _ in 0..PAGES_MAX {
            let (page, next) = self.tag_page(&url, &prefix, &[200]).await?;
            listed.pages += 1;
            let clamped = page.all >= CLAMPED_AT_LEAST && page.all < PAGE_SIZE as usize;
            if sized && listed.pages == 1 && clamped && next.is_some() {
                sized = false;
                url = self.url("tags/list");
                continue;
            }
            listed.tags += page.matching;
            match next {
                Some(next) => url = next,
                None => return Ok(listed),
            }
        }
        Err(BenchError::new(format!(
            "the tag list has more than {PAGES_MAX} pages"
        )))
    }

    /// The tags starting with `prefix` on the first page of the tag list, asked for without
    /// `n`, answered with one of the `ok` statuses (an answer without tags counts none).
    pub(super) async fn count_tags(&self, prefix: &str, ok: &[u16]) -> Result<usize, BenchError> {
        let url = self.url("tags/list");
        Ok(self.tag_page(&url, prefix, ok).await?.0.matching)
    }

    /// One page: its tag counts, and the URL of the next page.
    async fn tag_page(
        &self,
        url: &str,
        prefix: &str,
        ok: &[u16],
    ) -> Result<(PageCount, Option<String>), BenchError> {
        let (parts, bytes) = self
            .exchange(http::Method::GET, url, &[], empty(), ok)
            .await?;
        let page: serde_json::Value = serde_json::from_slice(&bytes)?;
        let tags = page["tags"].as_array().map_or(&[][..], |t| t.as_slice());
        let count = PageCount {
            all: tags.len(),
            matching: tags
                .iter()
                .filter_map(|t| t.as_str())
                .filter(|t| t.starts_with(prefix))
                .count(),
        };
        let next = parts
            .headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_target)
            .map(|target| self.absolute(target));
        Ok((count, next))
    }
}

/// The tags of one page: all of them, and those with the prefix asked for.
struct PageCount {
    all: usize,
    matching: usize,
}

/// The target of the `rel="next"` link in one `Link` header value.
fn next_target(value: &str) -> Option<&str> {
    value.split(',').find_map(|link| {
        let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
        params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
            .then_some(target)
    })
}

#[cfg(test)]
mod tests {
    use super::next_target;

    #[test]
    fn the_next_link_is_found_among_others() {
        let value = r#"</v2/r/tags/list?n=1000&last=x>; rel="next""#;
        assert_eq!(next_target(value), Some("/v2/r/tags/list?n=1000&last=x"));
        let value = r#"<a>; rel="prev", <b>;rel=next"#;
        assert_eq!(next_target(value), Some("b"));
        assert_eq!(next_target(r#"<a>; rel="prev""#), None);
    }
}
