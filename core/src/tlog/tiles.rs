//! C2SP `tlog-tiles`: the tree stored and served as tiles of height 8. The tile at level `L`,
//! index `N` holds up to 256 consecutive hashes of tree level `8·L`, from `N·256` on; a full
//! tile never changes. Every node of the tree is computed from one tile (at most 128 hashes),
//! so proofs and roots at any size read a handful of tiles, never the leaves.

use std::collections::{BTreeSet, HashMap};

use super::merkle::{Hash, Nodes, root};

pub const HEIGHT: u32 = 8;
pub const WIDTH: u64 = 1 << HEIGHT;

/// `(level, index)` of a tile.
pub type TileKey = (u32, u64);

/// A tile's hashes (its width is their count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub level: u32,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

/// How many hashes of tile level `level` a tree of `size` leaves has.
pub fn level_count(size: u64, level: u32) -> u64 {
    size.checked_shr(HEIGHT * level).unwrap_or(0)
}

/// The width of tile `(level, index)` in a tree of `size` leaves (0: it does not exist yet).
pub fn width_at(size: u64, level: u32, index: u64) -> u64 {
    level_count(size, level).saturating_sub(index * WIDTH).min(WIDTH)
}

/// The tile that node `(tree level, index)` is computed from, and where in it.
fn locate(level: u32, index: u64) -> (TileKey, usize, usize) {
    let (tile_level, rest) = (level / HEIGHT, level % HEIGHT);
    let first = index << rest;
    ((tile_level, first / WIDTH), (first % WIDTH) as usize, 1 << rest)
}

/// The partly filled tile at each level of a tree of `size` leaves: what an append extends.
pub fn edge_tiles(size: u64) -> Vec<(TileKey, u64)> {
    (0..)
        .map(|level| (level, level_count(size, level)))
        .take_while(|(_, count)| *count > 0)
        .filter(|(_, count)| count % WIDTH != 0)
        .map(|(level, count)| ((level, count / WIDTH), count % WIDTH))
        .collect()
}

/// Appends leaf hashes to a tree of `old_size` leaves. `edges` holds the partly filled tiles
/// of `edge_tiles(old_size)`; returns every tile that changed, with its new contents.
pub fn append(old_size: u64, edges: &HashMap<TileKey, Vec<Hash>>, leaves: &[Hash]) -> Vec<Tile> {
    let mut changed = Vec::new();
    let mut pending = leaves.to_vec();
    let mut level = 0;
    while !pending.is_empty() {
        let count = level_count(old_size, level);
        let first = count / WIDTH;
        let mut row = edges.get(&(level, first)).cloned().unwrap_or_default();
        debug_assert_eq!(row.len() as u64, count % WIDTH, "edge tile {level}/{first}");
        row.append(&mut pending);
        for (i, chunk) in row.chunks(WIDTH as usize).enumerate() {
            if chunk.len() as u64 == WIDTH {
                pending.push(root(chunk));
            }
            changed.push(Tile { level, index: first + i as u64, hashes: chunk.to_vec() });
        }
        level += 1;
    }
    changed
}

/// Records which tiles a computation reads (answering zeros), to fetch them all at once.
#[derive(Default)]
pub struct TileRecorder(pub BTreeSet<TileKey>);

impl Nodes for TileRecorder {
    fn node(&mut self, level: u32, index: u64) -> Hash {
        self.0.insert(locate(level, index).0);
        [0; 32]
    }
}

/// Computes nodes from fetched tiles; remembers the first node it could not compute.
pub struct TileNodes<'a> {
    pub tiles: &'a HashMap<TileKey, Vec<Hash>>,
    pub missing: Option<TileKey>,
}

impl<'a> TileNodes<'a> {
    pub fn new(tiles: &'a HashMap<TileKey, Vec<Hash>>) -> Self {
        TileNodes { tiles, missing: None }
    }
}

impl Nodes for TileNodes<'_> {
    fn node(&mut self, level: u32, index: u64) -> Hash {
        let (key, offset, count) = locate(level, index);
        match self.tiles.get(&key).and_then(|t| t.get(offset..offset + count)) {
            Some(hashes) => root(hashes),
            None => {
                self.missing.get_or_insert(key);
                [0; 32]
            }
        }
    }
}

/// Which tiles `compute` reads.
pub fn tiles_needed(compute: impl FnOnce(&mut TileRecorder)) -> Vec<TileKey> {
    let mut recorder = TileRecorder::default();
    compute(&mut recorder);
    recorder.0.into_iter().collect()
}

/// A tree held in memory as tiles, grown leaf batch by leaf batch: how auditors and
/// `zhicheng log verify` rebuild the log from its entries.
#[derive(Debug, Default)]
pub struct TreeBuilder {
    pub size: u64,
    pub tiles: HashMap<TileKey, Vec<Hash>>,
}

impl TreeBuilder {
    pub fn push(&mut self, leaves: &[Hash]) {
        let edges: HashMap<TileKey, Vec<Hash>> = edge_tiles(self.size)
            .into_iter()
            .map(|(k, _)| (k, self.tiles.get(&k).cloned().unwrap_or_default()))
            .collect();
        for t in append(self.size, &edges, leaves) {
            self.tiles.insert((t.level, t.index), t.hashes);
        }
        self.size += leaves.len() as u64;
    }

    /// The root of the first `size` leaves (`size` ≤ the leaves pushed).
    pub fn root(&self, size: u64) -> Hash {
        super::merkle::tree_root(size, &mut TileNodes::new(&self.tiles))
    }
}

/// Splits a tile's bytes into hashes (`None` unless a multiple of 32 bytes).
pub fn hashes_of(bytes: &[u8]) -> Option<Vec<Hash>> {
    bytes.len().is_multiple_of(32).then(|| bytes.chunks(32).map(|c| c.try_into().expect("32 bytes")).collect())
}

pub fn bytes_of(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// What a tile path names: a hash tile (`level`) or an entry bundle (`None`), its index, and
/// the width of a partial tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    pub level: Option<u32>,
    pub index: u64,
    pub width: Option<u64>,
}

/// `1234067` → `x001/x234/067`: three-digit groups, every group but the last marked `x`.
pub fn format_index(index: u64) -> String {
    let digits = index.to_string();
    let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
    let groups: Vec<&str> = (0..padded.len()).step_by(3).map(|i| &padded[i..i + 3]).collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| if i < last { format!("x{g}") } else { g.to_string() })
        .collect::<Vec<_>>()
        .join("/")
}

impl TilePath {
    /// The path below `/tile/`, e.g. `0/x001/234.p/17` or `entries/000`.
    pub fn format(&self) -> String {
        let level = self.level.map_or("entries".to_string(), |l| l.to_string());
        let partial = self.width.map_or(String::new(), |w| format!(".p/{w}"));
        format!("{level}/{}{partial}", format_index(self.index))
    }

    /// Parses a path below `/tile/`, accepting only the canonical form.
    pub fn parse(path: &str) -> Option<TilePath> {
        let mut segments: Vec<&str> = path.split('/').collect();
        let level = match segments.first()? {
            &"entries" => None,
            l if l.len() <= 2 && l.bytes().all(|b| b.is_ascii_digit()) && (l.len() == 1 || !l.starts_with('0')) => {
                Some(l.parse::<u32>().ok().filter(|l| *l <= 63)?)
            }
            _ => return None,
        };
        segments.remove(0);
        let mut width = None;
        if segments.len() >= 2 && segments[segments.len() - 2].ends_with(".p") {
            let w = segments.pop()?;
            let valid = !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && !w.starts_with('0');
            width = Some(w.parse::<u64>().ok().filter(|w| valid && (1..WIDTH).contains(w))?);
            let last = segments.pop()?;
            segments.push(last.strip_suffix(".p")?);
        }
        let (last, groups) = segments.split_last()?;
        let mut index: u64 = 0;
        for (i, g) in groups.iter().chain(std::iter::once(last)).enumerate() {
            let digits = if i < groups.len() { g.strip_prefix('x')? } else { g };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            index = index.checked_mul(1000)?.checked_add(digits.parse::<u64>().ok()?)?;
        }
        let canonical = TilePath { level, index, width };
        (canonical.format() == path).then_some(canonical)
    }
}

/// An entry longer than an entry bundle's 16-bit length can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("entry {position} of the bundle is {len} bytes; an entry bundle carries at most 65,535")]
pub struct EntryTooLarge {
    /// The entry's position in the bundle (0-based).
    pub position: usize,
    pub len: usize,
}

/// An entry bundle: each entry as a big-endian 16-bit length and its bytes. An entry too long
/// for its length is refused, never wrapped into a bundle no reader can split.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, EntryTooLarge> {
    let mut out = Vec::new();
    for (position, e) in entries.into_iter().enumerate() {
        let len = u16::try_from(e.len()).map_err(|_| EntryTooLarge { position, len: e.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle (`None` when it is malformed).
pub fn parse_entry_bundle(mut bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let len = u16::from_be_bytes(bytes.get(..2)?.try_into().ok()?) as usize;
        out.push(bytes.get(2..2 + len)?);
        bytes = &bytes[2 + len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::{LeafSlice, leaf_hash, prove_consistency, prove_inclusion, tree_root};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Builds the tiles of a tree by appending in uneven batches, as the log does.
    fn grow(batches: &[u64]) -> (u64, HashMap<TileKey, Vec<Hash>>) {
        let mut tiles: HashMap<TileKey, Vec<Hash>> = HashMap::new();
        let mut size = 0;
        for &n in batches {
            let new = leaves(size + n)[size as usize..].to_vec();
            let edges: HashMap<_, _> = edge_tiles(size).into_iter().map(|(k, _)| (k, tiles[&k].clone())).collect();
            for t in append(size, &edges, &new) {
                tiles.insert((t.level, t.index), t.hashes);
            }
            size += n;
        }
        (size, tiles)
    }

    #[test]
    fn tiled_roots_and_proofs_equal_the_in_memory_ones() {
        let (size, tiles) = grow(&[1, 254, 1, 300, 65_000, 700, 1]);
        let all = leaves(size);
        for n in [1, 2, 255, 256, 257, 511, 512, 65_536, 65_537, 66_000, size] {
            let mut from_tiles = TileNodes::new(&tiles);
            assert_eq!(tree_root(n, &mut from_tiles), tree_root(n, &mut LeafSlice(&all[..n as usize])), "root {n}");
            for i in [0, n / 3, n - 1] {
                assert_eq!(
                    prove_inclusion(n, i, &mut from_tiles),
                    prove_inclusion(n, i, &mut LeafSlice(&all[..n as usize])),
                    "inclusion {i}/{n}"
                );
            }
            for m in [1, n / 2, n - 1] {
                assert_eq!(
                    prove_consistency(m, n, &mut from_tiles),
                    prove_consistency(m, n, &mut LeafSlice(&all[..n as usize])),
                    "consistency {m}/{n}"
                );
            }
            assert_eq!(from_tiles.missing, None);
        }
        assert_eq!(tiles[&(1, 0)].len(), 256, "level 1 holds the 256-leaf subtree roots");
        assert_eq!(tiles[&(2, 0)].len(), 1);
    }

    #[test]
    fn the_recorder_names_exactly_the_tiles_a_proof_reads() {
        let (size, tiles) = grow(&[70_000]);
        let needed = tiles_needed(|r| {
            prove_inclusion(size, 12_345, r);
        });
        let subset: HashMap<_, _> = needed.iter().map(|k| (*k, tiles[k].clone())).collect();
        let mut nodes = TileNodes::new(&subset);
        let proof = prove_inclusion(size, 12_345, &mut nodes);
        assert_eq!(nodes.missing, None);
        assert_eq!(proof, prove_inclusion(size, 12_345, &mut TileNodes::new(&tiles)));
        assert!(needed.len() <= 6, "{needed:?}");
    }

    #[test]
    fn tile_paths_are_canonical() {
        assert_eq!(format_index(0), "000");
        assert_eq!(format_index(1_234_067), "x001/x234/067");
        for (path, want) in [
            ("0/000", TilePath { level: Some(0), index: 0, width: None }),
            ("1/x001/x234/067", TilePath { level: Some(1), index: 1_234_067, width: None }),
            ("entries/012.p/7", TilePath { level: None, index: 12, width: Some(7) }),
            ("3/x001/000.p/255", TilePath { level: Some(3), index: 1000, width: Some(255) }),
        ] {
            assert_eq!(TilePath::parse(path), Some(want), "{path}");
            assert_eq!(want.format(), path);
        }
        for bad in [
            "0/0",
            "0/1000",
            "00/000",
            "64/000",
            "0/001/002",
            "0/x001",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/07",
            "x/000",
            "0/000/",
            "",
        ] {
            assert_eq!(TilePath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn entry_bundles_round_trip() {
        let entries: Vec<&[u8]> = vec![b"{}", b"", "职称".as_bytes()];
        let bundle = entry_bundle(entries.iter().copied()).unwrap();
        assert_eq!(parse_entry_bundle(&bundle).unwrap(), entries);
        assert!(parse_entry_bundle(&bundle[..bundle.len() - 1]).is_none());
        let largest = vec![7u8; 65_535];
        assert!(entry_bundle([largest.as_slice()]).is_ok());
        let too_large = vec![7u8; 65_536];
        let refused = entry_bundle([b"a".as_slice(), too_large.as_slice()]).unwrap_err();
        assert_eq!(refused, EntryTooLarge { position: 1, len: 65_536 });
    }

    #[test]
    fn widths_and_edges() {
        assert_eq!(width_at(300, 0, 0), 256);
        assert_eq!(width_at(300, 0, 1), 44);
        assert_eq!(width_at(300, 0, 2), 0);
        assert_eq!(width_at(300, 1, 0), 1);
        assert_eq!(edge_tiles(300), vec![((0, 1), 44), ((1, 0), 1)]);
        assert_eq!(edge_tiles(256), vec![((1, 0), 1)]);
        assert!(edge_tiles(0).is_empty());
    }
}
