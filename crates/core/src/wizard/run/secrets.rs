//! A setup's secrets in the keyring, by the kind of secret an input holds.

use crate::ids::ConnectionId;
use crate::secrets::{
    ApiKey, ClientSecret, Password, SecretError, SecretKind, SecretStore, SecretStoreExt,
};

pub(super) async fn save_secret(
    store: &dyn SecretStore,
    id: &ConnectionId,
    kind: SecretKind,
    value: String,
) -> Result<(), SecretError> {
    match kind {
        SecretKind::ClientSecret => store.save(id, &ClientSecret::new(value)).await,
        SecretKind::ApiKey => store.save(id, &ApiKey::new(value)).await,
        _ => store.save(id, &Password::new(value)).await,
    }
}

pub(super) async fn load_secret(
    store: &dyn SecretStore,
    id: &ConnectionId,
    kind: SecretKind,
) -> Result<Option<String>, SecretError> {
    Ok(match kind {
        SecretKind::ClientSecret => store
            .load::<ClientSecret>(id)
            .await?
            .map(|s| s.expose().to_owned()),
        SecretKind::ApiKey => store
            .load::<ApiKey>(id)
            .await?
            .map(|s| s.expose().to_owned()),
        _ => store
            .load::<Password>(id)
            .await?
            .map(|s| s.expose().to_owned()),
    })
}
