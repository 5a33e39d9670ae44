//! The config file: where it is looked for (`--config`, `./custimport.toml`, the XDG
//! config directory), reading it, and warning when others can read it and it holds secrets.

use super::*;

/// The config file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// The incremental-import state database (`--state`).
    pub state: Option<PathBuf>,
    #[serde(default)]
    pub nxlink: NxlinkSection,
    #[serde(default)]
    pub itnio: ItnioSection,
    /// Named settings (`[profile.NAME]`), chosen with `--profile` or `CUSTIMPORT_PROFILE`.
    #[serde(default)]
    pub profile: std::collections::BTreeMap<String, Profile>,
}

/// Find and read the config file: `--config`, else `./custimport.toml`, else
/// `$XDG_CONFIG_HOME/custimport/config.toml` (`~/.config` when unset). Returns warnings to show.
pub(crate) fn load_file(
    explicit: Option<&Path>,
    env: Env<'_>,
) -> Result<(FileConfig, Vec<String>), Fatal> {
    let Some(path) = find_file(explicit, env)?.path else {
        return Ok((FileConfig::default(), vec![]));
    };
    read_file(&path)
}

/// Which config file is in use, and where one was looked for.
#[derive(Debug)]
pub(crate) struct FoundFile {
    /// The file in use, if any.
    pub path: Option<PathBuf>,
    /// The places looked at without `--config` (`./custimport.toml`, then the XDG one).
    pub looked_at: Vec<PathBuf>,
}

/// The config file [`load_file`] reads: `--config` (which must exist), else the first of
/// `./custimport.toml` and `$XDG_CONFIG_HOME/custimport/config.toml` that is a file.
pub(crate) fn find_file(explicit: Option<&Path>, env: Env<'_>) -> Result<FoundFile, Fatal> {
    if let Some(p) = explicit {
        if !p.exists() {
            return Err(Fatal::usage(anyhow!(
                "config file {} does not exist (check -c/--config; see config.example.toml)",
                p.display()
            )));
        }
        return Ok(FoundFile {
            path: Some(p.to_path_buf()),
            looked_at: vec![],
        });
    }
    let local = PathBuf::from("custimport.toml");
    let xdg = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("custimport").join("config.toml"));
    let looked_at: Vec<PathBuf> = std::iter::once(local).chain(xdg).collect();
    let path = looked_at.iter().find(|p| p.is_file()).cloned();
    Ok(FoundFile { path, looked_at })
}

/// Read and parse the config file at `path`.
pub(super) fn read_file(path: &Path) -> Result<(FileConfig, Vec<String>), Fatal> {
    let path = path.to_path_buf();
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))
        .usage()?;
    // toml's own error text quotes the offending line, which may hold a secret.
    let cfg: FileConfig = toml::from_str(&text)
        .map_err(|e| Fatal::usage(anyhow!(file_error::describe(&path, &text, &e))))?;
    let mut warnings = vec![];
    let has_secret = cfg.nxlink.access_secret.is_some()
        || cfg.itnio.api_secret.is_some()
        || cfg
            .profile
            .values()
            .any(|p| p.access_secret.is_some() || p.api_secret.is_some());
    if has_secret && group_or_world_readable(&path) {
        warnings.push(format!(
            "config file {} holds secrets and is readable by other users: run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok((cfg, warnings))
}

#[cfg(unix)]
pub(super) fn group_or_world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
pub(super) fn group_or_world_readable(_path: &Path) -> bool {
    false
}
