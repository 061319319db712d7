//! The profiles Snowlink knows: the built-in ones (embedded in the binary) and an admin's own in
//! the config folder's `profiles/`, each read as Snowlink reads every file and validated. One
//! bad file costs only itself: it is kept as a problem that names the file, the field and the
//! fix, and asking for the profile it seems to hold says why it is not there.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::validate::{self, ProfileError};
use super::{CheckParams, Profile};

/// The built-in profiles: (file name, text).
const BUILT_IN: [(&str, &str); 4] = [
    (
        "data-access-governance.toml",
        include_str!("../../profiles/data-access-governance.toml"),
    ),
    (
        "incident-sync.toml",
        include_str!("../../profiles/incident-sync.toml"),
    ),
    (
        "pipeline-approvals.toml",
        include_str!("../../profiles/pipeline-approvals.toml"),
    ),
    (
        "security-audit.toml",
        include_str!("../../profiles/security-audit.toml"),
    ),
];

/// Largest profile file read.
const MAX_PROFILE_BYTES: u64 = 256 * 1024;

/// A loaded profile and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub profile: Profile,
    /// `built-in` or the file's path.
    pub origin: String,
}

/// Every profile that loads, and what is wrong with each file that does not: one bad file
/// costs only itself.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    loaded: Vec<Loaded>,
    problems: Vec<ProfileError>,
}

/// Why a profile id finds no profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("There is no integration profile \"{0}\".")]
    Unknown(String),
    #[error("The integration profile \"{id}\" could not be read: {problem}")]
    Unreadable { id: String, problem: ProfileError },
}

impl LookupError {
    pub fn hint(&self) -> String {
        match self {
            Self::Unknown(_) => "Pick one of the listed integration profiles.".into(),
            Self::Unreadable { problem, .. } => problem.hint(),
        }
    }

    pub fn view(&self) -> crate::errors::ErrorView {
        let code = match self {
            Self::Unknown(_) => crate::errors::ErrorCode::NotFound,
            Self::Unreadable { .. } => crate::errors::ErrorCode::ConfigError,
        };
        crate::errors::ErrorView::new(code, self.to_string(), self.hint())
    }
}

impl Catalog {
    /// The built-in profiles, then the config folder's (whose ids must be new). Reading goes
    /// on past a bad file, which is kept as a problem.
    pub fn load(folder: Option<&Path>) -> Self {
        let mut catalog = Self::default();
        for (name, text) in BUILT_IN {
            match validate::parse(name, text) {
                Ok(profile) => catalog.loaded.push(Loaded {
                    profile,
                    origin: "built-in".into(),
                }),
                Err(problem) => catalog.problems.push(problem),
            }
        }
        let Some(folder) = folder else {
            return catalog;
        };
        let mut files: Vec<PathBuf> = match std::fs::read_dir(folder) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        for path in files {
            match catalog.read_file(&path) {
                Ok(loaded) => catalog.loaded.push(loaded),
                Err(problem) => catalog.problems.push(problem),
            }
        }
        catalog
    }

    /// The profiles beside the connections file `config_file` (its folder's `profiles/`).
    pub fn beside(config_file: &Path) -> Self {
        Self::load(Some(&folder(config_file)))
    }

    fn read_file(&self, path: &Path) -> Result<Loaded, ProfileError> {
        let shown = path.display().to_string();
        let bytes = crate::files::read_capped(path, MAX_PROFILE_BYTES)
            .map_err(|failure| ProfileError::read(&shown, &failure))?
            .ok_or_else(|| ProfileError::invalid(&shown, "", "it was removed while being read"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ProfileError::invalid(&shown, "", "it is not UTF-8 text"))?;
        let profile = validate::parse(&shown, &text).map_err(|problem| {
            problem.claiming(validate::claimed_id(&text).or_else(|| {
                path.file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
            }))
        })?;
        if self.loaded.iter().any(|l| l.profile.id == profile.id) {
            return Err(ProfileError::invalid(
                &shown,
                "id",
                &format!("\"{}\" is already the id of another profile", profile.id),
            ));
        }
        Ok(Loaded {
            profile,
            origin: shown,
        })
    }

    pub fn loaded(&self) -> &[Loaded] {
        &self.loaded
    }

    /// The profiles, in the order they were read.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.loaded.iter().map(|l| &l.profile)
    }

    /// The files that could not be used, each with the field and the fix.
    pub fn problems(&self) -> &[ProfileError] {
        &self.problems
    }

    /// The profile `id`; a file that seems to be it but could not be read says why.
    pub fn get(&self, id: &str) -> Result<&Profile, LookupError> {
        if let Some(profile) = self.profiles().find(|p| p.id == id) {
            return Ok(profile);
        }
        match self
            .problems
            .iter()
            .find(|p| p.claims.as_deref() == Some(id))
        {
            Some(problem) => Err(LookupError::Unreadable {
                id: crate::text::untrusted(id, 64),
                problem: problem.clone(),
            }),
            None => Err(LookupError::Unknown(crate::text::untrusted(id, 64))),
        }
    }

    /// What a diagnosis of a connection made from profile `id` expects: nothing in particular
    /// for a connection made by hand (`custom`); why not, when its profile cannot be read.
    pub fn check_params(&self, id: &str) -> Result<CheckParams, LookupError> {
        if id == CUSTOM {
            return Ok(CheckParams::default());
        }
        self.get(id).map(Profile::check_params)
    }

    /// The picker's list: every profile and every file that could not be read.
    pub fn list(&self) -> ProfileList {
        ProfileList {
            profiles: self.loaded.iter().map(ProfileSummary::of).collect(),
            problems: self.problems.iter().map(ProfileProblem::of).collect(),
        }
    }
}

/// The profile id of a connection set up by hand, with no integration profile.
pub const CUSTOM: &str = "custom";

/// The config folder's `profiles/`.
pub fn folder(config_file: &Path) -> PathBuf {
    config_file
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("profiles")
}

/// A profile as a picker lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ProfileSummary {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub summary: String,
    #[ts(type = "string")]
    pub grant: crate::grants::GrantKind,
    pub grant_label: String,
    pub steps: usize,
    /// Steps Snowlink can do for the admin.
    pub automated_steps: usize,
    /// What the vendor's own guide has the admin click and type.
    pub vendor_actions: u32,
    pub source: String,
    /// `built-in` or the file it was read from.
    pub origin: String,
}

impl ProfileSummary {
    pub fn of(loaded: &Loaded) -> Self {
        let p = &loaded.profile;
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            vendor: p.vendor.clone(),
            summary: p.summary.clone(),
            grant: p.grant,
            grant_label: p.grant.label().to_owned(),
            steps: p.steps.len(),
            automated_steps: p.steps.iter().filter(|s| s.automation).count(),
            vendor_actions: p.vendor_actions,
            source: p.source.clone(),
            origin: loaded.origin.clone(),
        }
    }
}

/// The picker's list: the profiles, and the files that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ProfileList {
    pub profiles: Vec<ProfileSummary>,
    pub problems: Vec<ProfileProblem>,
}

/// A profile file that could not be read: which file, where in it, what is wrong, the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ProfileProblem {
    pub file: String,
    pub field: String,
    pub problem: String,
    pub message: String,
    pub hint: String,
}

impl ProfileProblem {
    pub fn of(error: &ProfileError) -> Self {
        Self {
            file: error.file.clone(),
            field: error.field.clone(),
            problem: error.problem.clone(),
            message: error.to_string(),
            hint: error.hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::StepKind;

    #[test]
    fn the_built_in_profiles_load_and_differ() {
        let catalog = Catalog::load(None);
        assert_eq!(catalog.problems(), &[]);
        let all = catalog.loaded();
        let ids: Vec<&str> = all.iter().map(|l| l.profile.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "data-access-governance",
                "incident-sync",
                "pipeline-approvals",
                "security-audit"
            ]
        );
        for loaded in all {
            assert!(loaded.profile.steps.len() >= 3, "{}", loaded.profile.id);
            assert!(
                loaded
                    .profile
                    .steps
                    .iter()
                    .any(|s| s.kind == StepKind::Connect),
                "{} ends with a connect step",
                loaded.profile.id
            );
        }
    }

    #[test]
    fn a_folder_profile_is_added_and_a_clash_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mine = BUILT_IN[1]
            .1
            .replace("id = \"incident-sync\"", "id = \"my-sync\"");
        std::fs::write(dir.path().join("mine.toml"), &mine).unwrap();
        let catalog = Catalog::load(Some(dir.path()));
        let added = catalog
            .loaded()
            .iter()
            .find(|l| l.profile.id == "my-sync")
            .unwrap();
        assert!(added.origin.ends_with("mine.toml"));
        std::fs::write(dir.path().join("twin.toml"), BUILT_IN[1].1).unwrap();
        let catalog = Catalog::load(Some(dir.path()));
        let err = &catalog.problems()[0];
        assert!(err.to_string().contains("twin.toml"), "{err}");
        assert!(err.to_string().contains("id"), "{err}");
        assert!(
            catalog.get("incident-sync").is_ok(),
            "the built-in one stays"
        );
    }

    #[test]
    fn one_bad_file_costs_only_itself_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("aa.toml"), "id = \"broken\"\nname = \n").unwrap();
        let mine = BUILT_IN[1]
            .1
            .replace("id = \"incident-sync\"", "id = \"my-sync\"");
        std::fs::write(dir.path().join("zz.toml"), &mine).unwrap();
        let catalog = Catalog::load(Some(dir.path()));
        assert_eq!(catalog.profiles().count(), 5, "four built in and zz.toml");
        assert_eq!(catalog.problems().len(), 1);
        let problem = &catalog.problems()[0];
        assert!(problem.file.ends_with("aa.toml"), "{problem}");
        assert!(problem.to_string().contains("line 2"), "{problem}");
        let err = catalog.get("broken").unwrap_err();
        assert!(
            matches!(err, LookupError::Unreadable { .. }),
            "a bad file is named, not called missing: {err}"
        );
        assert!(err.to_string().contains("aa.toml"), "{err}");
        assert!(matches!(
            catalog.get("nothing-like-it"),
            Err(LookupError::Unknown(_))
        ));
        assert!(catalog.check_params("broken").is_err());
        assert_eq!(catalog.check_params(CUSTOM), Ok(CheckParams::default()));
        let list = catalog.list();
        assert_eq!(list.profiles.len(), 5);
        assert!(
            list.problems[0].hint.contains("Fix the field"),
            "{:?}",
            list.problems
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_profile_that_is_not_a_file_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.toml")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe.toml"))
            .status()
            .unwrap();
        assert!(made.success());
        let catalog = Catalog::load(Some(dir.path()));
        assert_eq!(catalog.profiles().count(), 4);
        let said: Vec<String> = catalog.problems().iter().map(|p| p.to_string()).collect();
        assert!(
            said.iter()
                .any(|p| p.contains("pipe.toml") && p.contains("named pipe")),
            "{said:?}"
        );
        assert!(
            said.iter()
                .any(|p| p.contains("zero.toml") && p.contains("device")),
            "{said:?}"
        );
    }
}
