//! Ids of new entities: a prefix, then the creation time, so ids sort by when they were made.

use rand::Rng;

/// An id with a prefix that sorts by creation time: 12 hex digits of milliseconds, then 8 random.
pub fn new_id(prefix: &str) -> String {
    let millis = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let random: u32 = rand::rng().random();
    format!("{prefix}{millis:012x}{random:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time() {
        let a = new_id("cmt_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id("cmt_") > a);
    }
}
