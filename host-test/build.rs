//! Records the cargo target directory at build time, so the library can find the component
//! at `<target>/wasm32-wasip2/release/kloset_oci.wasm` without hard-coding a machine path.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = target_dir(&out_dir).unwrap_or_else(fallback_target_dir);
    println!(
        "cargo:rustc-env=KLOSET_OCI_HOST_TARGET_DIR={}",
        target_dir.display()
    );
}

/// OUT_DIR is `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`: climb to the `build`
/// directory, then two more levels (the profile, then the target directory). A host built
/// with an explicit `--target` has one more level (the triple); the component lands under the
/// target directory itself, so climb past a triple directory too.
fn target_dir(out_dir: &Path) -> Option<PathBuf> {
    let build = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))?;
    let profile_dir = build.parent()?;
    let mut dir = profile_dir.parent()?;
    if let Ok(target) = std::env::var("TARGET") {
        if dir.file_name().is_some_and(|n| n == target.as_str()) {
            dir = dir.parent()?;
        }
    }
    Some(dir.to_path_buf())
}

fn fallback_target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
            manifest.parent().unwrap_or(&manifest).join("target")
        }
    }
}
