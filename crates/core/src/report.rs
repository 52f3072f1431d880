//! `report.html`: the audit as a self-contained, printable page for a privacy reviewer.
//! No external resources and no timestamps, so the same run gives the same bytes in the
//! CLI and the browser.

use crate::audit::Audit;
use crate::zones::Zone;
use std::fmt::Write;

/// Escapes text for HTML: file names and reasons come from user data.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A count with thousands separators: `81,273`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1d2433;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}\
h1{color:#0b6e4f}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}\
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d9dee7;vertical-align:top}\
td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.85em;word-break:break-all}\
.note{color:#5b6475}@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}";

/// What each finding means, in a reviewer's words.
pub fn finding_sentences(audit: &Audit) -> [(&'static str, u64, &'static str); 5] {
    let f = &audit.findings;
    [
        ("customers_without_consent", f.customers_without_consent, "customers have not consented to research (their current record has no shareWithResearchAsOfDate); none of their data passes"),
        ("readings_before_consent", f.readings_before_consent, "phone readings of consenting customers were taken before they consented"),
        ("cross_customer_matches", f.cross_customer_matches, "step readings would be joined to another customer's phone by the course's timestamp-only join"),
        ("duplicate_emails", f.duplicate_emails, "emails have more than one customer record; the one with the latest lastUpdateDate is current"),
        ("shared_serials", f.shared_serials, "serial numbers belong to more than one current customer"),
    ]
}

/// Renders the report of a run (after its outputs were written, so their hashes are in).
pub fn render(audit: &Audit) -> String {
    let mut h = String::new();
    let p = &audit.policy;
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Stedi Lakehouse audit report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Stedi Lakehouse audit report</h1>\n\
         <p class=\"note\">Made by stedi-core {}. Every number below is recomputed by \
         <code>stedi verify audit.json INPUTS...</code> from the same inputs.</p>\n",
        esc(&audit.version)
    );
    let _ = write!(
        h,
        "<h2>Policy</h2>\n<table>\n<tr><th>preset</th><td>{}</td></tr>\n\
         <tr><th>consent time</th><td>{}</td></tr>\n<tr><th>ML join</th><td>{}</td></tr>\n\
         <tr><th>PII in machine_learning_curated</th><td>{}</td></tr>\n",
        esc(&p.preset),
        p.knobs.consent_time.as_str(),
        p.knobs.ml_join.as_str(),
        p.knobs.pii.as_str()
    );
    if let Some(salt) = &p.salt {
        let _ = writeln!(
            h,
            "<tr><th>salt</th><td>{} (the salt itself is never written anywhere)</td></tr>",
            esc(salt)
        );
    }
    h.push_str("</table>\n<h2>Inputs</h2>\n<table>\n<tr><th>file</th><th>source</th><th>bytes</th><th>records</th><th>accepted</th><th>quarantined</th><th>SHA-256</th></tr>\n");
    for i in &audit.inputs {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            esc(&i.name),
            i.source.map_or("unknown", |s| s.as_str()),
            thousands(i.bytes),
            thousands(i.records),
            thousands(i.accepted),
            thousands(i.quarantined),
            esc(&i.sha256)
        );
    }
    h.push_str("</table>\n<h2>Zones</h2>\n<table>\n<tr><th>zone</th><th>rows</th></tr>\n");
    for zone in Zone::ALL {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            zone.as_str(),
            thousands(audit.rows(zone))
        );
    }
    h.push_str("</table>\n<h2>Findings</h2>\n<table>\n");
    for (key, value, sentence) in finding_sentences(audit) {
        let _ = writeln!(
            h,
            "<tr><th>{key}</th><td class=\"num\">{}</td><td>{sentence}</td></tr>",
            thousands(value)
        );
    }
    let _ = writeln!(
            h,
            "</table>\n<h2>Quarantine</h2>\n<p>{} record(s) quarantined; each is in quarantine.jsonl with its file, line and reason.</p>\n<table>",
        thousands(audit.quarantine.total)
    );
    for (reason, count) in &audit.quarantine.by_reason {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td>{}</td></tr>",
            thousands(*count),
            esc(reason)
        );
    }
    h.push_str("</table>\n<h2>Outputs</h2>\n<table>\n<tr><th>file</th><th>rows</th><th>bytes</th><th>SHA-256</th></tr>\n");
    for o in &audit.outputs {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            esc(&o.name),
            thousands(o.rows),
            thousands(o.bytes),
            esc(&o.sha256)
        );
    }
    h.push_str("</table>\n</body>\n</html>\n");
    h
}
