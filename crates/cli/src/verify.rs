//! `stedi verify`: recompute a run from its inputs and check an audit item by item.

use crate::{input_files, read_landing};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::fs;
use std::path::PathBuf;
use stedi_core::audit::Audit;
use stedi_core::pii::Salt;
use stedi_core::verify::{verify, verify_handed, Check};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The audit.json to check.
    #[arg(value_name = "AUDIT")]
    audit: PathBuf,
    /// The input files, or folders of them, the run is said to have read.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// The salt of a pseudonymized run, to check machine_learning_curated's hash too.
    #[arg(long, value_name = "TEXT")]
    salt: Option<String>,
    /// A folder of output files you were handed (e.g. machine_learning_curated.parquet):
    /// each one the audit lists is hashed and compared with the audit.
    #[arg(long, value_name = "DIR")]
    outputs: Option<PathBuf>,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let text = fs::read_to_string(&args.audit)
        .with_context(|| format!("cannot read {}", args.audit.display()))?;
    let claimed: Audit = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an audit.json written by stedi run",
            args.audit.display()
        )
    })?;
    let landing = read_landing(&input_files(&args.paths)?, crate::default_threads())?;
    let salt = args.salt.as_deref().map(Salt::given);
    let mut checks = verify(&claimed, &landing, salt.as_ref())?.checks;
    if let Some(dir) = &args.outputs {
        let mut handed = Vec::new();
        for output in &claimed.outputs {
            let path = dir.join(&output.name);
            if path.is_file() {
                let bytes =
                    fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                handed.push((output.name.clone(), sha256_hex(&bytes)));
            }
        }
        if handed.is_empty() {
            bail!(
                "{} holds none of the files the audit lists; pass the folder with the outputs",
                dir.display()
            );
        }
        checks.extend(verify_handed(&claimed, &handed));
    }
    print(&checks);
    let bad = checks.iter().filter(|c| !c.ok).count();
    if bad > 0 {
        bail!("{bad} of {} items do not match the audit", checks.len());
    }
    println!(
        "all {} items match: the audit describes this run",
        checks.len()
    );
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    use stedi_core::export::HashingWriter;
    let mut w = HashingWriter::new(std::io::sink());
    let _ = w.write_all(bytes);
    w.finish().0
}

fn print(checks: &[Check]) {
    for c in checks {
        if c.ok {
            println!("ok        {}", c.item);
        } else {
            println!(
                "MISMATCH  {}: the audit says {}, recomputed {}",
                c.item, c.claimed, c.found
            );
        }
    }
}
