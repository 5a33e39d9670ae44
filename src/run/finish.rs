//! The end of a run: the closing messages, the plan view of a dry run, and the summary,
//! written.

use super::*;

impl<P: Provider> Run<P> {
    /// The closing messages, the plan view of a dry run, and the summary, written.
    pub(super) fn finish(
        &self,
        ended: Ended,
        shared: &Shared,
        failed_header: &[String],
    ) -> RunResult {
        let settings = &self.settings;
        let name = &self.input_name;
        let counts = &ended.collected.counts;
        if let Some(why) = &ended.changed {
            messages::warn(why);
        }
        // Said once, after every row's own messages.
        let phones = self
            .provider
            .phones()
            .map(|p| p.report(&ended.observed.phones));
        if !settings.dry_run() {
            if let Some(w) = phones.as_ref().and_then(|r| r.national_warning()) {
                messages::warn(format_args!("{name}: {w}"));
            }
            if let Some(w) = phones.as_ref().and_then(|r| r.country_warning()) {
                messages::warn(format_args!("{name}: {w}"));
            }
        }
        if counts.total == 0 && !failed_header.is_empty() {
            messages::warn(format_args!("{name} has no data rows: nothing to import"));
        } else if counts.total == 0 && settings.input.format == Format::Jsonl {
            messages::warn(format_args!("{name} has no records: nothing to import"));
        }
        if settings.dry_run() {
            messages::block(crate::report::dry_run::render(
                name,
                &ended.plan,
                counts,
                settings.batch_size,
            ));
            if let Some(r) = &phones {
                messages::block(crate::report::dry_run::phones(r, settings.mask_pii));
            }
        }
        if let Some(h) = self
            .provider
            .dates()
            .and_then(|d| d.hint(&ended.observed.dates))
        {
            if settings.dry_run() {
                messages::block(format!("Birthdays: {h}\n"));
            } else {
                messages::warn(format_args!("{name}: {h}"));
            }
        }
        let (requests, retries) = ended.counters.as_ref().map_or((0, 0), |c| {
            (
                c.requests.load(Ordering::Relaxed),
                c.retries.load(Ordering::Relaxed),
            )
        });
        let facts = self.facts(requests, retries, ended.blank_lines);
        let (mut summary, mut exit) = Summary::of(facts, counts, &shared.stop);
        if let Some(why) = ended.changed {
            exit = summary.input_changed(exit, why);
        }
        let journaled = ended.collected.journaled;
        if let Some(what) = shared.write_failure.get() {
            exit = summary.write_failed(exit, what, journaled);
        } else if let Err(e) = crate::report::write_summary(&settings.out_dir, &summary) {
            let what = format!("cannot write {}: {e}", ReportFile::Summary);
            exit = summary.write_failed(exit, &what, journaled);
        }
        RunResult {
            stopped: summary.stopped.clone(),
            summary,
            exit,
        }
    }
}
