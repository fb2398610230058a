//! `Backend::load_reference`: a component by path or by registry reference.

use super::{ComponentReference, PullOptions, Puller};
use crate::backend::Backend;
use crate::error::StoreError;

impl Backend {
    /// Loads the component `source` names: an `oci://` reference is pulled (see
    /// [`crate::Puller`]), checked against its digests and cached, then loaded from the cache;
    /// anything else is a file path.
    pub async fn load_reference(
        source: &str,
        options: &PullOptions,
    ) -> Result<Backend, StoreError> {
        if !ComponentReference::is_reference(source) {
            return Backend::load(source);
        }
        let reference = ComponentReference::parse(source)?;
        let pulled = Puller::new(&reference, options)?.pull().await?;
        Backend::load(&pulled.path)
    }
}
