//! Stores for tests only: [`MemoryStore`] keeps secrets in memory, [`FailingStore`] refuses
//! every call with one error. Neither is compiled into a shipped build (feature
//! `test-support`), so nothing can fall back to them.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::{SecretError, SecretKind, SecretStore, SecretValue};
use crate::ids::ConnectionId;

type Entries = HashMap<(String, SecretKind), SecretValue>;

/// Secrets in a map, for tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<Entries>,
}

impl MemoryStore {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves the map intact; keep using it.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many entries are stored, for assertions.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored value in plain text, for tests that search output for leaked secrets.
    pub fn values(&self) -> Vec<String> {
        self.entries().values().map(|v| v.0.clone()).collect()
    }

    /// The kinds stored for `connection`.
    pub fn kinds(&self, connection: &ConnectionId) -> Vec<SecretKind> {
        let mut kinds: Vec<SecretKind> = self
            .entries()
            .keys()
            .filter(|(id, _)| id == connection.as_str())
            .map(|(_, kind)| *kind)
            .collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    async fn get(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
    ) -> Result<Option<SecretValue>, SecretError> {
        Ok(self.entries().get(&(connection.to_string(), kind)).cloned())
    }

    async fn set(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
        value: &SecretValue,
    ) -> Result<(), SecretError> {
        self.entries()
            .insert((connection.to_string(), kind), value.clone());
        Ok(())
    }

    async fn delete(&self, connection: &ConnectionId, kind: SecretKind) -> Result<(), SecretError> {
        self.entries().remove(&(connection.to_string(), kind));
        Ok(())
    }
}

/// A store whose writes fail with `error`; reads find nothing. `after_writes` lets the first
/// writes through (a keyring that locks halfway).
#[derive(Debug)]
pub struct FailingStore {
    error: SecretError,
    inner: MemoryStore,
    writes_left: Mutex<usize>,
}

impl FailingStore {
    pub fn new(error: SecretError) -> Self {
        Self::after_writes(error, 0)
    }

    pub fn after_writes(error: SecretError, writes: usize) -> Self {
        Self {
            error,
            inner: MemoryStore::default(),
            writes_left: Mutex::new(writes),
        }
    }

    /// What got through before the failures began.
    pub fn stored(&self) -> &MemoryStore {
        &self.inner
    }
}

#[async_trait]
impl SecretStore for FailingStore {
    async fn get(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
    ) -> Result<Option<SecretValue>, SecretError> {
        self.inner.get(connection, kind).await
    }

    async fn set(
        &self,
        connection: &ConnectionId,
        kind: SecretKind,
        value: &SecretValue,
    ) -> Result<(), SecretError> {
        {
            let mut left = self
                .writes_left
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *left == 0 {
                return Err(self.error.clone());
            }
            *left -= 1;
        }
        self.inner.set(connection, kind, value).await
    }

    async fn delete(&self, connection: &ConnectionId, kind: SecretKind) -> Result<(), SecretError> {
        self.inner.delete(connection, kind).await
    }
}
