//! The `stedi` command: thin shell over stedi-core. Opens files, parses flags, prints, exits.

mod verify;

use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::fs;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stedi_core::audit::{build_and_write_threads, Audit};
use stedi_core::export::Format;
use stedi_core::ingest::{FileBatch, FileReader, Landing};
use stedi_core::pii::Salt;
use stedi_core::{ConsentTime, MlJoin, Pii, Policy, Preset, Zone};

/// Build the STEDI lakehouse zones (landing -> trusted -> curated) from landing JSON,
/// on this machine, with an audit of what every rule let through.
#[derive(Parser, Debug)]
#[command(name = "stedi", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build all eight zones from customer, accelerometer and step-trainer JSON.
    ///
    /// Example: stedi run --preset rubric --out out/ data/
    Run(RunArgs),
    /// Write a synthetic landing set (about SCALE x 11 MB) with the course data's shape.
    ///
    /// Example: stedi gen --scale 1 --out demo/
    Gen(GenArgs),
    /// Write the policy as a PySpark job for AWS Glue or any Spark cluster, with Athena
    /// tables and instructions (stedi_job.py, athena.sql, README.md).
    ///
    /// Example: stedi export-spark --preset rubric --out spark/
    ExportSpark(ExportSparkArgs),
    /// Check an audit.json against the inputs it names: recompute every input hash,
    /// count, finding and output hash, and list each item as ok or MISMATCH. Exits 0
    /// only when everything matches.
    ///
    /// Example: stedi verify out/audit.json data/ --outputs out/
    Verify(verify::VerifyArgs),
}

/// The policy knobs, shared by every command that applies a policy.
#[derive(Args, Debug)]
struct PolicyArgs {
    /// Starting values for the knobs: strict (consent time enforced, device join,
    /// pseudonymized PII) or rubric (the course's rules).
    #[arg(long, value_parser = parse::<Preset>, default_value = "strict")]
    preset: Preset,
    /// enforce: drop readings taken before the owner consented; ignore: keep them.
    #[arg(long, value_parser = parse::<ConsentTime>)]
    consent_time: Option<ConsentTime>,
    /// device: join a step reading only to its owner's phone; timestamp: to any phone at
    /// the same millisecond.
    #[arg(long, value_parser = parse::<MlJoin>)]
    ml_join: Option<MlJoin>,
    /// What to do with emails and serial numbers in machine_learning_curated: keep,
    /// pseudonymize (keyed hash) or drop.
    #[arg(long, value_parser = parse::<Pii>)]
    pii: Option<Pii>,
}

impl PolicyArgs {
    /// The preset's knobs, with the ones given on the command line in their place.
    fn policy(&self) -> Policy {
        let mut policy = Policy::preset(self.preset);
        policy.consent_time = self.consent_time.unwrap_or(policy.consent_time);
        policy.ml_join = self.ml_join.unwrap_or(policy.ml_join);
        policy.pii = self.pii.unwrap_or(policy.pii);
        policy
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// Secret for pseudonyms; give it to reproduce a run byte for byte. Random if not
    /// given. Never written to any output.
    #[arg(long, value_name = "TEXT")]
    salt: Option<String>,
    /// Output format of the zones.
    #[arg(long, value_parser = parse::<Format>, default_value = "jsonl")]
    format: Format,
    /// Folder for the zones, audit.json and quarantine.jsonl (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Threads reading input files (default: the machine's cores). Outputs are the same
    /// bytes whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Input files, or folders searched recursively for .json, .jsonl, .ndjson and .gz.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct ExportSparkArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// Refused: the salt is given to the job when it runs, never written into it.
    #[arg(long, value_name = "TEXT", hide = true)]
    salt: Option<String>,
    /// Folder for stedi_job.py, athena.sql and README.md (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct GenArgs {
    /// Size in units of about 11 MB and 1,000 customers.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    scale: u32,
    /// Seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder to write customer/, accelerometer/ and step_trainer/ landing files into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn parse<T: std::str::FromStr<Err = stedi_core::Error>>(s: &str) -> Result<T, String> {
    s.parse::<T>().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Gen(args) => gen(args),
        Command::ExportSpark(args) => export_spark(args),
        Command::Verify(args) => verify::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

const INPUT_EXTENSIONS: [&str; 4] = ["json", "jsonl", "ndjson", "gz"];

/// The files named by `paths`: files as given, folders walked recursively, sorted.
fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let entries =
            fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read folder {}", dir.display()))?
                .path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| INPUT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).with_context(|| {
            format!("cannot read {}: check that the path exists", path.display())
        })?;
        if meta.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            if files.len() == before {
                eprintln!(
                    "warning: no .json, .jsonl, .ndjson or .gz files in {}",
                    path.display()
                );
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        bail!("no input files found: pass JSON files, or folders that contain them");
    }
    Ok(files)
}

fn read_file(path: &Path) -> Result<FileBatch> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = FileReader::new(name, None);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        reader.feed(&buf[..n]);
    }
    Ok(reader.finish())
}

/// The thread count when none is given: one per core the system offers.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Reads files on `threads` threads, each taking the next file not yet taken, and adds
/// each batch to the landing here while the next ones are read. Files are taken in name
/// order, the landing's own, so each batch goes at its end; the landing does not depend
/// on the threads.
pub(crate) fn read_landing(files: &[PathBuf], threads: usize) -> Result<Landing> {
    let mut files: Vec<&PathBuf> = files.iter().collect();
    files.sort_by(|a, b| (a.file_name(), a).cmp(&(b.file_name(), b)));
    let mut landing = Landing::default();
    let mut failed = None;
    let add = |read: Result<FileBatch>| match read {
        Ok(batch) if failed.is_none() => landing.add(batch),
        Ok(_) => {}
        Err(e) => {
            failed.get_or_insert(e);
        }
    };
    stedi_core::threads::each_in_order(files, threads, |_, path| read_file(path), add);
    if let Some(e) = failed {
        return Err(e);
    }
    landing.settle();
    Ok(landing)
}

fn run(args: RunArgs) -> Result<()> {
    let policy = args.policy.policy();
    let salt = match &args.salt {
        Some(text) => Salt::given(text),
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| anyhow::anyhow!("no random salt available: {e}; pass --salt"))?;
            Salt::random(bytes)
        }
    };

    let files = input_files(&args.paths)?;
    let threads = args.threads.map_or_else(default_threads, usize::from);
    let landing = read_landing(&files, threads)?;
    for input in &landing.inputs {
        for problem in &input.problems {
            eprintln!("warning: {}: {problem}", input.name);
        }
    }

    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    let out = args.out.clone();
    let (_, audit) = build_and_write_threads(
        &landing,
        &policy,
        &salt,
        args.salt.is_some(),
        args.format,
        threads,
        &mut |name| fs::File::create(out.join(name)).map(BufWriter::new),
    )?;
    print_summary(&audit, &args.out);
    Ok(())
}

fn print_summary(audit: &Audit, out: &Path) {
    let p = &audit.policy;
    println!(
        "policy: {} (consent time {}, ML join {}, PII {})",
        p.preset,
        p.knobs.consent_time.as_str(),
        p.knobs.ml_join.as_str(),
        p.knobs.pii.as_str()
    );
    let records: u64 = audit.inputs.iter().map(|i| i.records).sum();
    println!(
        "inputs: {} files, {} records, {} quarantined",
        audit.inputs.len(),
        records,
        audit.quarantine.total
    );
    println!();
    println!("{:<26} {:>10}", "zone", "rows");
    for zone in Zone::ALL {
        println!("{:<26} {:>10}", zone.as_str(), audit.rows(zone));
    }
    println!();
    let f = &audit.findings;
    println!("findings:");
    for (name, n) in [
        ("customers_without_consent", f.customers_without_consent),
        ("readings_before_consent", f.readings_before_consent),
        ("cross_customer_matches", f.cross_customer_matches),
        ("duplicate_emails", f.duplicate_emails),
        ("shared_serials", f.shared_serials),
    ] {
        println!("  {name:<26} {n:>8}");
    }
    if audit.quarantine.total > 0 {
        println!();
        println!("quarantine reasons:");
        for (reason, n) in &audit.quarantine.by_reason {
            println!("  {n:>8}  {reason}");
        }
    }
    println!();
    println!(
        "wrote {} files, audit.json and report.html to {}",
        audit.outputs.len(),
        out.display()
    );
}

fn gen(args: GenArgs) -> Result<()> {
    let mut written = 0u64;
    let mut files = 0;
    stedi_core::gen::generate(args.scale, args.seed, |file| {
        let path = args.out.join(&file.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(&path, &file.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written += file.bytes.len() as u64;
        files += 1;
        Ok::<_, anyhow::Error>(())
    })?;
    println!(
        "wrote {files} files, {:.1} MB, to {}",
        written as f64 / 1e6,
        args.out.display()
    );
    Ok(())
}

fn export_spark(args: ExportSparkArgs) -> Result<()> {
    if args.salt.is_some() {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "export-spark never writes the salt into the job: give it to the job when it \
                 runs (spark-submit stedi_job.py ... --salt TEXT, or the Glue job parameter --salt)",
            )
            .exit();
    }
    let policy = args.policy.policy();
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    let bundle = stedi_core::spark::spark_bundle(&policy);
    for (name, contents) in &bundle {
        let path = args.out.join(name);
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "policy: {} (consent time {}, ML join {}, PII {})",
        policy
            .matching_preset()
            .map_or("custom", |preset| preset.as_str()),
        policy.consent_time.as_str(),
        policy.ml_join.as_str(),
        policy.pii.as_str()
    );
    let names: Vec<&str> = bundle.iter().map(|(name, _)| name.as_str()).collect();
    println!("wrote {} to {}", names.join(", "), args.out.display());
    let job = args.out.join(stedi_core::spark::JOB_FILE);
    println!(
        "run it: spark-submit {} --input LANDING --output ZONES{}",
        job.display(),
        if policy.pii == Pii::Pseudonymize {
            " --salt TEXT"
        } else {
            ""
        }
    );
    println!(
        "(on AWS Glue: the same arguments as job parameters; see {})",
        args.out.join(stedi_core::spark::README_FILE).display()
    );
    Ok(())
}
