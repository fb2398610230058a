//! The OCI Distribution API of one repository: manifests, tags and the version check.
//! Blob reads and uploads live in `blob_read.rs` and `upload.rs`.

use crate::digest::Digest;
use crate::error::{classify, Error, ErrorBody, ErrorKind, Result};
use crate::http::{send, Method, Request, Response, Transport};
use crate::layout::{BlobRef, MANIFEST_LIMIT, MANIFEST_MEDIA_TYPE};
use crate::location::Location;

/// Error bodies are read up to this size and the rest is dropped.
pub(crate) const ERROR_BODY_LIMIT: usize = 16 << 10;

/// A client of one repository on one registry. The tag list is in `tag_pages.rs`.
pub struct Registry {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) location: Location,
    /// Set once the registry refused to delete a tag (distribution 2.8): later deletes do not
    /// ask again (`manifest_delete.rs`).
    pub(crate) refuses_tag_deletes: std::cell::Cell<bool>,
    /// Set once the registry refused to delete a manifest (Docker Hub, GHCR): later deletes
    /// go straight to tombstones (`tombstone.rs`).
    pub(crate) refuses_deletes: std::cell::Cell<bool>,
    /// How large blobs go up, learned from the registry's answers (`upload/strategy.rs`).
    pub(crate) upload: std::cell::Cell<crate::upload::strategy::Strategy>,
    /// The `n` of tag-list pages: [`crate::tag_pages::PAGE_SIZE`], or none once the
    /// registry bounded it.
    pub(crate) tag_page_size: std::cell::Cell<Option<u32>>,
}

/// The answer to a delete by tag ("Deleting tags", distribution spec end-9).
#[derive(Debug, PartialEq, Eq)]
pub enum TagDelete {
    Deleted,
    /// No such tag (404).
    Absent,
    /// The registry does not delete tags: 405 or `UNSUPPORTED`, or distribution 2.8's 400
    /// `DIGEST_INVALID` (it parses the reference of a DELETE as a digest:
    /// registry/handlers/manifests.go, `DeleteManifest`).
    Refused,
}

/// The result of a manifest PUT that the store can act on.
#[derive(Debug, PartialEq, Eq)]
pub enum ManifestPut {
    Stored,
    /// The registry does not have a blob the manifest references (MANIFEST_BLOB_UNKNOWN).
    BlobUnknown,
}

impl Registry {
    pub fn new(transport: Box<dyn Transport>, location: Location) -> Registry {
        Registry {
            transport,
            location,
            refuses_tag_deletes: std::cell::Cell::new(false),
            refuses_deletes: std::cell::Cell::new(false),
            upload: std::cell::Cell::default(),
            tag_page_size: std::cell::Cell::new(Some(crate::tag_pages::PAGE_SIZE)),
        }
    }

    /// `<base>/v2/<repository>/<rest>`.
    pub fn url(&self, rest: &str) -> String {
        format!(
            "{}/v2/{}/{}",
            self.location.base_url(),
            self.location.repository,
            rest
        )
    }

    pub fn send(&self, request: Request) -> Result<Response> {
        send(self.transport.as_ref(), request)
    }

    /// Checks the registry speaks the distribution API and takes our credentials.
    pub fn ping(&self) -> Result<()> {
        let url = format!("{}/v2/", self.location.base_url());
        let response = self.send(Request::new(Method::Get, url))?;
        expect(response, &[200], Method::Get).map(drop)
    }

    /// The manifest a reference (tag or digest) names, or `None` where there is none.
    pub fn get_manifest(&self, reference: &str) -> Result<Option<Vec<u8>>> {
        let request = Request::new(Method::Get, self.url(&format!("manifests/{reference}")))
            .header("accept", MANIFEST_MEDIA_TYPE)
            .whole_body(MANIFEST_LIMIT);
        let response = self.send(request)?;
        let response = match expect(response, &[200], Method::Get) {
            Ok(r) => r,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if response
            .content_length()?
            .is_some_and(|n| n > MANIFEST_LIMIT as u64)
        {
            return Err(Error::protocol(format!(
                "manifest exceeds {MANIFEST_LIMIT} bytes"
            )));
        }
        response.read_to_end(MANIFEST_LIMIT).map(Some)
    }

    /// Stores a manifest under a tag.
    pub fn put_manifest(&self, tag: &str, manifest: &[u8]) -> Result<ManifestPut> {
        let request = Request::new(Method::Put, self.url(&format!("manifests/{tag}")))
            .header("content-type", MANIFEST_MEDIA_TYPE)
            .bytes(manifest.to_vec());
        let response = self.send(request)?;
        response.check_headers()?;
        if response.status == 201 {
            check_digest_header(&response, &Digest::of(manifest))?;
            return Ok(ManifestPut::Stored);
        }
        let status = response.status;
        let body = response.read_prefix(ERROR_BODY_LIMIT);
        if status == 400 && ErrorBody::names_code(&body, "MANIFEST_BLOB_UNKNOWN") {
            return Ok(ManifestPut::BlobUnknown);
        }
        let error = classify(status, &body);
        // Immutable tags, a repository setting: ECR answers `TAG_INVALID` "The image tag ...
        // already exists ... and cannot be overwritten because the repository is immutable"
        // (aws/containers-roadmap#862, osscontainertools/kaniko#204); Harbor answers 412 with
        // "... configured as immutable" (its tag immutability rules). Our tags are always
        // valid, so either means the tag cannot move.
        if ErrorBody::names_code(&body, "TAG_INVALID") || status == 412 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the registry refuses to move tag {tag}: the repository's tags are \
                     immutable. A store re-puts its locks (and buries deleted objects) under the \
                     same tag, so it needs mutable tags: on ECR set the repository's image tag \
                     mutability to MUTABLE, on Harbor remove the tag immutability rule that \
                     matches it ({})",
                    error.message
                ),
            ));
        }
        Err(error)
    }

    /// Whether the registry holds `blob` (distribution spec, "Checking if content exists in
    /// the registry": HEAD answers 200 or 404). A size other than the descriptor's is a
    /// protocol error.
    pub fn has_blob(&self, blob: BlobRef) -> Result<bool> {
        let request = Request::new(Method::Head, self.url(&format!("blobs/{}", blob.digest)));
        let response = match expect(self.send(request)?, &[200], Method::Head) {
            Ok(response) => response,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        match response.content_length()? {
            Some(size) if size != blob.size => Err(Error::protocol(format!(
                "the registry holds blob {} with {size} bytes, not {}",
                blob.digest, blob.size
            ))),
            _ => Ok(true),
        }
    }

    /// Deletes a manifest by digest (distribution 2.8 refuses deletes by tag).
    pub fn delete_manifest(&self, digest: &Digest) -> Result<()> {
        let request = Request::new(Method::Delete, self.url(&format!("manifests/{digest}")));
        let response = self.send(request)?;
        match expect(response, &[200, 202, 204], Method::Delete) {
            Err(e) if e.kind == ErrorKind::Unsupported => Err(Error::new(
                ErrorKind::Unsupported,
                format!("the registry does not allow deletes ({})", e.message),
            )),
            other => other.map(drop),
        }
    }

    /// Deletes a tag (the manifest it names stays where another tag or a digest names it).
    pub fn delete_tag(&self, tag: &str) -> Result<TagDelete> {
        let request = Request::new(Method::Delete, self.url(&format!("manifests/{tag}")));
        let response = self.send(request)?;
        response.check_headers()?;
        if matches!(response.status, 200 | 202 | 204) {
            return Ok(TagDelete::Deleted);
        }
        let status = response.status;
        let body = response.read_prefix(ERROR_BODY_LIMIT);
        if status == 400 && ErrorBody::names_code(&body, "DIGEST_INVALID") {
            return Ok(TagDelete::Refused);
        }
        let e = classify(status, &body);
        match e.kind {
            ErrorKind::NotFound => Ok(TagDelete::Absent),
            ErrorKind::Unsupported => Ok(TagDelete::Refused),
            _ => Err(e),
        }
    }
}

/// Passes a response with one of the `ok` statuses; classifies any other.
pub fn expect(response: Response, ok: &[u16], method: Method) -> Result<Response> {
    response.check_headers()?;
    if ok.contains(&response.status) {
        return Ok(response);
    }
    let status = response.status;
    // A HEAD answer has no body to explain itself.
    let body = match method {
        Method::Head => Vec::new(),
        _ => response.read_prefix(ERROR_BODY_LIMIT),
    };
    Err(classify(status, &body))
}

/// Where the registry names the digest of what it stored, it must be ours.
pub fn check_digest_header(response: &Response, expected: &Digest) -> Result<()> {
    match response.header("docker-content-digest") {
        Some(value) if value.trim() != expected.to_string() => Err(Error::protocol(format!(
            "the registry stored digest {} where {expected} was sent",
            value.trim().chars().take(80).collect::<String>()
        ))),
        _ => Ok(()),
    }
}

/// The target of `Link: <url>; rel="next"`, if any (RFC 8288; distribution spec "Listing Tags").
pub(crate) fn next_link(response: &Response) -> Option<&str> {
    response
        .header_all("link")
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            is_next.then_some(target)
        })
}
