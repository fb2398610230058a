//! The tree a backup is made of: this repository's sources beside generated files of every
//! shape (random data, duplicates, a large file, empty files and folders, a deep path,
//! symlinks); and a comparison of a restored tree with it, byte for byte.

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

const MIB: usize = 1 << 20;

/// Deterministic, incompressible bytes.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::File::create(path).unwrap().write_all(bytes).unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Makes the tree under `root`; `big` is the size of the one large file.
pub fn make(root: &Path, big: usize) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for part in [
        "src",
        "wit",
        "host-test/src",
        "plakar-plugin/src",
        "scripts",
    ] {
        copy_tree(&workspace.join(part), &root.join("sources").join(part));
    }
    for i in 0..6u64 {
        let len = (i as usize + 1) * 700_001;
        write(
            &root.join(format!("random/r{i}.bin")),
            &random_bytes(i, len),
        );
    }
    let twin = random_bytes(100, 3 * MIB);
    for name in ["a", "b/c", "d/e/f"] {
        write(&root.join(format!("twins/{name}.bin")), &twin);
    }
    write(&root.join("large/big.bin"), &random_bytes(200, big));
    write(&root.join("empty/zero"), b"");
    write(&root.join("empty/also-zero"), b"");
    fs::create_dir_all(root.join("empty/folder")).unwrap();
    let deep: PathBuf = (0..40).map(|i| format!("level-{i:02}")).collect();
    write(
        &root.join("deep").join(deep).join("leaf.txt"),
        b"at the bottom\n",
    );
    fs::create_dir_all(root.join("links")).unwrap();
    symlink("../random/r1.bin", root.join("links/to-file")).unwrap();
    symlink("../twins", root.join("links/to-folder")).unwrap();
    symlink("nowhere/at/all", root.join("links/dangling")).unwrap();
}

/// Every difference between `restored` and `original`: missing or extra entries, another
/// type, other bytes, another link target. Empty when they are the same.
pub fn differences(original: &Path, restored: &Path) -> Vec<String> {
    let mut found = Vec::new();
    compare(original, restored, Path::new(""), &mut found);
    found
}

fn names(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    names
}

fn compare(original: &Path, restored: &Path, at: &Path, found: &mut Vec<String>) {
    let (left, right) = (names(original), names(restored));
    for extra in right.iter().filter(|n| !left.contains(n)) {
        found.push(format!("extra: {}", at.join(extra).display()));
    }
    for name in left {
        let (a, b, here) = (original.join(&name), restored.join(&name), at.join(&name));
        let (Ok(ma), Ok(mb)) = (fs::symlink_metadata(&a), fs::symlink_metadata(&b)) else {
            found.push(format!("missing: {}", here.display()));
            continue;
        };
        let (ta, tb) = (ma.file_type(), mb.file_type());
        if ta.is_symlink() {
            if !tb.is_symlink() || fs::read_link(&a).unwrap() != fs::read_link(&b).unwrap() {
                found.push(format!("link differs: {}", here.display()));
            }
        } else if ta.is_dir() {
            if tb.is_dir() {
                compare(&a, &b, &here, found);
            } else {
                found.push(format!("not a folder: {}", here.display()));
            }
        } else if !tb.is_file()
            || ma.len() != mb.len()
            || fs::read(&a).unwrap() != fs::read(&b).unwrap()
        {
            found.push(format!("bytes differ: {}", here.display()));
        }
    }
}
