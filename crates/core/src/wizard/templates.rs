//! What a profile's placeholders stand for in a setup: the instance, its name, the callback
//! URLs, the connection's name, the update set, and what the admin typed.

use super::WizardState;
use crate::profiles::{Profile, TemplateContext};

impl WizardState {
    /// What the templates of the profile stand for now.
    pub fn template_context(&self, profile: &Profile, callback_urls: &[String]) -> TemplateContext {
        let mut context = TemplateContext::default();
        if let Some(set) = &profile.update_set {
            context.values.insert("update_set".into(), set.name.clone());
        }
        let parsed = crate::instance::InstanceUrl::parse(&self.instance).ok();
        let instance = parsed
            .as_ref()
            .map_or_else(|| self.instance.clone(), ToString::to_string);
        // The instance's name (`acme`), as vendors ask for it; the host for a custom domain.
        let instance_name = parsed
            .as_ref()
            .map(|i| i.instance_name().unwrap_or(i.host()).to_owned())
            .unwrap_or_default();
        for (name, value) in [
            ("instance", instance),
            ("instance_name", instance_name),
            ("callback_urls", callback_urls.join(",")),
            ("connection_name", self.connection_name.clone()),
            ("profile", self.profile.clone()),
        ] {
            context.values.insert(name.into(), value);
        }
        context.inputs = self.inputs.clone();
        context
    }
}
