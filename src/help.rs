//! The help and the manual: which options each subcommand shows, and the pages of `custimport
//! man [SUBCOMMAND]` (clap_mangen's options and exit codes, plus environment and examples).
//!
//! The import options are global (they may come before the provider's name), so clap would
//! list them under every subcommand; the commands that are not imports hide those they do not
//! read, so `custimport sandbox --help` shows the sandbox's own options only.

use clap::{Arg, Command, CommandFactory};

use crate::cli::{Cli, PAGES};
use crate::exit::Fatal;

/// The subcommands that are not imports, and the global options each of them reads.
const OWN_OPTIONS: [(&str, &[&str]); 5] = [
    ("sandbox", &[]),
    ("man", &[]),
    ("completions", &[]),
    ("state", &["config", "profile", "state", "json"]),
    (
        "check",
        &["config", "profile", "sandbox", "base_url", "timeout"],
    ),
];

/// The command line, built, with each non-import subcommand showing only its own options.
pub(crate) fn command() -> Command {
    let mut cmd = Cli::command();
    cmd.build();
    for (name, keep) in OWN_OPTIONS {
        cmd = cmd.mut_subcommand(name, |sc| hide_globals(sc, keep));
    }
    cmd
}

/// Hide the global options but `keep`, in `sc` and its own subcommands.
fn hide_globals(sc: Command, keep: &[&str]) -> Command {
    let hide = |a: Arg| {
        if a.is_global_set() && !keep.contains(&a.get_id().as_str()) {
            a.hide(true)
        } else {
            a
        }
    };
    sc.mut_args(hide)
        .mut_subcommands(|inner| hide_globals(inner, keep))
}

/// The roff page of the tool (`None`) or of one subcommand.
pub(crate) fn man_page(cmd: &Command, page: Option<&str>) -> Result<Vec<u8>, Fatal> {
    let page_cmd = match page {
        None => cmd.clone(),
        Some(name) => cmd.find_subcommand(name).cloned().ok_or_else(|| {
            Fatal::usage(anyhow::anyhow!(
                "no manual page {name:?}; pages: {}",
                PAGES.join(", ")
            ))
        })?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page_cmd)
        .render(&mut out)
        .map_err(|e| Fatal::usage(anyhow::anyhow!("cannot render the man page: {e}")))?;
    let imports = matches!(page, None | Some("nxlink" | "itnio" | "check" | "config"));
    if imports {
        out.extend_from_slice(ENVIRONMENT.as_bytes());
    }
    out.extend_from_slice(examples(page).as_bytes());
    Ok(out)
}

/// ENVIRONMENT, for the tool's page and the providers' pages.
const ENVIRONMENT: &str = r#".SH ENVIRONMENT
Credentials come from these variables, else from the config file (sections [nxlink] and [itnio]); secrets are never accepted as options.
.TP
\fBCUSTIMPORT_NXLINK_ACCESS_KEY\fR, \fBCUSTIMPORT_NXLINK_ACCESS_SECRET\fR, \fBCUSTIMPORT_NXLINK_TENANT_ID\fR, \fBCUSTIMPORT_NXLINK_APP_KEY\fR
nxlink's account (config keys access_key, access_secret, tenant_id, app_key).
.TP
\fBCUSTIMPORT_ITNIO_API_KEY\fR, \fBCUSTIMPORT_ITNIO_API_SECRET\fR, \fBCUSTIMPORT_ITNIO_APP_ID\fR
itnio's account (config keys api_key, api_secret, app_id).
.TP
\fBCUSTIMPORT_NXLINK_BASE_URL\fR, \fBCUSTIMPORT_ITNIO_BASE_URL\fR
The endpoint origin (\-\-base\-url wins; config key base_url).
.TP
\fBXDG_CONFIG_HOME\fR
The config file is ./custimport.toml, else $XDG_CONFIG_HOME/custimport/config.toml (~/.config when unset), unless \-c gives one.
.TP
\fBXDG_STATE_HOME\fR
Where \-\-skip\-unchanged keeps its state: $XDG_STATE_HOME/custimport/state.db (~/.local/state when unset).
.TP
\fBRUST_LOG\fR
Overrides the log filter that \-v sets.
"#;

/// EXAMPLES for a page.
fn examples(page: Option<&str>) -> String {
    let lines: &[(&str, &str)] = match page {
        Some("itnio") => &[
            ("Import leads into job 42 of the built-in emulator:", "custimport itnio \\-\\-sandbox \\-\\-job 42 fixtures/leads.csv"),
            ("Check the mapping and the rows without sending:", "custimport itnio \\-\\-job 42 \\-\\-dry\\-run leads.csv"),
        ],
        Some("sandbox") => &[
            ("Serve the emulator, then point an import at it:", "custimport sandbox \\-\\-port 8787"),
            ("With latency and faults:", "custimport sandbox \\-\\-latency\\-ms 50 \\-\\-faults 500=0.1,429=0.05"),
        ],
        Some("state") => &[
            ("What \\-\\-skip\\-unchanged remembers:", "custimport state"),
            ("Send every row of itnio job 42 again next time:", "custimport state forget \\-\\-job 42 \\-y"),
        ],
        Some("check") => &[
            ("Check the nxlink credentials before the first import:", "custimport check nxlink"),
            ("Check the itnio credentials and job 42 against the built-in emulator:", "custimport check itnio \\-\\-sandbox \\-\\-job 42"),
        ],
        Some("config") => &[
            ("The config file in use and its profiles:", "custimport config"),
            ("What the nightly profile's nxlink import uses, and where each value comes from:", "custimport \\-\\-profile nightly config nxlink"),
            ("The same with a flag over it, as JSON:", "custimport config nxlink \\-\\-profile nightly \\-\\-concurrency 8 \\-\\-json"),
        ],
        Some("completions") => &[("Bash completions:", "custimport completions bash > ~/.local/share/bash\\-completion/completions/custimport")],
        Some("man") => &[("The page of the nxlink import:", "custimport man nxlink | man \\-l \\-")],
        _ => &[
            ("Try it against the built-in emulator:", "custimport nxlink \\-\\-sandbox fixtures/customers.csv"),
            ("Check the mapping and the rows without sending:", "custimport nxlink \\-\\-dry\\-run customers.csv"),
            ("Continue a run that stopped:", "custimport nxlink \\-\\-resume \\-\\-out custimport\\-nxlink\\-20250101\\-020000 customers.csv"),
            ("Nightly from cron, silent unless something needs a look, with metrics for node_exporter:", "custimport \\-q nxlink \\-\\-skip\\-unchanged \\-\\-rejected\\-ok \\-\\-metrics\\-file /var/lib/node_exporter/textfile/custimport.prom export.csv"),
        ],
    };
    let mut s = String::from(".SH EXAMPLES\n");
    for (what, cmd) in lines {
        s.push_str(&format!(".TP\n{what}\n\\fB{cmd}\\fR\n"));
    }
    s
}

#[cfg(test)]
mod tests;
