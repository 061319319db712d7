//! The integration's update set as the file an admin imports: written with the setup's values,
//! or without a setup for a profile and an instance.

use super::SetupError;
use crate::flows::FlowError;
use crate::ids::ConnectionId;
use crate::profiles::Profile;
use crate::wizard::automate::AutomateError;
use crate::wizard::{Event, WizardState, apply};

/// Writes the update set of profile `id` (among `catalog`) for `instance`, its templates filled
/// from `inputs`, to `path`, without a setup; what to tell the admin.
pub fn export_update_set(
    catalog: &crate::profiles::Catalog,
    id: &str,
    instance: &str,
    inputs: Vec<(String, String)>,
    path: &std::path::Path,
) -> Result<String, SetupError> {
    let profile = catalog.get(id)?;
    let instance = crate::instance::InstanceUrl::parse(instance).map_err(FlowError::from)?;
    let draft = ConnectionId::random_with_prefix("c")
        .map_err(crate::connections::ConnectionsError::from)
        .map_err(FlowError::from)?;
    let mut state = WizardState::new(profile, &instance, draft);
    for (id, value) in inputs {
        state = apply(profile, &state, Event::SetInput { id, value })?;
    }
    write_update_set(profile, &state, path)
}

/// Writes `profile`'s update set with `state`'s values to `path`; what to tell the admin.
pub fn write_update_set(
    profile: &Profile,
    state: &WizardState,
    path: &std::path::Path,
) -> Result<String, SetupError> {
    let xml = update_set_xml(profile, state)?;
    let name = profile
        .update_set
        .as_ref()
        .map(crate::profiles::UpdateSetSpec::generated_name)
        .unwrap_or_default();
    write_xml(path, &xml, &name)
}

/// Writes an update set's `xml` (named `name`) to `path`; what to tell the admin.
pub(super) fn write_xml(
    path: &std::path::Path,
    xml: &str,
    name: &str,
) -> Result<String, SetupError> {
    crate::files::atomic_write(path, xml.as_bytes()).map_err(SetupError::Write)?;
    Ok(format!(
        "Wrote the update set for \"{name}\" to {}: in the browser, import it in System Update \
         Sets > Retrieved Update Sets > Import Update Set from XML; then Do it for me previews \
         and commits it (or preview and commit it there), and verify the step.",
        path.display()
    ))
}

/// The update set of `profile` with `state`'s values, dated now: the file an admin imports.
pub fn update_set_xml(profile: &Profile, state: &WizardState) -> Result<String, SetupError> {
    let templates = state.template_context(profile, &crate::oauth::callback_urls());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    crate::updateset::generate(profile, &templates, &date)
        .map_err(|err| AutomateError::UpdateSet(err).into())
}
