//! RFC 6962 / RFC 9162 Merkle trees over SHA-256: leaf hash `H(0x00 ‖ entry)`, node hash
//! `H(0x01 ‖ left ‖ right)`, the tree split at the largest power of two below its size;
//! inclusion and consistency proofs, made (RFC 6962 §2.1.1–2.1.2) and checked (RFC 9162
//! §2.1.3.2, §2.1.4.2).

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The root of the tree over `leaves` (leaf hashes), in one pass: a stack of complete subtrees
/// merged as they fill, then folded right to left — the shape RFC 6962's recursion defines.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut stack: Vec<(u32, Hash)> = Vec::new();
    for leaf in leaves {
        let mut node = (0u32, *leaf);
        while stack.last().is_some_and(|(height, _)| *height == node.0) {
            let (height, left) = stack.pop().expect("checked");
            node = (height + 1, node_hash(&left, &node.1));
        }
        stack.push(node);
    }
    let mut iter = stack.into_iter().rev();
    let Some((_, mut acc)) = iter.next() else { return empty_root() };
    for (_, left) in iter {
        acc = node_hash(&left, &acc);
    }
    acc
}

/// Where proofs get complete-subtree hashes from: `node(level, index)` is the root of the
/// leaves `index·2^level .. (index+1)·2^level`. A slice of leaves computes them; a tiled log
/// reads them from stored tiles. Which nodes a proof needs depends only on the sizes, so a
/// source can first be run to learn what to fetch.
pub trait Nodes {
    fn node(&mut self, level: u32, index: u64) -> Hash;
}

/// Computes nodes from leaf hashes held in memory.
pub struct LeafSlice<'a>(pub &'a [Hash]);

impl Nodes for LeafSlice<'_> {
    fn node(&mut self, level: u32, index: u64) -> Hash {
        let start = (index << level) as usize;
        root(&self.0[start..start + (1usize << level)])
    }
}

/// The root of leaves `lo..hi`, where `lo` is a multiple of a power of two ≥ `hi - lo` (as in
/// every subtree RFC 6962's recursion visits): complete subtrees left to right, folded from
/// the right.
fn range_root(lo: u64, hi: u64, nodes: &mut (impl Nodes + ?Sized)) -> Hash {
    if lo == hi {
        return empty_root();
    }
    let mut parts = Vec::new();
    let mut at = lo;
    while at < hi {
        let level = 63 - (hi - at).leading_zeros();
        parts.push(nodes.node(level, at >> level));
        at += 1 << level;
    }
    let mut acc = parts.pop().expect("lo < hi");
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    acc
}

/// The root of the tree of the first `size` leaves.
pub fn tree_root(size: u64, nodes: &mut (impl Nodes + ?Sized)) -> Hash {
    range_root(0, size, nodes)
}

/// The audit path of leaf `index` in the tree of `size` leaves (RFC 6962 PATH).
pub fn prove_inclusion(size: u64, index: u64, nodes: &mut (impl Nodes + ?Sized)) -> Vec<Hash> {
    let mut proof = Vec::new();
    if index < size {
        path(0, size, index, nodes, &mut proof);
    }
    proof
}

fn path(lo: u64, hi: u64, index: u64, nodes: &mut (impl Nodes + ?Sized), proof: &mut Vec<Hash>) {
    if hi - lo <= 1 {
        return;
    }
    let k = split((hi - lo) as usize) as u64;
    if index < lo + k {
        path(lo, lo + k, index, nodes, proof);
        proof.push(range_root(lo + k, hi, nodes));
    } else {
        path(lo + k, hi, index, nodes, proof);
        proof.push(range_root(lo, lo + k, nodes));
    }
}

/// The proof that the tree of the first `old_size` leaves is a prefix of the tree of `size`
/// leaves (RFC 6962 PROOF / SUBPROOF).
pub fn prove_consistency(old_size: u64, size: u64, nodes: &mut (impl Nodes + ?Sized)) -> Vec<Hash> {
    let mut proof = Vec::new();
    if old_size > 0 && old_size < size {
        subproof(old_size, 0, size, true, nodes, &mut proof);
    }
    proof
}

fn subproof(m: u64, lo: u64, hi: u64, whole: bool, nodes: &mut (impl Nodes + ?Sized), proof: &mut Vec<Hash>) {
    if m == hi - lo {
        if !whole {
            proof.push(range_root(lo, hi, nodes));
        }
        return;
    }
    let k = split((hi - lo) as usize) as u64;
    if m <= k {
        subproof(m, lo, lo + k, whole, nodes, proof);
        proof.push(range_root(lo + k, hi, nodes));
    } else {
        subproof(m - k, lo + k, hi, false, nodes, proof);
        proof.push(range_root(lo, lo + k, nodes));
    }
}

/// The audit path of leaf `index` in the tree over `leaves`.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    prove_inclusion(leaves.len() as u64, index as u64, &mut LeafSlice(leaves))
}

/// The proof that the first `old_size` of `leaves` are a prefix of the tree over all of them.
pub fn consistency_proof(leaves: &[Hash], old_size: usize) -> Vec<Hash> {
    prove_consistency(old_size as u64, leaves.len() as u64, &mut LeafSlice(leaves))
}

/// RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `proof` shows the tree (`size1`, `root1`) is a prefix of
/// (`size2`, `root2`).
pub fn verify_consistency(size1: u64, size2: u64, root1: &Hash, root2: &Hash, proof: &[Hash]) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *root1 && sr == *root2 && sn == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn h(s: &str) -> Hash {
        unhex(s).try_into().unwrap()
    }

    fn vectors() -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/rfc6962/vectors.json"))
                .unwrap(),
        )
        .unwrap()
    }

    fn hashes(v: &serde_json::Value) -> Vec<Hash> {
        v.as_array().unwrap().iter().map(|x| h(x.as_str().unwrap())).collect()
    }

    /// RFC 6962's MTH, literally.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn the_published_vectors_hold() {
        let v = vectors();
        let leaves: Vec<Hash> =
            v["leaves"].as_array().unwrap().iter().map(|l| leaf_hash(&unhex(l.as_str().unwrap()))).collect();
        assert_eq!(root(&[]), h(v["empty_root"].as_str().unwrap()));
        for (n, expected) in hashes(&v["roots"]).iter().enumerate() {
            assert_eq!(root(&leaves[..=n]), *expected, "root of size {}", n + 1);
        }
        for case in v["inclusion"].as_array().unwrap() {
            let (index, size) = (case["index"].as_u64().unwrap(), case["size"].as_u64().unwrap());
            let proof = hashes(&case["proof"]);
            assert_eq!(inclusion_proof(&leaves[..size as usize], index as usize), proof, "inclusion {index}/{size}");
            assert!(verify_inclusion(index, size, &leaves[index as usize], &proof, &root(&leaves[..size as usize])));
        }
        for case in v["consistency"].as_array().unwrap() {
            let (m, n) = (case["size1"].as_u64().unwrap(), case["size2"].as_u64().unwrap());
            let proof = hashes(&case["proof"]);
            assert_eq!(consistency_proof(&leaves[..n as usize], m as usize), proof, "consistency {m}→{n}");
            assert!(verify_consistency(m, n, &root(&leaves[..m as usize]), &root(&leaves[..n as usize]), &proof));
        }
    }

    #[test]
    fn every_size_up_to_1000_agrees_with_the_naive_reference_and_altered_hashes_fail() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(6962);
        let leaves: Vec<Hash> = (0..1000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 1..=1000usize {
            let tree = &leaves[..n];
            let r = root(tree);
            assert_eq!(r, naive_root(tree), "root of size {n}");
            let mut indexes = vec![0, n - 1, n / 2];
            indexes.extend((0..3).map(|_| rng.random_range(0..n)));
            for &i in &indexes {
                let proof = inclusion_proof(tree, i);
                assert!(verify_inclusion(i as u64, n as u64, &tree[i], &proof, &r), "inclusion {i}/{n}");
                if n > 1 {
                    assert!(
                        !verify_inclusion(((i + 1) % n) as u64, n as u64, &tree[i], &proof, &r),
                        "wrong index {i}/{n}"
                    );
                    let mut bad = proof.clone();
                    let j = rng.random_range(0..bad.len());
                    bad[j][rng.random_range(0..32)] ^= 1 << rng.random_range(0..8);
                    assert!(
                        !verify_inclusion(i as u64, n as u64, &tree[i], &bad, &r),
                        "altered inclusion proof {i}/{n}"
                    );
                }
                let mut wrong_leaf = tree[i];
                wrong_leaf[0] ^= 0x80;
                assert!(!verify_inclusion(i as u64, n as u64, &wrong_leaf, &proof, &r));
            }
            for m in [1, n / 2, n.saturating_sub(1), rng.random_range(1..=n)] {
                if m == 0 || m > n {
                    continue;
                }
                let old = root(&tree[..m]);
                let proof = consistency_proof(tree, m);
                assert!(verify_consistency(m as u64, n as u64, &old, &r, &proof), "consistency {m}→{n}");
                if m < n {
                    let mut bad = proof.clone();
                    let j = rng.random_range(0..bad.len());
                    bad[j][rng.random_range(0..32)] ^= 1 << rng.random_range(0..8);
                    assert!(
                        !verify_consistency(m as u64, n as u64, &old, &r, &bad),
                        "altered consistency proof {m}→{n}"
                    );
                    let mut forked = old;
                    forked[31] ^= 1;
                    assert!(!verify_consistency(m as u64, n as u64, &forked, &r, &proof), "forked old root {m}→{n}");
                }
            }
        }
    }

    #[test]
    fn degenerate_cases_follow_rfc_9162() {
        let a = leaf_hash(b"a");
        assert!(verify_inclusion(0, 1, &a, &[], &a));
        assert!(!verify_inclusion(0, 0, &a, &[], &a));
        assert!(!verify_inclusion(1, 1, &a, &[], &a));
        assert!(verify_consistency(0, 5, &empty_root(), &a, &[]));
        assert!(verify_consistency(3, 3, &a, &a, &[]));
        assert!(!verify_consistency(3, 3, &a, &leaf_hash(b"b"), &[]));
        assert!(!verify_consistency(4, 3, &a, &a, &[]));
        assert!(!verify_consistency(1, 2, &a, &a, &[]));
    }
}
