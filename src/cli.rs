//! Command-line surface (clap derive types only). Doc comments here are the `--help` text; the
//! engine never sees these types directly, `config` turns them into validated settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::input::Format;
use crate::provider::rules::DateOrder;

const EXIT_CODES: &str = "\
Exit codes:
  0    every row succeeded (dry run: every row valid)
  1    the run completed, and some rows were rejected (unless --rejected-ok),
       failed or unknown
  2    usage, config or input error found before anything was sent
  3    the run stopped early: credentials or signature refused, job/app not found,
       clock skew, --max-failures reached, report directory locked by another run
  130  interrupted by SIGINT (reports written, unsent rows counted as pending)
  143  terminated by SIGTERM (likewise)";

mod values;
use values::{parse_concurrency, parse_date_order, parse_rate, parse_timeout};
pub(crate) use values::{
    Concurrency, Rate, MAX_BACKOFF_MS, MAX_CLOCK_OFFSET_MS, MAX_FIELD_SIZE, MAX_HEADER_ROW,
    MAX_LATENCY_MS, MAX_RETRIES, RATE_PER_SEC, TIMEOUT_SECS,
};

/// Bulk-import customer lists into nxlink and itnio, with a per-row report of every outcome.
#[derive(Debug, Parser)]
#[command(
    name = "custimport",
    version,
    about,
    after_help = EXIT_CODES,
    propagate_version = true,
    args_override_self = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The pages `custimport man` renders: the tool's and each subcommand's.
pub(crate) const PAGES: [&str; 8] = [
    "nxlink",
    "itnio",
    "check",
    "config",
    "sandbox",
    "state",
    "completions",
    "man",
];

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Import customers into nxlink (NXCLOUD customer data platform).
    #[command(after_help = EXIT_CODES)]
    Nxlink(NxlinkArgs),
    /// Import leads into an itnio (itniotech) AI voice calling job.
    #[command(after_help = EXIT_CODES)]
    Itnio(ItnioArgs),
    /// Serve the emulator of both providers on 127.0.0.1 (for trying things out and for tests).
    Sandbox(SandboxArgs),
    /// Print shell completions to standard output.
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of custimport, or of one subcommand, to standard output.
    Man {
        /// The subcommand whose page to print [default: the tool's]
        #[arg(value_name = "SUBCOMMAND", value_parser = PAGES)]
        subcommand: Option<String>,
    },
    /// Check the configuration and credentials without importing anything: one signed request
    /// with an empty customer list; exit 0 when the provider accepts the credentials.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Show the config file in use and its profiles; with a provider, each value an import with
    /// the same options would use, and where it came from (secrets shown as ***).
    Config(ConfigArgs),
    /// Show what the incremental-import state (--skip-unchanged) remembers, per account;
    /// forget an account or a job; print the state's path.
    State(StateArgs),
}

/// `custimport check nxlink|itnio`.
#[derive(Debug, Args, Clone)]
pub(crate) struct CheckArgs {
    #[command(subcommand)]
    pub provider: CheckProvider,
}

#[derive(Debug, Subcommand, Clone)]
pub(crate) enum CheckProvider {
    /// Check the nxlink credentials (access key and secret, tenant, application).
    Nxlink(NxlinkCheckArgs),
    /// Check the itnio credentials (API key and secret, application) and the job.
    Itnio(ItnioCheckArgs),
}

#[derive(Debug, Args, Clone)]
pub(crate) struct NxlinkCheckArgs {
    /// Tenant ID (or `tenant_id` in config, CUSTIMPORT_NXLINK_TENANT_ID)
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,
    /// Application key (or `app_key` in config, CUSTIMPORT_NXLINK_APP_KEY)
    #[arg(long, value_name = "KEY")]
    pub app_key: Option<String>,
    /// Regional host (--base-url wins)
    #[arg(long, value_enum)]
    pub region: Option<NxlinkHost>,
}

impl NxlinkCheckArgs {
    /// The import's arguments these stand for (no input).
    pub(crate) fn as_import(&self) -> NxlinkArgs {
        NxlinkArgs {
            input: PathBuf::new(),
            tenant_id: self.tenant_id.clone(),
            app_key: self.app_key.clone(),
            mode: None,
            strict_binding: false,
            region: self.region,
        }
    }
}

#[derive(Debug, Args, Clone)]
pub(crate) struct ItnioCheckArgs {
    /// Calling job the credentials must reach (or `job` in config)
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub job: Option<u64>,
    /// Application ID (or `app_id` in config, CUSTIMPORT_ITNIO_APP_ID)
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
}

impl ItnioCheckArgs {
    /// The import's arguments these stand for (no input).
    pub(crate) fn as_import(&self) -> ItnioArgs {
        ItnioArgs {
            input: PathBuf::new(),
            job: self.job,
            app_id: self.app_id.clone(),
            call_record_dup: false,
            encrypted_phones: false,
        }
    }
}

/// `custimport config [nxlink|itnio]`.
#[derive(Debug, Args, Clone)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub provider: Option<ConfigProvider>,
}

#[derive(Debug, Subcommand, Clone)]
pub(crate) enum ConfigProvider {
    /// The effective configuration of an nxlink import given these options.
    Nxlink(NxlinkConfigArgs),
    /// The effective configuration of an itnio import given these options.
    Itnio(ItnioConfigArgs),
}

#[derive(Debug, Args, Clone)]
pub(crate) struct NxlinkConfigArgs {
    #[command(flatten)]
    pub account: NxlinkCheckArgs,
    /// What to do with customers nxlink already holds [default: merge]
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Fail only the rows whose seat (belong_seat_user) does not exist, instead of the whole request
    #[arg(long)]
    pub strict_binding: bool,
}

impl NxlinkConfigArgs {
    /// The import's arguments these stand for (no input).
    pub(crate) fn as_import(&self) -> NxlinkArgs {
        NxlinkArgs {
            mode: self.mode,
            strict_binding: self.strict_binding,
            ..self.account.as_import()
        }
    }
}

#[derive(Debug, Args, Clone)]
pub(crate) struct ItnioConfigArgs {
    #[command(flatten)]
    pub account: ItnioCheckArgs,
    /// Also drop numbers already called in this job (body callRecordDup)
    #[arg(long)]
    pub call_record_dup: bool,
    /// phoneNumber holds itnio's encrypted id (also `encrypted_phones` in config)
    #[arg(long)]
    pub encrypted_phones: bool,
}

impl ItnioConfigArgs {
    /// The import's arguments these stand for (no input).
    pub(crate) fn as_import(&self) -> ItnioArgs {
        ItnioArgs {
            call_record_dup: self.call_record_dup,
            encrypted_phones: self.encrypted_phones,
            ..self.account.as_import()
        }
    }
}

/// `custimport state [path | forget ...]`.
#[derive(Debug, Args, Clone)]
pub(crate) struct StateArgs {
    #[command(subcommand)]
    pub action: Option<StateAction>,
}

#[derive(Debug, Subcommand, Clone)]
pub(crate) enum StateAction {
    /// Print the path of the state database (--state, `state` in config, or the default).
    Path,
    /// Forget what a scope (or every scope of an itnio job) remembers: its rows are sent again
    /// by the next --skip-unchanged run. Asks for confirmation on a terminal.
    Forget(ForgetArgs),
}

#[derive(Debug, Args, Clone)]
pub(crate) struct ForgetArgs {
    /// Scope ids, as `custimport state` lists them
    #[arg(value_name = "SCOPE-ID", required_unless_present = "job")]
    pub scopes: Vec<i64>,

    /// Every itnio scope of this job (repeatable)
    #[arg(long, value_name = "N")]
    pub job: Vec<u64>,

    /// Do not ask for confirmation (needed when standard input is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Options common to both providers. They are global: they may come before the provider's
/// name, after it, or after the input.
#[derive(Debug, Args, Clone)]
pub(crate) struct CommonArgs {
    /// TOML config file [default: ./custimport.toml if present, else $XDG_CONFIG_HOME/custimport/config.toml]
    #[arg(short, long, value_name = "PATH", value_hint = ValueHint::FilePath, global = true)]
    pub config: Option<PathBuf>,

    /// Take credentials and options from the config file's [profile.NAME] section (also
    /// CUSTIMPORT_PROFILE); flags and environment variables win over it, it wins over the
    /// provider's section
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,

    /// The options given on the command line, by id (see `config::mark_command_line`): the
    /// config file sets only the others.
    #[arg(skip)]
    pub on_command_line: Vec<String>,

    /// Input format [default: from the file extension]
    #[arg(long, value_enum, global = true)]
    pub format: Option<Format>,

    /// Spreadsheet input: the sheet to read, by name or by 1-based number in tab order (1 is
    /// the first tab, hidden ones counted) [default: the first visible worksheet]
    #[arg(long, value_name = "NAME|N", global = true)]
    pub sheet: Option<String>,

    /// CSV delimiter [default: sniffed from the header line among , ; TAB |]
    #[arg(long, value_name = "CHAR", global = true)]
    pub delimiter: Option<String>,

    /// Input encoding, a WHATWG label (utf-8, gbk, gb18030, big5, shift_jis, windows-1252, ...) [default: utf-8]
    #[arg(long, value_name = "LABEL", global = true)]
    pub encoding: Option<String>,

    /// Largest input field in bytes; a record with a larger one (or over 8 times this in
    /// all, or over 10,000 fields) is rejected instead of read into memory
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..=MAX_FIELD_SIZE), global = true)]
    pub max_field_size: u32,

    /// Map a provider field to an input column (repeatable); wins over automatic matching.
    /// nxlink: customize.KEY=COLUMN fills customize_field; itnio: properties.KEY=COLUMN.
    #[arg(long = "map", value_name = "FIELD=COLUMN", global = true)]
    pub maps: Vec<String>,

    /// Records per request (1..=100) [default: 100]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100), global = true)]
    pub batch_size: Option<u16>,

    /// Requests in flight at once: `auto` adapts between 1 and 64 from the provider's latency and
    /// throttling; N (1..=1024) is a fixed ceiling, lowered only on throttling
    #[arg(long, default_value = "auto", value_name = "auto|N", value_parser = parse_concurrency, global = true)]
    pub concurrency: Concurrency,

    /// At most N requests per second (0.001..=1000000); `auto`: no fixed rate, throttling is
    /// waited out (Retry-After, backoff) [default: auto]
    #[arg(long, value_name = "auto|N", value_parser = parse_rate, global = true)]
    pub rate: Option<Rate>,

    /// Extra attempts for a retryable failure (0..=100)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=MAX_RETRIES), global = true)]
    pub retries: u32,

    /// Per-request timeout in seconds (0.001..=86400)
    #[arg(long, default_value_t = 30.0, value_name = "SECS", value_parser = parse_timeout, global = true)]
    pub timeout: f64,

    /// First retry delay in milliseconds (0..=30000; doubles each attempt, with full jitter, capped at 30 s)
    #[arg(long, default_value_t = 500, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=MAX_BACKOFF_MS), global = true)]
    pub backoff_ms: u64,

    /// Seconds of throttling (HTTP 429, "too frequent") without any batch answered before the
    /// run stops with the rest pending (1..=86400); throttling never uses up --retries
    #[arg(long, default_value_t = 600, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub give_up_after: u64,

    /// Report directory [default: ./custimport-<provider>-<YYYYMMDD-HHMMSS> (UTC)]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath, global = true)]
    pub out: Option<PathBuf>,

    /// With --out DIR: continue the run recorded there, skipping rows that already have a final outcome
    #[arg(long, global = true)]
    pub resume: bool,

    /// Read, map and validate only; write the reports of rejected rows; send nothing
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Send to an in-process emulator of the provider on 127.0.0.1 (no credentials needed)
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// Endpoint origin; the provider's path is appended (also `base_url` in config and
    /// CUSTIMPORT_<PROVIDER>_BASE_URL)
    #[arg(long, value_name = "URL", global = true)]
    pub base_url: Option<String>,

    /// Abort once more than N rows (or P % of rows sent so far) have failed
    #[arg(long, value_name = "N|P%", global = true)]
    pub max_failures: Option<String>,

    /// Do not split a whole-batch refusal to isolate the offending rows
    #[arg(long, global = true)]
    pub no_bisect: bool,

    /// Print the summary as one JSON object on stdout
    #[arg(long, global = true)]
    pub json: bool,

    /// Nothing on stderr when the exit code is 0; otherwise one line: the summary, naming the
    /// report directory (or the error)
    #[arg(short, long, conflicts_with = "verbose", global = true)]
    pub quiet: bool,

    /// More on stderr (-v: batches, -vv: requests); RUST_LOG is honoured
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// No progress bar (also automatic when stderr is not a terminal)
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Mask phone numbers (last 4 digits kept) and e-mail addresses in logs and success.csv
    #[arg(long, global = true)]
    pub mask_pii: bool,

    /// Read phone numbers with this region's numbering plan (ISO 3166-1 alpha-2 or alpha-3: ID,
    /// IDN, CN, PH, ...) and send them as E.164 digits; also `phone_region` in the provider's
    /// config section
    #[arg(long, value_name = "CC", global = true)]
    pub phone_region: Option<String>,

    /// The header is the N-th non-blank line (a spreadsheet: sheet row N); the lines above it
    /// are not records; also `header_row` in the provider's config section [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_HEADER_ROW), global = true)]
    pub header_row: Option<u32>,

    /// How a date written as three numbers is read: ymd (1990-05-17), dmy (17/05/1990) or mdy
    /// (05/17/1990); a four-digit year first is always year-first (nxlink birthdays; also
    /// `date_order` in `[nxlink]` of the config file) [default: ymd]
    #[arg(long, value_name = "ORDER", value_parser = parse_date_order, global = true)]
    pub date_order: Option<DateOrder>,
    /// Send only rows that are new or changed since they last succeeded for this account and
    /// endpoint; remember the rows that succeed (in the --state database)
    #[arg(long, global = true)]
    pub skip_unchanged: bool,

    /// Rows refused by local validation alone do not make the exit code 1 (they are still in
    /// the failure report and counted); also `rejected_ok` in config
    #[arg(long, global = true)]
    pub rejected_ok: bool,

    /// After every run, write its figures here for node_exporter's textfile collector
    /// (Prometheus text format, replaced atomically); also `metrics_file` in config
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, global = true)]
    pub metrics_file: Option<PathBuf>,

    /// The incremental-import state database (also `state` in config) [default:
    /// $XDG_STATE_HOME/custimport/state.db, else ~/.local/state/custimport/state.db]
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, global = true)]
    pub state: Option<PathBuf>,
}

/// How nxlink treats a customer it already holds (body `type`): the provider's own type, read
/// from `--mode` (and the config's `mode`) by its names.
pub(crate) use crate::provider::nxlink::Mode;

impl ValueEnum for Mode {
    fn value_variants<'a>() -> &'a [Self] {
        &Mode::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Mode::Replace => "Drop the old data and use the new (type 0)",
            Mode::Merge => "Update and add on top of the old (type 1)",
            Mode::Keep => "Keep the old data and drop the new (type 2)",
        };
        Some(clap::builder::PossibleValue::new(self.name()).help(help))
    }
}

/// nxlink regional hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NxlinkHost {
    /// Indonesia: https://api-idn.nxlink.ai
    Idn,
    /// Asia-Pacific: https://api-hk.nxlink.ai
    Hk,
    /// Americas: https://chl-api.nxlink.ai
    Chl,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct NxlinkArgs {
    /// Input file (.csv, .tsv, .jsonl, .ndjson, or a spreadsheet: .xlsx, .xlsm, .xlsb, .xls, .ods),
    /// or `-` for standard input (then --format is required; spreadsheets are read from files only).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Tenant ID (or `tenant_id` in config, CUSTIMPORT_NXLINK_TENANT_ID)
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,

    /// Application key (or `app_key` in config, CUSTIMPORT_NXLINK_APP_KEY)
    #[arg(long, value_name = "KEY")]
    pub app_key: Option<String>,

    /// What to do with customers nxlink already holds [default: merge]
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,

    /// Fail only the rows whose seat (belong_seat_user) does not exist, instead of the whole request
    #[arg(long)]
    pub strict_binding: bool,

    /// Regional host (--base-url wins)
    #[arg(long, value_enum)]
    pub region: Option<NxlinkHost>,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct ItnioArgs {
    /// Input file (.csv, .tsv, .jsonl, .ndjson, or a spreadsheet: .xlsx, .xlsm, .xlsb, .xls, .ods),
    /// or `-` for standard input (then --format is required; spreadsheets are read from files only).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Calling job to import into (a JSON integer the provider reads as a signed 64-bit number);
    /// required, except with --resume, which takes the resumed run's
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub job: Option<u64>,

    /// Application ID (or `app_id` in config, CUSTIMPORT_ITNIO_APP_ID)
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,

    /// Also drop numbers already called in this job (body callRecordDup)
    #[arg(long)]
    pub call_record_dup: bool,

    /// phoneNumber holds itnio's encrypted id (at most 32 printable ASCII characters, no
    /// spaces): sent exactly as given, never normalised (also `encrypted_phones` in config)
    #[arg(long)]
    pub encrypted_phones: bool,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 8787)]
    pub port: u16,

    /// Answer every request after this many milliseconds (0..=600000)
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=MAX_LATENCY_MS))]
    pub latency_ms: u64,

    /// Inject faults, e.g. `500=0.1,429=0.05,reset=0.05,garbage=0.05,late=0.05` (probability per request; kinds in the README)
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,

    /// Refuse whole any request holding a customer with this phone, with this code (positive: an nxlink code such as 1002 or 12148; negative: an itnio status such as -27, -35 or -51); repeatable
    #[arg(long, value_name = "PHONE=CODE", allow_hyphen_values = true)]
    pub refuse: Vec<String>,

    /// Size of the answers of the `huge` fault, in MiB [default: 300]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub huge_mb: Option<u64>,

    /// Seed of the fault injection (same seed, same sequence of faults)
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,

    /// Run the sandbox's clock this many milliseconds ahead (negative: behind) of this machine's
    /// (at most a day either way)
    #[arg(
        long,
        default_value_t = 0,
        value_name = "MS",
        allow_hyphen_values = true,
        value_parser = clap::value_parser!(i64).range(-MAX_CLOCK_OFFSET_MS..=MAX_CLOCK_OFFSET_MS)
    )]
    pub clock_offset_ms: i64,

    /// Refuse, per row, nxlink WhatsApp/Viber numbers and itnio all-digit phoneNumbers that are
    /// not valid E.164 digits (country code and number)
    #[arg(long)]
    pub strict_phones: bool,

    /// Hidden limit: answer HTTP 429 past N requests per second (a token bucket of N refilled
    /// at N per second)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit_rps: Option<u32>,

    /// Hidden limit: answer HTTP 429 to a request arriving while N are being served
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit_conc: Option<u32>,

    /// The 429 answers of --limit-rps and --limit-conc carry `Retry-After: SECS` [default: none]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub retry_after: Option<u32>,

    /// Hidden limit: serve at most K requests at once, each for --latency-ms; the others wait
    /// their turn, so latency grows by --latency-ms for every K in flight past the first K
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub queue_latency: Option<u32>,
}
