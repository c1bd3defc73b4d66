//! In-memory record store, partitioned by owner (account and region) and
//! indexed so that one page costs O(log n + page size).
//!
//! Each partition keeps its records, each once behind an `Arc`, in two
//! indexes that point at the same allocation:
//!
//! * `by_id`: a `BTreeSet` ordered by [`Record::id`] — the listing order, and
//!   the index a page seeks into with `range((Excluded(after), Unbounded))`;
//! * `by_name`: a `HashSet` hashed by [`Record::name`] — name lookups and the
//!   per-owner uniqueness of names.
//!
//! Both sets borrow their keys from the record itself (see `ById` and
//! `ByName`), so an id or a name is stored exactly once, inside `T`, and
//! each index costs one pointer per record.
//!
//! A record's `id()` and `name()` must not change while it is stored; since
//! records are immutable behind `Arc` this holds for any ordinary `Record`.

use std::borrow::Borrow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::hash::FxHashMap;

/// A stored item: something with a unique id (the sort key) and a name
/// unique within its owner.
pub trait Record: Clone + Send + Sync + 'static {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
}

/// The partition a record belongs to. Records of one owner are never read
/// on behalf of another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    pub account: String,
    pub region: String,
}

impl Owner {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
        }
    }
}

/// An owner's records, as [`MemoryStore::snapshot`] gives them.
pub type OwnerRecords<T> = (Owner, Vec<Arc<T>>);

/// An owner as borrowed strings, so that a partition is found without building
/// an [`Owner`] (two `String`s) per request. Hashes and compares exactly as
/// `Owner` does (its derived `Hash` hashes `account`, then `region`).
trait OwnerKey {
    fn key(&self) -> (&str, &str);
}

impl OwnerKey for Owner {
    fn key(&self) -> (&str, &str) {
        (&self.account, &self.region)
    }
}

impl OwnerKey for (&str, &str) {
    fn key(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn OwnerKey + 'a> for Owner {
    fn borrow(&self) -> &(dyn OwnerKey + 'a) {
        self
    }
}

impl Hash for dyn OwnerKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (account, region) = self.key();
        account.hash(state);
        region.hash(state);
    }
}

impl PartialEq for dyn OwnerKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn OwnerKey + '_ {}

/// Which records a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter<'a> {
    All,
    Id(&'a str),
    Name(&'a str),
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<Arc<T>>,
    /// The id of the last item, when at least one more item follows it.
    pub next: Option<String>,
}

impl<T> Page<T> {
    fn empty() -> Self {
        Self {
            items: Vec::new(),
            next: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An `Id` or `Name` filter matched no record of the owner.
    #[error("no record matches the filter")]
    NotFound,
    /// The name is already used by a record with another id, same owner.
    #[error("the name is already used by another record")]
    NameTaken,
    /// The store takes no records of this owner ([`MemoryStore::for_owners`]): no
    /// request could reach them.
    #[error("the store takes no records of this account and region")]
    UnknownOwner,
}

/// Storage of records, listed in pages ordered by id.
pub trait Storage<T: Record>: Send + Sync + 'static {
    /// Up to `limit` records of `owner` matching `filter`, in id order,
    /// starting strictly after the id `after`.
    ///
    /// * `Filter::All`: the records after `after`; `next` is the id of the
    ///   last one when more follow. `after` need not exist any more.
    /// * `Filter::Id` / `Filter::Name`: the one matching record, or
    ///   [`StoreError::NotFound`]; with `after` set, an empty page (the single
    ///   match was on the first page).
    ///
    /// A `limit` of 0 is taken as 1, so that a page always makes progress.
    fn page(
        &self,
        owner: &Owner,
        filter: Filter<'_>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, StoreError>;

    /// [`Self::page`] for the owner `account` in `region`, given as borrowed
    /// strings (the default builds the [`Owner`]; [`MemoryStore`] looks the
    /// partition up without it).
    fn page_of(
        &self,
        account: &str,
        region: &str,
        filter: Filter<'_>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, StoreError> {
        self.page(&Owner::new(account, region), filter, after, limit)
    }

    /// Inserts `record`, or replaces the record of the same id (whose old
    /// name is then released). Fails with [`StoreError::NameTaken`], changing
    /// nothing, when another id of the same owner has the name.
    fn put(&self, owner: Owner, record: T) -> Result<(), StoreError>;

    /// Removes the record; whether there was one.
    fn remove(&self, owner: &Owner, id: &str) -> bool;

    /// Records stored, all owners together.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An `Arc<T>` ordered (and borrowable as `str`) by its id.
struct ById<T>(Arc<T>);

impl<T: Record> Borrow<str> for ById<T> {
    fn borrow(&self) -> &str {
        self.0.id()
    }
}
impl<T: Record> PartialEq for ById<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}
impl<T: Record> Eq for ById<T> {}
impl<T: Record> PartialOrd for ById<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T: Record> Ord for ById<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id().cmp(other.0.id())
    }
}

/// An `Arc<T>` hashed (and borrowable as `str`) by its name.
struct ByName<T>(Arc<T>);

impl<T: Record> Borrow<str> for ByName<T> {
    fn borrow(&self) -> &str {
        self.0.name()
    }
}
impl<T: Record> PartialEq for ByName<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.name() == other.0.name()
    }
}
impl<T: Record> Eq for ByName<T> {}
impl<T: Record> Hash for ByName<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash exactly as `str` does, for `Borrow<str>` lookups.
        self.0.name().hash(state)
    }
}

/// The records of one owner.
struct Partition<T> {
    by_id: BTreeSet<ById<T>>,
    by_name: HashSet<ByName<T>>,
}

impl<T: Record> Partition<T> {
    fn new() -> Self {
        Self {
            by_id: BTreeSet::new(),
            by_name: HashSet::new(),
        }
    }

    fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether `record` may be put: its name is free or already its own.
    fn name_free_for(&self, record: &T) -> bool {
        match self.by_name.get(record.name()) {
            Some(holder) => holder.0.id() == record.id(),
            None => true,
        }
    }

    /// Puts a record whose name has been checked; whether it was new.
    fn insert_checked(&mut self, record: Arc<T>) -> bool {
        let old = self.by_id.replace(ById(Arc::clone(&record)));
        if let Some(ById(old)) = &old {
            // The old name goes only while it is still the old record's: in a bulk load,
            // a record of a lower id, put first, may have taken it already.
            if self
                .by_name
                .get(old.name())
                .is_some_and(|holder| holder.0.id() == old.id())
            {
                self.by_name.remove(old.name());
            }
        }
        self.by_name.replace(ByName(record));
        old.is_none()
    }

    fn remove(&mut self, id: &str) -> bool {
        match self.by_id.take(id) {
            Some(ById(old)) => {
                self.by_name.remove(old.name());
                true
            }
            None => false,
        }
    }

    fn page(
        &self,
        filter: Filter<'_>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, StoreError> {
        let found = match filter {
            Filter::All => {
                let limit = limit.max(1);
                let lower = match after {
                    Some(a) => Bound::Excluded(a),
                    None => Bound::Unbounded,
                };
                let mut range = self.by_id.range::<str, _>((lower, Bound::Unbounded));
                // Sized once: a range's length is not known up front.
                let mut items = Vec::with_capacity(limit.min(self.by_id.len()));
                items.extend(range.by_ref().take(limit).map(|r| Arc::clone(&r.0)));
                // Peek one past the page: `next` only when more remain.
                let next = match range.next() {
                    Some(_) => items.last().map(|r| r.id().to_owned()),
                    None => None,
                };
                return Ok(Page { items, next });
            }
            Filter::Id(id) => self.by_id.get(id).map(|r| &r.0),
            Filter::Name(name) => self.by_name.get(name).map(|r| &r.0),
        };
        match (found, after) {
            (None, _) => Err(StoreError::NotFound),
            (Some(_), Some(_)) => Ok(Page::empty()),
            (Some(r), None) => Ok(Page {
                items: vec![Arc::clone(r)],
                next: None,
            }),
        }
    }
}

struct Inner<T> {
    parts: FxHashMap<Owner, Partition<T>>,
    len: usize,
}

/// [`Storage`] in memory: one `RwLock` over a map of owner partitions.
/// Pages are served under the read lock and hand out `Arc`s, so a page never
/// copies a record.
pub struct MemoryStore<T> {
    inner: RwLock<Inner<T>>,
    /// The only owners whose records it takes, when limited.
    owners: Option<HashSet<Owner>>,
}

impl<T: Record> Default for MemoryStore<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for MemoryStore<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (owners, len) = match self.inner.read() {
            Ok(g) => (g.parts.len(), g.len),
            Err(p) => (p.get_ref().parts.len(), p.get_ref().len),
        };
        f.debug_struct("MemoryStore")
            .field("owners", &owners)
            .field("len", &len)
            .finish()
    }
}

impl<T: Record> MemoryStore<T> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A store with room for `owners` partitions before the owner map grows.
    /// (Records live in B-trees, which have no capacity to reserve.)
    pub fn with_capacity(owners: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                parts: FxHashMap::with_capacity_and_hasher(owners, Default::default()),
                len: 0,
            }),
            owners: None,
        }
    }

    /// A store that takes records of these owners only: [`Storage::put`],
    /// [`MemoryStore::bulk_load`] and [`MemoryStore::replace_all`] refuse any other with
    /// [`StoreError::UnknownOwner`]. A server's store is one, limited to the accounts and
    /// regions it serves, so that a store put for a mistyped region is an error instead
    /// of a store no request ever lists.
    pub fn for_owners(owners: impl IntoIterator<Item = Owner>) -> Self {
        let owners: HashSet<Owner> = owners.into_iter().collect();
        Self {
            owners: Some(owners),
            ..Self::with_capacity(0)
        }
    }

    /// `Ok` when the store takes records of `owner`.
    fn takes(&self, owner: &Owner) -> Result<(), StoreError> {
        match &self.owners {
            Some(owners) if !owners.contains(owner) => Err(StoreError::UnknownOwner),
            _ => Ok(()),
        }
    }

    // A panic while a lock is held can't leave a partition half-updated in
    // a way that matters here (each update is a few infallible set
    // operations), so a poisoned lock is simply taken over.
    fn read(&self) -> RwLockReadGuard<'_, Inner<T>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<T>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The record `id` of `owner`.
    pub fn get(&self, owner: &Owner, id: &str) -> Option<Arc<T>> {
        let g = self.read();
        g.parts.get(owner)?.by_id.get(id).map(|r| Arc::clone(&r.0))
    }

    /// Every record, owner by owner (by account, then region), each owner's in id
    /// order, as one read sees them; or, when there are more than `max`, how many there
    /// are (nothing copied).
    pub fn snapshot(&self, max: usize) -> Result<Vec<OwnerRecords<T>>, usize> {
        let g = self.read();
        if g.len > max {
            return Err(g.len);
        }
        let mut all: Vec<OwnerRecords<T>> = g
            .parts
            .iter()
            .filter(|(_, part)| part.len() > 0)
            .map(|(owner, part)| {
                let records = part.by_id.iter().map(|r| Arc::clone(&r.0)).collect();
                (owner.clone(), records)
            })
            .collect();
        drop(g);
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    /// Records of one owner.
    pub fn owner_len(&self, owner: &Owner) -> usize {
        self.read().parts.get(owner).map_or(0, Partition::len)
    }

    /// Loads many records at once, with [`Storage::put`]'s semantics (a later
    /// record of the same owner and id replaces an earlier one) but all or
    /// nothing: on [`StoreError::NameTaken`] the store is left unchanged.
    /// Returns how many records were new.
    ///
    /// Grouping and sorting happen before the write lock is taken; partitions
    /// that are new or empty are built in O(n) from the sorted records, and
    /// input already sorted by id is detected and not sorted again.
    pub fn bulk_load(
        &self,
        records: impl IntoIterator<Item = (Owner, T)>,
    ) -> Result<usize, StoreError> {
        // Group by owner, keeping input order within each owner.
        let mut groups: HashMap<Owner, Vec<Arc<T>>> = HashMap::new();
        let mut last: Option<(Owner, Vec<Arc<T>>)> = None;
        for (owner, record) in records {
            // Fast path for runs of the same owner: no hashing.
            match &mut last {
                Some((o, v)) if *o == owner => v.push(Arc::new(record)),
                _ => {
                    self.takes(&owner)?;
                    if let Some((o, v)) = last.take() {
                        groups.entry(o).or_default().extend(v);
                    }
                    last = Some((owner, vec![Arc::new(record)]));
                }
            }
        }
        if let Some((o, v)) = last.take() {
            match groups.entry(o) {
                Entry::Occupied(mut e) => e.get_mut().extend(v),
                Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }

        // Sort each group by id (stable, so the last of equal ids is the
        // latest given) and keep only that last one.
        for v in groups.values_mut() {
            if !v.is_sorted_by(|a, b| a.id() < b.id()) {
                v.sort_by(|a, b| a.id().cmp(b.id()));
                dedup_keep_last(v);
            }
        }

        let mut g = self.write();

        // Check every name before changing anything.
        for (owner, v) in &groups {
            check_names(g.parts.get(owner), v)?;
        }

        let mut added = 0;
        for (owner, v) in groups {
            let part = g.parts.entry(owner).or_insert_with(Partition::new);
            if part.len() == 0 {
                added += v.len();
                part.by_name = v.iter().map(|r| ByName(Arc::clone(r))).collect();
                // Sorted, distinct input: the B-tree is built bottom-up.
                part.by_id = v.into_iter().map(ById).collect();
            } else {
                for r in v {
                    added += usize::from(part.insert_checked(r));
                }
            }
        }
        g.len += added;
        Ok(added)
    }
}

impl<T: Record> MemoryStore<T> {
    /// Replaces every record at once with `records` ([`MemoryStore::bulk_load`]'s
    /// semantics and checks, into an empty store): requests see either all the old
    /// records or all the new ones. On an error the store is left unchanged. Returns
    /// how many records it holds now.
    pub fn replace_all(
        &self,
        records: impl IntoIterator<Item = (Owner, T)>,
    ) -> Result<usize, StoreError> {
        let fresh = Self {
            owners: self.owners.clone(),
            ..Self::new()
        };
        let len = fresh.bulk_load(records)?;
        let fresh = fresh.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        let old = std::mem::replace(&mut *self.write(), fresh);
        // The old records are freed after the lock is released.
        drop(old);
        Ok(len)
    }
}

/// Drops all but the last of each run of equal ids in a vector sorted by id.
fn dedup_keep_last<T: Record>(v: &mut Vec<Arc<T>>) {
    // `dedup_by` keeps the first of a run; swap the later one in first.
    v.dedup_by(|later, earlier| {
        if later.id() == earlier.id() {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
}

/// Whether the records `incoming` (sorted, distinct ids) can all be put into
/// `existing`: no two of them share a name, and none takes a name that an
/// existing record keeps (one not replaced by an incoming record).
fn check_names<T: Record>(
    existing: Option<&Partition<T>>,
    incoming: &[Arc<T>],
) -> Result<(), StoreError> {
    let mut names: HashSet<&str> = HashSet::with_capacity(incoming.len());
    for r in incoming {
        if !names.insert(r.name()) {
            return Err(StoreError::NameTaken);
        }
    }
    let Some(part) = existing else { return Ok(()) };
    for r in incoming {
        if let Some(holder) = part.by_name.get(r.name()) {
            let holder_id = holder.0.id();
            // Taken unless it is this record's own, or its holder is being
            // replaced (then by a record with another name, since incoming
            // names are distinct and `r` has this one).
            let replaced = incoming.binary_search_by(|x| x.id().cmp(holder_id)).is_ok();
            if holder_id != r.id() && !replaced {
                return Err(StoreError::NameTaken);
            }
        }
    }
    Ok(())
}

impl<T: Record> Storage<T> for MemoryStore<T> {
    fn page(
        &self,
        owner: &Owner,
        filter: Filter<'_>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, StoreError> {
        self.page_of(&owner.account, &owner.region, filter, after, limit)
    }

    fn page_of(
        &self,
        account: &str,
        region: &str,
        filter: Filter<'_>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, StoreError> {
        let g = self.read();
        match g.parts.get(&(account, region) as &dyn OwnerKey) {
            Some(part) => part.page(filter, after, limit),
            None => match filter {
                Filter::All => Ok(Page::empty()),
                Filter::Id(_) | Filter::Name(_) => Err(StoreError::NotFound),
            },
        }
    }

    fn put(&self, owner: Owner, record: T) -> Result<(), StoreError> {
        self.takes(&owner)?;
        let mut g = self.write();
        let inner = &mut *g;
        let part = match inner.parts.entry(owner) {
            Entry::Occupied(e) => {
                if !e.get().name_free_for(&record) {
                    return Err(StoreError::NameTaken);
                }
                e.into_mut()
            }
            Entry::Vacant(e) => e.insert(Partition::new()),
        };
        if part.insert_checked(Arc::new(record)) {
            inner.len += 1;
        }
        Ok(())
    }

    fn remove(&self, owner: &Owner, id: &str) -> bool {
        let mut g = self.write();
        let inner = &mut *g;
        let Some(part) = inner.parts.get_mut(owner) else {
            return false;
        };
        if !part.remove(id) {
            return false;
        }
        if part.len() == 0 {
            inner.parts.remove(owner);
        }
        inner.len -= 1;
        true
    }

    fn len(&self) -> usize {
        self.read().len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet as Set;

    #[derive(Debug, Clone, PartialEq)]
    struct Ks {
        id: String,
        name: String,
        payload: u64,
    }

    impl Record for Ks {
        fn id(&self) -> &str {
            &self.id
        }
        fn name(&self) -> &str {
            &self.name
        }
    }

    fn ks(i: u64) -> Ks {
        Ks {
            id: id(i),
            name: format!("store-{i}"),
            payload: i,
        }
    }

    fn id(i: u64) -> String {
        format!("cks-{i:017x}")
    }

    fn owner() -> Owner {
        Owner::new("111122223333", "us-east-1")
    }

    /// Every page of `owner`'s listing, following `next`.
    fn collect_all(s: &MemoryStore<Ks>, o: &Owner, limit: usize) -> (Vec<String>, usize) {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let p = s.page(o, Filter::All, after.as_deref(), limit).unwrap();
            pages += 1;
            // A cursor that stops advancing must fail the test, not hang it.
            assert!(pages <= 10_000, "paging does not terminate");
            assert!(p.items.len() <= limit.max(1));
            out.extend(p.items.iter().map(|r| r.id.clone()));
            match p.next {
                Some(n) => {
                    assert_eq!(Some(&n), p.items.last().map(|r| &r.id));
                    after = Some(n);
                }
                None => return (out, pages),
            }
        }
    }

    #[test]
    fn paging_2500_each_once_in_order() {
        let s = MemoryStore::new();
        // Insert in a scrambled order.
        let mut ids: Vec<u64> = (0..2500).map(|i| i * 7919 % 2500).collect();
        ids.dedup();
        for &i in &ids {
            s.put(owner(), ks(i)).unwrap();
        }
        assert_eq!(s.len(), 2500);
        let expected: Vec<String> = (0..2500).map(id).collect();
        for limit in [1, 7, 1000] {
            let (got, pages) = collect_all(&s, &owner(), limit);
            assert_eq!(got, expected, "limit {limit}");
            assert_eq!(pages, 2500usize.div_ceil(limit), "limit {limit}");
        }
    }

    #[test]
    fn next_only_when_more_remain() {
        let s = MemoryStore::new();
        for i in 0..10 {
            s.put(owner(), ks(i)).unwrap();
        }
        let p = s.page(&owner(), Filter::All, None, 10).unwrap();
        assert_eq!(p.items.len(), 10);
        assert_eq!(p.next, None); // exactly full, nothing after
        let p = s.page(&owner(), Filter::All, None, 9).unwrap();
        assert_eq!(p.next, Some(id(8)));
        let p = s.page(&owner(), Filter::All, Some(&id(8)), 9).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.next, None);
        let p = s.page(&owner(), Filter::All, Some(&id(9)), 9).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.next, None);
        // after beyond the end, and before the start
        assert!(
            s.page(&owner(), Filter::All, Some("zzz"), 5)
                .unwrap()
                .items
                .is_empty()
        );
        let p = s.page(&owner(), Filter::All, Some("a"), 5).unwrap();
        assert_eq!(p.items[0].id, id(0));
        // limit 0 still makes progress
        let p = s.page(&owner(), Filter::All, None, 0).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.next, Some(id(0)));
        // huge limit doesn't over-allocate or fail
        let p = s.page(&owner(), Filter::All, None, usize::MAX).unwrap();
        assert_eq!(p.items.len(), 10);
    }

    #[test]
    fn after_record_removed_continues_correctly() {
        let s = MemoryStore::new();
        for i in 0..20 {
            s.put(owner(), ks(i)).unwrap();
        }
        let p = s.page(&owner(), Filter::All, None, 5).unwrap();
        let after = p.next.unwrap();
        assert_eq!(after, id(4));
        assert!(s.remove(&owner(), &after));
        let p = s.page(&owner(), Filter::All, Some(&after), 5).unwrap();
        let got: Vec<_> = p.items.iter().map(|r| r.id.clone()).collect();
        assert_eq!(got, (5..10).map(id).collect::<Vec<_>>());
    }

    #[test]
    fn interleaved_mutations_never_skip_or_repeat() {
        let mut rng = StdRng::seed_from_u64(42);
        for round in 0..30 {
            let s = MemoryStore::new();
            // Even ids at start; odd ones get inserted later (they interleave).
            let initial: Vec<u64> = (0..600).map(|i| i * 2).collect();
            for &i in &initial {
                s.put(owner(), ks(i)).unwrap();
            }
            // Records that will never be removed: must appear exactly once.
            let mut stable: Set<String> = initial
                .iter()
                .filter(|&&i| i % 3 != 0)
                .map(|&i| id(i))
                .collect();
            let removable: Vec<u64> = initial.iter().copied().filter(|i| i % 3 == 0).collect();
            let limit = [1, 3, 7, 50][round % 4];
            let mut seen: Vec<String> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let p = s
                    .page(&owner(), Filter::All, after.as_deref(), limit)
                    .unwrap();
                seen.extend(p.items.iter().map(|r| r.id.clone()));
                assert!(seen.len() <= 10_000, "paging does not terminate");
                // Mutate between pages.
                for _ in 0..rng.random_range(0..6) {
                    match rng.random_range(0..4) {
                        0 => {
                            let i = rng.random_range(0..600) * 2 + 1;
                            let _ = s.put(owner(), ks(i));
                        }
                        1 => {
                            let i = removable[rng.random_range(0..removable.len())];
                            s.remove(&owner(), &id(i));
                        }
                        2 => {
                            // remove the cursor record itself
                            if let Some(a) = &after {
                                let num = u64::from_str_radix(&a[4..], 16).unwrap();
                                if num % 3 == 0 || num % 2 == 1 {
                                    s.remove(&owner(), a);
                                }
                            }
                        }
                        _ => {
                            // replace a stable record in place (same id)
                            let i = rng.random_range(0..600) * 2;
                            if i % 3 != 0 {
                                let mut r = ks(i);
                                r.payload += 1;
                                s.put(owner(), r).unwrap();
                            }
                        }
                    }
                }
                match p.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            // strictly increasing => no repeats, order kept
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "round {round}");
            for x in &seen {
                stable.remove(x);
            }
            assert!(
                stable.is_empty(),
                "round {round}: skipped {:?}",
                stable.iter().take(5).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn concurrent_readers_and_writers() {
        let s = Arc::new(MemoryStore::new());
        for i in 0..1000 {
            s.put(owner(), ks(i * 2)).unwrap();
        }
        std::thread::scope(|sc| {
            let w = Arc::clone(&s);
            sc.spawn(move || {
                for i in 0..1000 {
                    w.put(owner(), ks(i * 2 + 1)).unwrap();
                    if i % 2 == 0 {
                        w.remove(&owner(), &id(i * 2 + 1));
                    }
                }
            });
            for _ in 0..2 {
                let r = Arc::clone(&s);
                sc.spawn(move || {
                    let (got, _) = collect_all(&r, &owner(), 13);
                    assert!(got.windows(2).all(|w| w[0] < w[1]));
                    for i in 0..1000 {
                        assert!(got.binary_search(&id(i * 2)).is_ok());
                    }
                });
            }
        });
        assert_eq!(s.len(), 1500);
    }

    /// A `Storage` that only has `page`: `page_of` is the provided default.
    struct OnlyPage(MemoryStore<Ks>);

    impl Storage<Ks> for OnlyPage {
        fn page(
            &self,
            owner: &Owner,
            filter: Filter<'_>,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Page<Ks>, StoreError> {
            self.0.page(owner, filter, after, limit)
        }
        fn put(&self, owner: Owner, record: Ks) -> Result<(), StoreError> {
            self.0.put(owner, record)
        }
        fn remove(&self, owner: &Owner, id: &str) -> bool {
            self.0.remove(owner, id)
        }
        fn len(&self) -> usize {
            self.0.len()
        }
    }

    #[test]
    fn page_of_borrowed_strings_finds_the_same_partition_as_page() {
        let s = MemoryStore::new();
        // Owners whose strings concatenate alike must stay apart.
        let owners = [
            Owner::new("111111111111", "us-east-1"),
            Owner::new("11111111111", "1us-east-1"),
            Owner::new("111111111111", "eu-west-1"),
            Owner::new("", ""),
        ];
        for (n, o) in owners.iter().enumerate() {
            for i in 0..=n as u64 {
                s.put(o.clone(), ks(10 * n as u64 + i)).unwrap();
            }
        }
        let ids = |p: Page<Ks>| p.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let s = OnlyPage(s);
        for (n, o) in owners.iter().enumerate() {
            let by_owner = ids(s.page(o, Filter::All, None, 100).unwrap());
            assert_eq!(by_owner.len(), n + 1);
            let borrowed = s.0.page_of(&o.account, &o.region, Filter::All, None, 100);
            assert_eq!(ids(borrowed.unwrap()), by_owner);
            let default = s.page_of(&o.account, &o.region, Filter::All, None, 100);
            assert_eq!(ids(default.unwrap()), by_owner);
            let name = format!("store-{}", 10 * n);
            let one =
                s.0.page_of(&o.account, &o.region, Filter::Name(&name), None, 1);
            assert_eq!(ids(one.unwrap()), vec![id(10 * n as u64)]);
        }
        let p =
            s.0.page_of("999999999999", "us-east-1", Filter::All, None, 10)
                .unwrap();
        assert!(p.items.is_empty() && p.next.is_none());
        assert_eq!(
            s.0.page_of("111111111111", "us-west-2", Filter::Id(&id(0)), None, 10)
                .unwrap_err(),
            StoreError::NotFound
        );
    }

    #[test]
    fn owner_isolation() {
        let s = MemoryStore::new();
        let a = Owner::new("111111111111", "us-east-1");
        let b = Owner::new("222222222222", "us-east-1");
        let c = Owner::new("111111111111", "eu-west-1");
        s.put(a.clone(), ks(1)).unwrap();
        s.put(b.clone(), ks(2)).unwrap();
        // Same id and name in another owner is a different record.
        s.put(c.clone(), ks(1)).unwrap();
        s.put(
            c.clone(),
            Ks {
                id: id(3),
                name: "store-2".into(),
                payload: 0,
            },
        )
        .unwrap();
        assert_eq!(s.len(), 4);
        let ids = |o: &Owner| collect_all(&s, o, 10).0;
        assert_eq!(ids(&a), vec![id(1)]);
        assert_eq!(ids(&b), vec![id(2)]);
        assert_eq!(ids(&c), vec![id(1), id(3)]);
        assert_eq!(
            s.page(&a, Filter::Id(&id(2)), None, 10).unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&b, Filter::Name("store-1"), None, 10).unwrap_err(),
            StoreError::NotFound
        );
        assert!(!s.remove(&a, &id(2)));
        assert!(s.remove(&c, &id(1)));
        assert_eq!(ids(&a), vec![id(1)]);
        let nobody = Owner::new("999999999999", "us-east-1");
        let p = s.page(&nobody, Filter::All, None, 10).unwrap();
        assert!(p.items.is_empty() && p.next.is_none());
        assert_eq!(
            s.page(&nobody, Filter::Id(&id(1)), None, 10).unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&nobody, Filter::Name("store-1"), None, 10)
                .unwrap_err(),
            StoreError::NotFound
        );
    }

    #[test]
    fn filters() {
        let s = MemoryStore::new();
        for i in 0..50 {
            s.put(owner(), ks(i)).unwrap();
        }
        let p = s.page(&owner(), Filter::Id(&id(17)), None, 10).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].name, "store-17");
        assert_eq!(p.next, None);
        let p = s.page(&owner(), Filter::Name("store-23"), None, 1).unwrap();
        assert_eq!(p.items[0].id, id(23));
        assert_eq!(p.next, None);
        // with `after`: empty page
        let p = s
            .page(&owner(), Filter::Id(&id(17)), Some(&id(17)), 10)
            .unwrap();
        assert!(p.items.is_empty() && p.next.is_none());
        let p = s
            .page(&owner(), Filter::Name("store-23"), Some("x"), 10)
            .unwrap();
        assert!(p.items.is_empty() && p.next.is_none());
        // names are matched exactly
        assert_eq!(
            s.page(&owner(), Filter::Name("STORE-23"), None, 10)
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&owner(), Filter::Name("store-2"), None, 10)
                .unwrap()
                .items[0]
                .id,
            id(2)
        );
    }

    #[test]
    fn not_found() {
        let s = MemoryStore::new();
        s.put(owner(), ks(1)).unwrap();
        assert_eq!(
            s.page(&owner(), Filter::Id(&id(2)), None, 10).unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&owner(), Filter::Name("nope"), None, 10)
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&owner(), Filter::Id(&id(2)), Some("x"), 10)
                .unwrap_err(),
            StoreError::NotFound
        );
        s.remove(&owner(), &id(1));
        assert_eq!(
            s.page(&owner(), Filter::Id(&id(1)), None, 10).unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&owner(), Filter::Name("store-1"), None, 10)
                .unwrap_err(),
            StoreError::NotFound
        );
    }

    #[test]
    fn name_taken_and_replace() {
        let s = MemoryStore::new();
        s.put(owner(), ks(1)).unwrap();
        s.put(owner(), ks(2)).unwrap();
        // Another id with a used name: refused, nothing changes.
        let clash = Ks {
            id: id(3),
            name: "store-1".into(),
            payload: 9,
        };
        assert_eq!(s.put(owner(), clash.clone()), Err(StoreError::NameTaken));
        assert_eq!(s.len(), 2);
        assert!(s.get(&owner(), &id(3)).is_none());
        // Renaming id 2 to id 1's name: refused, id 2 untouched.
        let rename = Ks {
            id: id(2),
            name: "store-1".into(),
            payload: 9,
        };
        assert_eq!(s.put(owner(), rename), Err(StoreError::NameTaken));
        assert_eq!(s.get(&owner(), &id(2)).unwrap().name, "store-2");
        // Same id, same name: a replace.
        s.put(
            owner(),
            Ks {
                id: id(1),
                name: "store-1".into(),
                payload: 77,
            },
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(&owner(), &id(1)).unwrap().payload, 77);
        // Same id, new name: the old name is released.
        s.put(
            owner(),
            Ks {
                id: id(1),
                name: "renamed".into(),
                payload: 78,
            },
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.page(&owner(), Filter::Name("store-1"), None, 1)
                .unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.page(&owner(), Filter::Name("renamed"), None, 1)
                .unwrap()
                .items[0]
                .payload,
            78
        );
        s.put(owner(), clash).unwrap();
        // Removing releases the name too.
        assert!(s.remove(&owner(), &id(3)));
        s.put(
            owner(),
            Ks {
                id: id(4),
                name: "store-1".into(),
                payload: 0,
            },
        )
        .unwrap();
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn replace_all_swaps_every_record_or_none() {
        let s = MemoryStore::new();
        s.bulk_load((1..=3).map(|i| (owner(), ks(i)))).unwrap();
        let other = Owner::new("444455556666", "us-east-1");
        s.put(other.clone(), ks(9)).unwrap();
        assert_eq!(s.replace_all([(owner(), ks(4)), (owner(), ks(5))]), Ok(2));
        assert_eq!(s.len(), 2);
        assert!(s.get(&owner(), &id(1)).is_none());
        assert!(s.get(&owner(), &id(4)).is_some());
        assert_eq!(s.owner_len(&other), 0, "other owners are replaced too");
        // Two stores with one name: refused, and nothing changes.
        let mut clash = ks(7);
        clash.name = "store-6".into();
        let refused = s.replace_all([(owner(), ks(6)), (owner(), clash)]);
        assert!(matches!(refused, Err(StoreError::NameTaken)), "{refused:?}");
        assert_eq!(s.len(), 2);
        assert!(s.get(&owner(), &id(4)).is_some());
    }

    #[test]
    fn remove_and_len() {
        let s = MemoryStore::new();
        assert!(s.is_empty());
        s.put(owner(), ks(1)).unwrap();
        assert!(!s.is_empty());
        assert_eq!(format!("{s:?}"), "MemoryStore { owners: 1, len: 1 }");
        assert!(!s.remove(&owner(), &id(2)));
        assert!(s.remove(&owner(), &id(1)));
        assert!(!s.remove(&owner(), &id(1)));
        assert!(s.is_empty());
        assert_eq!(s.owner_len(&owner()), 0);
        // The emptied owner's partition goes too.
        assert_eq!(format!("{s:?}"), "MemoryStore { owners: 0, len: 0 }");
    }

    /// A snapshot lists every owner's records, owners in order (account, then region)
    /// and each one's in id order; past `max` records only how many there are, and at
    /// exactly `max` still all of them.
    #[test]
    fn snapshot_lists_owner_by_owner_up_to_max() {
        let s = MemoryStore::new();
        let owners: Vec<Owner> = (0..20)
            .rev()
            .map(|i| Owner::new("111122223333", format!("region-{i:02}")))
            .collect();
        s.bulk_load(
            owners
                .iter()
                .flat_map(|o| [(o.clone(), ks(2)), (o.clone(), ks(1))]),
        )
        .unwrap();
        let listed: Vec<(Owner, Vec<u64>)> = s
            .snapshot(40)
            .unwrap()
            .into_iter()
            .map(|(o, records)| (o, records.iter().map(|r| r.payload).collect()))
            .collect();
        let expected: Vec<(Owner, Vec<u64>)> =
            owners.into_iter().rev().map(|o| (o, vec![1, 2])).collect();
        assert_eq!(listed, expected);
        assert_eq!(s.snapshot(39).map(|all| all.len()), Err(40));
        assert_eq!(
            MemoryStore::<Ks>::new().snapshot(0).map(|all| all.len()),
            Ok(0)
        );
    }

    /// Among many owners and many names, each owner's listing and each name find that
    /// owner's or name's own record: a lookup compares owners and names, not only what
    /// they hash to. Names are indexed both ways a partition gets them, by a load into an
    /// empty partition and by one put after another.
    #[test]
    fn many_owners_and_names_each_find_their_own() {
        let s = MemoryStore::new();
        let owners: Vec<Owner> = (0..300)
            .map(|i| Owner::new(format!("{i:012}"), "us-east-1"))
            .collect();
        for (i, o) in (0u64..).zip(&owners) {
            s.put(o.clone(), ks(i)).unwrap();
        }
        for (i, o) in (0u64..).zip(&owners) {
            let p = s.page(o, Filter::All, None, 10).unwrap();
            assert_eq!(p.items.iter().map(|r| r.payload).collect::<Vec<_>>(), [i]);
        }
        s.bulk_load((1000..2000).map(|i| (owner(), ks(i)))).unwrap();
        for i in 2000..3000 {
            s.put(owner(), ks(i)).unwrap();
        }
        for i in 1000..3000 {
            let name = format!("store-{i}");
            let p = s.page(&owner(), Filter::Name(&name), None, 1);
            assert_eq!(p.map(|p| p.items[0].payload), Ok(i), "{name}");
        }
    }

    #[test]
    fn pages_share_records_not_copies() {
        let s = MemoryStore::new();
        s.put(owner(), ks(1)).unwrap();
        let a = s
            .page(&owner(), Filter::All, None, 1)
            .unwrap()
            .items
            .remove(0);
        let b = s
            .page(&owner(), Filter::Name("store-1"), None, 1)
            .unwrap()
            .items
            .remove(0);
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn bulk_load_builds_ordered_indexes() {
        let s = MemoryStore::with_capacity(4);
        let a = Owner::new("111111111111", "us-east-1");
        let b = Owner::new("222222222222", "us-east-1");
        // Interleaved owners, unsorted within each.
        let recs = (0..3000u64)
            .rev()
            .map(|i| (if i % 2 == 0 { a.clone() } else { b.clone() }, ks(i)));
        assert_eq!(s.bulk_load(recs).unwrap(), 3000);
        assert_eq!(s.len(), 3000);
        let (ga, _) = collect_all(&s, &a, 100);
        assert_eq!(
            ga,
            (0..3000).filter(|i| i % 2 == 0).map(id).collect::<Vec<_>>()
        );
        assert_eq!(s.owner_len(&b), 1500);
        assert_eq!(
            s.page(&b, Filter::Name("store-7"), None, 1).unwrap().items[0].id,
            id(7)
        );
        // Sorted input.
        let s2 = MemoryStore::new();
        assert_eq!(
            s2.bulk_load((0..100).map(|i| (a.clone(), ks(i)))).unwrap(),
            100
        );
        assert_eq!(
            collect_all(&s2, &a, 7).0,
            (0..100).map(id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn bulk_load_last_duplicate_wins() {
        let recs = vec![
            (
                owner(),
                Ks {
                    id: id(2),
                    name: "x".into(),
                    payload: 1,
                },
            ),
            (owner(), ks(1)),
            (
                owner(),
                Ks {
                    id: id(2),
                    name: "y".into(),
                    payload: 2,
                },
            ),
        ];
        // In the order given, and already in id order (the repeats next to each other).
        let sorted = vec![recs[1].clone(), recs[0].clone(), recs[2].clone()];
        let repeats_only = vec![recs[0].clone(), recs[2].clone()];
        for (recs, new) in [(recs, 2), (sorted, 2), (repeats_only, 1)] {
            let s = MemoryStore::new();
            assert_eq!(s.bulk_load(recs).unwrap(), new);
            assert_eq!(s.len(), new);
            assert_eq!(s.get(&owner(), &id(2)).unwrap().payload, 2);
            assert_eq!(
                s.page(&owner(), Filter::Name("x"), None, 1).unwrap_err(),
                StoreError::NotFound
            );
        }
    }

    #[test]
    fn bulk_load_is_all_or_nothing() {
        let s = MemoryStore::new();
        let other = Owner::new("999999999999", "us-east-1");
        // Two incoming records with one name.
        let recs = vec![
            (other.clone(), ks(5)),
            (owner(), ks(1)),
            (
                owner(),
                Ks {
                    id: id(2),
                    name: "store-1".into(),
                    payload: 0,
                },
            ),
        ];
        assert_eq!(s.bulk_load(recs), Err(StoreError::NameTaken));
        assert_eq!(s.len(), 0);
        // Clash with an existing record.
        s.put(owner(), ks(1)).unwrap();
        let recs = vec![
            (other.clone(), ks(5)),
            (
                owner(),
                Ks {
                    id: id(9),
                    name: "store-1".into(),
                    payload: 0,
                },
            ),
        ];
        assert_eq!(s.bulk_load(recs), Err(StoreError::NameTaken));
        assert_eq!(s.len(), 1);
        assert_eq!(s.owner_len(&other), 0);
        // Allowed: the holder of the name is renamed in the same load.
        let recs = vec![
            (
                owner(),
                Ks {
                    id: id(1),
                    name: "moved".into(),
                    payload: 0,
                },
            ),
            (
                owner(),
                Ks {
                    id: id(9),
                    name: "store-1".into(),
                    payload: 0,
                },
            ),
        ];
        assert_eq!(s.bulk_load(recs).unwrap(), 1);
        assert_eq!(
            s.page(&owner(), Filter::Name("store-1"), None, 1)
                .unwrap()
                .items[0]
                .id,
            id(9)
        );
        assert_eq!(
            s.page(&owner(), Filter::Name("moved"), None, 1)
                .unwrap()
                .items[0]
                .id,
            id(1)
        );
        assert_eq!(s.len(), 2);
    }

    /// A store limited to some owners refuses records of any other, whichever way they
    /// come, and changes nothing then: a server's store used to take a store put for a
    /// mistyped region, which no request could ever list.
    #[test]
    fn a_store_for_some_owners_refuses_the_others() {
        let typo = Owner::new("111122223333", "us-east1");
        let s = MemoryStore::for_owners([owner()]);
        s.put(owner(), ks(1)).unwrap();
        assert_eq!(s.put(typo.clone(), ks(2)), Err(StoreError::UnknownOwner));
        let load = vec![(owner(), ks(3)), (typo.clone(), ks(4))];
        assert_eq!(s.bulk_load(load.clone()), Err(StoreError::UnknownOwner));
        assert_eq!(s.replace_all(load), Err(StoreError::UnknownOwner));
        assert_eq!(s.len(), 1);
        // After a replacement, the limit still holds.
        assert_eq!(s.replace_all([(owner(), ks(5))]), Ok(1));
        assert_eq!(s.put(typo, ks(6)), Err(StoreError::UnknownOwner));
        assert_eq!(s.owner_len(&owner()), 1);
    }

    /// A load that moves names between stores: the name index follows, whichever of two
    /// stores has the lower id. It used to lose a name when its new holder's id was the
    /// lower one (the holder's rename, applied second, removed it), so that the name was
    /// not found and a second store could take it.
    #[test]
    fn bulk_load_moves_names_in_either_id_order() {
        let named = |i: u64, name: &str| Ks {
            id: id(i),
            name: name.into(),
            payload: i,
        };
        let holder = |s: &MemoryStore<Ks>, name: &str| {
            s.page(&owner(), Filter::Name(name), None, 1)
                .map(|p| p.items[0].id.clone())
        };
        // A lower id takes the name of a higher one, renamed in the same load.
        let s = MemoryStore::new();
        s.put(owner(), named(1, "a")).unwrap();
        let load = vec![(owner(), named(0, "a")), (owner(), named(1, "b"))];
        assert_eq!(s.bulk_load(load).unwrap(), 1);
        assert_eq!(holder(&s, "a"), Ok(id(0)));
        assert_eq!(holder(&s, "b"), Ok(id(1)));
        assert_eq!(s.put(owner(), named(9, "a")), Err(StoreError::NameTaken));
        // Two stores swap their names.
        let s = MemoryStore::new();
        s.put(owner(), named(1, "a")).unwrap();
        s.put(owner(), named(2, "b")).unwrap();
        let load = vec![(owner(), named(1, "b")), (owner(), named(2, "a"))];
        assert_eq!(s.bulk_load(load).unwrap(), 0);
        assert_eq!(holder(&s, "a"), Ok(id(2)));
        assert_eq!(holder(&s, "b"), Ok(id(1)));
        assert_eq!(s.put(owner(), named(9, "b")), Err(StoreError::NameTaken));
        assert_eq!(s.len(), 2);
        // The same, given in descending id order, among others that keep their names.
        let s = MemoryStore::new();
        s.bulk_load((1..=5).map(|i| (owner(), ks(i)))).unwrap();
        let swapped = |i: u64| match i {
            1 => named(1, "store-5"),
            5 => named(5, "store-1"),
            i => ks(i),
        };
        let load = (1..=5).rev().map(|i| (owner(), swapped(i)));
        assert_eq!(s.bulk_load(load), Ok(0));
        assert_eq!(holder(&s, "store-1"), Ok(id(5)));
        assert_eq!(holder(&s, "store-5"), Ok(id(1)));
    }

    #[test]
    fn bulk_load_one_million() {
        let s = MemoryStore::new();
        let o = owner();
        s.bulk_load((0..1_000_000u64).map(|i| (o.clone(), ks(i))))
            .unwrap();
        assert_eq!(s.len(), 1_000_000);
        let p = s.page(&o, Filter::All, Some(&id(500_000)), 100).unwrap();
        assert_eq!(p.items.first().unwrap().id, id(500_001));
        assert_eq!(p.next, Some(id(500_100)));
    }

    #[test]
    fn storage_is_object_safe() {
        let s: Arc<dyn Storage<Ks>> = Arc::new(MemoryStore::new());
        s.put(owner(), ks(1)).unwrap();
        assert_eq!(s.len(), 1);
    }
}
