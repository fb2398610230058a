//! Package metadata carried inside a component, in the custom sections that `wasm-tools
//! metadata show` and `wkg publish` read (the `wasm-metadata` layout): `component-name` holds
//! the package name; `version`, `description`, `licenses`, `source`, `revision` and
//! `homepage` each hold one UTF-8 string.
//!
//! [`stamp`] rewrites only the top level of a component: the custom sections it sets are
//! replaced (so stamping twice gives the same bytes), every other section is kept as it is.

use crate::error::{ErrorKind, StoreError};

/// The fields a release stamps into its component. `None` leaves a field out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageMetadata {
    /// The package name, e.g. `kloset:oci` (the `component-name` section).
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    /// An SPDX expression, e.g. `Apache-2.0`.
    pub licenses: Option<String>,
    /// Where the source lives (a URL).
    pub source: Option<String>,
    /// The source revision (a commit).
    pub revision: Option<String>,
    pub homepage: Option<String>,
}

const NAME_SECTION: &str = "component-name";
const TEXT_SECTIONS: [&str; 6] = [
    "version",
    "description",
    "licenses",
    "source",
    "revision",
    "homepage",
];
const MAGIC: [u8; 4] = *b"\0asm";
/// Version 0x0d and layer 1: a component, not a core module.
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
const CUSTOM: u8 = 0;

impl PackageMetadata {
    fn text(&self, section: &str) -> Option<&str> {
        match section {
            "version" => self.version.as_deref(),
            "description" => self.description.as_deref(),
            "licenses" => self.licenses.as_deref(),
            "source" => self.source.as_deref(),
            "revision" => self.revision.as_deref(),
            "homepage" => self.homepage.as_deref(),
            _ => None,
        }
    }

    fn set_text(&mut self, section: &str, value: String) {
        let slot = match section {
            "version" => &mut self.version,
            "description" => &mut self.description,
            "licenses" => &mut self.licenses,
            "source" => &mut self.source,
            "revision" => &mut self.revision,
            "homepage" => &mut self.homepage,
            _ => return,
        };
        *slot = Some(value);
    }
}

/// One top-level section: its id, the custom section's name (custom sections only), and its
/// whole encoding (id, size and payload).
struct Section<'a> {
    id: u8,
    custom_name: Option<&'a str>,
    payload: &'a [u8],
    encoded: &'a [u8],
}

fn invalid(why: impl Into<String>) -> StoreError {
    StoreError::new(ErrorKind::InvalidArgument, why.into())
}

/// The top-level sections of a component.
fn sections(wasm: &[u8]) -> Result<Vec<Section<'_>>, StoreError> {
    if wasm.len() < 8 || wasm[..4] != MAGIC {
        return Err(invalid("not a WebAssembly binary"));
    }
    if wasm[4..8] != COMPONENT_VERSION {
        return Err(invalid("a WebAssembly binary, but not a component"));
    }
    let mut out = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        at += 1;
        let size = read_u32(wasm, &mut at)? as usize;
        let end = at
            .checked_add(size)
            .filter(|&end| end <= wasm.len())
            .ok_or_else(|| invalid(format!("section at byte {start} runs past the end")))?;
        let payload = &wasm[at..end];
        let custom_name = if id == CUSTOM {
            let mut p = 0;
            let len = read_u32(payload, &mut p)? as usize;
            let name = payload
                .get(p..p + len)
                .and_then(|n| std::str::from_utf8(n).ok())
                .ok_or_else(|| invalid(format!("bad custom section name at byte {start}")))?;
            Some(name)
        } else {
            None
        };
        out.push(Section {
            id,
            custom_name,
            payload,
            encoded: &wasm[start..end],
        });
        at = end;
    }
    Ok(out)
}

/// Returns `wasm` with the metadata's custom sections set, replacing earlier ones.
pub fn stamp(wasm: &[u8], metadata: &PackageMetadata) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(wasm.len() + 512);
    out.extend_from_slice(&wasm[..8.min(wasm.len())]);
    let mut named = false;
    for section in sections(wasm)? {
        match (section.custom_name, &metadata.name) {
            // The names of the component's items (kept for backtraces) get our name first.
            (Some(NAME_SECTION), Some(name)) if !named => {
                let content = named_content(name, custom_content(&section)?)?;
                write_custom(&mut out, NAME_SECTION, &content);
                named = true;
            }
            (Some(NAME_SECTION), Some(_)) => {}
            (Some(n), _) if TEXT_SECTIONS.contains(&n) => {}
            _ => out.extend_from_slice(section.encoded),
        }
    }
    if let (Some(name), false) = (&metadata.name, named) {
        write_custom(&mut out, NAME_SECTION, &named_content(name, &[])?);
    }
    for section in TEXT_SECTIONS {
        if let Some(text) = metadata.text(section) {
            write_custom(&mut out, section, text.as_bytes());
        }
    }
    Ok(out)
}

/// A custom section's content: what follows its name.
fn custom_content<'a>(section: &Section<'a>) -> Result<&'a [u8], StoreError> {
    let mut at = 0;
    let len = read_u32(section.payload, &mut at)? as usize;
    Ok(&section.payload[at + len..])
}

/// A `component-name` section's content with `name` as the component's own name (subsection
/// 0, which comes first), followed by the other subsections of `existing`.
fn named_content(name: &str, existing: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut name_field = Vec::new();
    write_str(&mut name_field, name);
    let mut content = vec![0u8];
    write_u32(&mut content, name_field.len() as u32);
    content.extend_from_slice(&name_field);
    let mut at = 0;
    while at < existing.len() {
        let start = at;
        let id = existing[at];
        at += 1;
        let size = read_u32(existing, &mut at)? as usize;
        let end = at + size;
        if end > existing.len() {
            return Err(invalid("component-name subsection runs past the end"));
        }
        if id != 0 {
            content.extend_from_slice(&existing[start..end]);
        }
        at = end;
    }
    Ok(content)
}

/// Reads the metadata this module stamps (the last section of each name wins).
pub fn read(wasm: &[u8]) -> Result<PackageMetadata, StoreError> {
    let mut metadata = PackageMetadata::default();
    for section in sections(wasm)? {
        let (CUSTOM, Some(name)) = (section.id, section.custom_name) else {
            continue;
        };
        let content = custom_content(&section)?;
        if name == NAME_SECTION {
            metadata.name = component_name(content)?;
        } else if TEXT_SECTIONS.contains(&name) {
            let text = String::from_utf8(content.to_vec())
                .map_err(|_| invalid(format!("custom section {name} is not UTF-8")))?;
            metadata.set_text(name, text);
        }
    }
    Ok(metadata)
}

/// The component's own name from a `component-name` section's subsections.
fn component_name(content: &[u8]) -> Result<Option<String>, StoreError> {
    let mut at = 0;
    while at < content.len() {
        let id = content[at];
        at += 1;
        let size = read_u32(content, &mut at)? as usize;
        let body = content
            .get(at..at + size)
            .ok_or_else(|| invalid("component-name subsection runs past the end"))?;
        if id == 0 {
            let mut p = 0;
            let len = read_u32(body, &mut p)? as usize;
            let name = body
                .get(p..p + len)
                .and_then(|n| std::str::from_utf8(n).ok())
                .ok_or_else(|| invalid("bad component name"))?;
            return Ok(Some(name.to_string()));
        }
        at += size;
    }
    Ok(None)
}

fn write_custom(out: &mut Vec<u8>, name: &str, content: &[u8]) {
    let mut payload = Vec::with_capacity(name.len() + content.len() + 5);
    write_str(&mut payload, name);
    payload.extend_from_slice(content);
    out.push(CUSTOM);
    write_u32(out, payload.len() as u32);
    out.extend_from_slice(&payload);
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    write_u32(out, text.len() as u32);
    out.extend_from_slice(text.as_bytes());
}

/// Unsigned LEB128.
fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_u32(bytes: &[u8], at: &mut usize) -> Result<u32, StoreError> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes
            .get(*at)
            .ok_or_else(|| invalid("truncated LEB128 number"))?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value).map_err(|_| invalid("LEB128 number too large"));
        }
    }
    Err(invalid("LEB128 number too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: the header and one unrelated custom section.
    fn tiny_component() -> Vec<u8> {
        let mut wasm = MAGIC.to_vec();
        wasm.extend_from_slice(&COMPONENT_VERSION);
        write_custom(&mut wasm, "other", b"kept");
        wasm
    }

    fn full() -> PackageMetadata {
        PackageMetadata {
            name: Some("kloset:oci".into()),
            version: Some("0.1.0".into()),
            description: Some("d".repeat(200)),
            licenses: Some("Apache-2.0".into()),
            source: Some("https://example.com/kloset-oci".into()),
            revision: Some("0123abcd".into()),
            homepage: None,
        }
    }

    #[test]
    fn stamped_metadata_reads_back_and_other_sections_stay() {
        let wasm = tiny_component();
        let stamped = stamp(&wasm, &full()).unwrap();
        assert!(
            stamped.starts_with(&wasm),
            "the original sections come first"
        );
        assert_eq!(read(&stamped).unwrap(), full());
    }

    #[test]
    fn stamping_twice_replaces_and_is_stable() {
        let once = stamp(&tiny_component(), &full()).unwrap();
        assert_eq!(stamp(&once, &full()).unwrap(), once);
        let mut changed = full();
        changed.version = Some("0.2.0".into());
        changed.revision = None;
        let twice = stamp(&once, &changed).unwrap();
        assert_eq!(read(&twice).unwrap(), changed);
    }

    #[test]
    fn item_names_are_kept_behind_the_component_name() {
        let mut wasm = tiny_component();
        // An old component name, then subsection 1 (core function names, opaque here).
        let mut content = named_content("old", &[]).unwrap();
        content.extend_from_slice(&[1, 3, 0xaa, 0xbb, 0xcc]);
        write_custom(&mut wasm, NAME_SECTION, &content);
        let stamped = stamp(&wasm, &full()).unwrap();
        assert_eq!(read(&stamped).unwrap().name.as_deref(), Some("kloset:oci"));
        let section = sections(&stamped)
            .unwrap()
            .into_iter()
            .find(|s| s.custom_name == Some(NAME_SECTION))
            .unwrap();
        assert!(custom_content(&section)
            .unwrap()
            .ends_with(&[1, 3, 0xaa, 0xbb, 0xcc]));
    }

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX] {
            let mut buf = Vec::new();
            write_u32(&mut buf, value);
            let mut at = 0;
            assert_eq!(read_u32(&buf, &mut at).unwrap(), value);
            assert_eq!(at, buf.len());
        }
    }

    #[test]
    fn modules_and_garbage_are_refused() {
        let module = [0, b'a', b's', b'm', 1, 0, 0, 0];
        assert_eq!(
            stamp(&module, &full()).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert!(stamp(b"garbage!", &full()).is_err());
        let mut truncated = tiny_component();
        truncated.truncate(truncated.len() - 1);
        assert!(read(&truncated).is_err());
    }
}
