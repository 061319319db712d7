//! Why an event cannot happen to a setup now, and what to do instead.

/// Why an event cannot happen now; the message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WizardError {
    #[error("There is no step \"{0}\" in this setup.")]
    UnknownStep(String),
    #[error("\"{step}\" needs \"{needs}\" done first.")]
    Locked { step: String, needs: String },
    #[error("{0} is required before this step can be verified.")]
    MissingInput(String),
    #[error("\"{0}\" must be done; it cannot be skipped.")]
    Mandatory(String),
    #[error("There is no input \"{0}\" in this setup.")]
    UnknownInput(String),
    #[error("\"{0}\" is secret: it goes to the keyring, never into the setup's state.")]
    SecretInState(String),
    #[error("This is the {0} step already.")]
    NoMove(&'static str),
    #[error("The step is being verified; wait for the answer.")]
    Busy,
    #[error(transparent)]
    Instance(#[from] crate::instance::InstanceUrlError),
    #[error("This step is verified against the instance, not acknowledged.")]
    NotInfo,
}

impl WizardError {
    pub fn view(&self) -> crate::errors::ErrorView {
        let view = crate::errors::ErrorView::new(
            crate::errors::ErrorCode::InvalidInput,
            self.to_string(),
            self.hint(),
        );
        match self {
            Self::Instance(_) => view.field(crate::errors::InputField::Instance),
            _ => view,
        }
    }

    pub fn hint(&self) -> String {
        match self {
            Self::Locked { needs, .. } => {
                format!("Finish \"{needs}\" first, or skip it if it may be skipped.")
            }
            Self::MissingInput(_) => "Fill it in on this step, then verify again.".into(),
            Self::Mandatory(_) => "Do it and verify it; the setup cannot work without it.".into(),
            Self::Instance(err) => err.hint(),
            _ => "Go on from the step the wizard shows.".into(),
        }
    }
}
