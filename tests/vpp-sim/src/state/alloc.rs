//! [`IdPool`]: VPP's "lowest free bit of a bitmap" allocation (loopback instances, tap ids,
//! vxlan instances) in O(log n): a high-water mark plus the set of freed ids below it, so a
//! resync of thousands of interfaces does not rescan them all per create.
//!
//! It only hands out numbers; what they name is the caller's business.

use std::collections::BTreeSet;

/// Ids `0..max`, lowest free first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPool {
    /// Free ids below `next`.
    free: BTreeSet<u32>,
    /// Every id at or above this is free.
    next: u32,
    max: u32,
}

impl IdPool {
    pub fn new(max: u32) -> Self {
        IdPool {
            free: BTreeSet::new(),
            next: 0,
            max,
        }
    }

    /// Takes the lowest free id, `None` when all of `0..max` are taken.
    pub fn alloc(&mut self) -> Option<u32> {
        if let Some(id) = self.free.pop_first() {
            return Some(id);
        }
        if self.next >= self.max {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }

    /// Takes exactly `id`; false when it is taken or out of range.
    pub fn take(&mut self, id: u32) -> bool {
        if id >= self.max {
            return false;
        }
        if id < self.next {
            return self.free.remove(&id);
        }
        self.free.extend(self.next..id);
        self.next = id + 1;
        true
    }

    /// Gives `id` back.
    pub fn release(&mut self, id: u32) {
        if id < self.next {
            self.free.insert(id);
        }
        while self.next > 0 && self.free.remove(&(self.next - 1)) {
            self.next -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdPool;

    #[test]
    fn lowest_free_first_with_explicit_takes_and_releases() {
        let mut p = IdPool::new(4);
        assert_eq!((p.alloc(), p.alloc()), (Some(0), Some(1)));
        assert!(p.take(3));
        assert!(!p.take(3));
        assert!(!p.take(9), "out of range");
        assert_eq!(p.alloc(), Some(2), "the gap below the explicit id");
        assert_eq!(p.alloc(), None, "all taken");
        p.release(1);
        assert_eq!(p.alloc(), Some(1));
        for id in [3, 2, 1, 0] {
            p.release(id);
        }
        assert_eq!(p, IdPool::new(4), "releasing everything shrinks back");
    }
}
