//! Source state in SQLite: table `sources` (validators, schedule, health, redirect evidence, rank and
//! stable key) and `raw_bodies` (each source's last body, deflated), behind [`SourceStates`]; and how a
//! configured source is found again after a rename ([`SourceStates::identify_sources`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{bump_content_version, exec, from_ts, sqlite_error, SourceStates, Store, StoreError};
use crate::fetch::Validators;

/// Evidence that a source has moved: the same permanent redirect, seen `count` times since `first_seen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSeen {
    pub target: String,
    pub first_seen: DateTime<Utc>,
    pub count: u32,
}

/// What is remembered about one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceState {
    /// The URL the config named when this state was saved; a different URL now means a fresh start.
    pub configured_url: Option<String>,
    /// A permanent redirect target adopted after consistent evidence; fetched instead of the configured URL.
    pub url_in_use: Option<String>,
    pub validators: Validators,
    /// SHA-256 of the last body parsed; an identical body is not parsed again.
    pub body_hash: Option<Vec<u8>>,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failed fetches in a row.
    pub failures: u32,
    /// Earliest time the source should be fetched again; `None`: any time.
    pub next_fetch: Option<DateTime<Utc>>,
    pub redirect: Option<RedirectSeen>,
    /// RSS `skipHours` (0–23, GMT) and `skipDays` (English day names) from the last parse.
    pub skip_hours: Vec<u8>,
    pub skip_days: Vec<String>,
    pub title: Option<String>,
    pub site_url: Option<String>,
    /// When the source first answered 410 Gone: it is dead, and not fetched again while the config
    /// names the same URL. Cleared by a later success (`run --force` asks again).
    pub gone_since: Option<DateTime<Utc>>,
    /// The source's stable identity ([`SourceStates::identify_sources`]): its name when first seen, kept
    /// through renames and new URLs; the ids derived for its entries start with it.
    pub source_key: Option<String>,
    /// What shaped its stored entries (`pipeline::source::shaping_digest`); `None` before it was read
    /// by a feedmill that recorded it.
    pub config_digest: Option<String>,
    /// A body read this run, to keep as the source's last one; `None` keeps the stored one. Never
    /// loaded by [`SourceStates::sources`]: [`SourceStates::raw_body`] reads it when it is needed.
    pub raw: Option<RawBody>,
}

/// The last body a source was read from, kept deflated (feeds and pages are text, which deflate
/// shrinks several times over, and it is read back only when the source's config changes), so a
/// changed config re-reads the source without asking its server again. At most `max_body_size`
/// before deflating, like any body fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBody {
    pub(super) deflated: Vec<u8>,
    pub content_type: Option<String>,
    /// Where it was read from, after redirects: what its relative links resolve against.
    pub url: Option<String>,
}

impl RawBody {
    pub fn new(bytes: &[u8], content_type: Option<String>, url: Option<String>) -> RawBody {
        use std::io::Write as _;
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing into a Vec cannot fail; were it to, nothing is kept and the source is fetched again.
        let deflated: Vec<u8> = encoder.write_all(bytes).and_then(|()| encoder.finish()).unwrap_or_default();
        RawBody { deflated, content_type, url }
    }

    /// The body's bytes; `None` when what is stored does not inflate (it is then fetched again).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        use std::io::Read as _;
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(self.deflated.as_slice()).read_to_end(&mut out).ok()?;
        (!out.is_empty()).then_some(out)
    }
}

/// A source the config renamed: its state, entries and stories now go by `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

/// A source's URL or path as [`SourceStates::identify_sources`] compares them: canonical for a URL, so a
/// renamed source whose URL gained `www.` or a tracking parameter is still found.
pub(super) fn comparable_location(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => crate::normalize::urls::canonical(&u),
        _ => location.to_owned(),
    }
}

/// A source's health as `index.html` shows it ([`SourceStates::health`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Its last fetch failed.
    pub failing: bool,
    /// The error of its last fetch, while it is failing.
    pub error: Option<String>,
    /// The day (UTC) of its last successful fetch: the page shows the day, so a fetch later the same
    /// day changes nothing it shows.
    pub last_success_day: Option<chrono::NaiveDate>,
}

impl SourceState {
    /// When the source at `configured_url` went dead, if it did; a state saved for another URL says
    /// nothing about this one.
    pub fn dead_since(&self, configured_url: &str) -> Option<DateTime<Utc>> {
        self.gone_since.filter(|_| self.configured_url.as_deref() == Some(configured_url))
    }

    /// When the source is due next: the time its schedule or backoff set, else `default_interval` after
    /// its last fetch. `None`: due whenever asked (never fetched, or no default), or never (dead).
    pub fn next_due(&self, configured_url: &str, default_interval: Option<Duration>) -> Option<DateTime<Utc>> {
        if self.dead_since(configured_url).is_some() {
            return None;
        }
        self.next_fetch.or_else(|| Some(self.last_fetch? + default_interval?))
    }
}

impl SourceStates for Store {
    /// What `index.html` shows of each source's health, by name: failing or not, its error while
    /// failing, the day of its last success. Every run reads it for its build key, so it reads three
    /// columns rather than [`sources`](Self::sources)' nineteen.
    fn health(&self) -> Result<HashMap<String, Health>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, failures > 0, CASE WHEN failures > 0 THEN last_error END, last_success FROM sources",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let day = r.get::<_, Option<i64>>(3)?.map(|t| from_ts(t).date_naive());
                Ok((r.get(0)?, Health { failing: r.get(1)?, error: r.get(2)?, last_success_day: day }))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Every source's remembered state, by name.
    fn sources(&self) -> Result<HashMap<String, SourceState>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, configured_url, url_in_use, etag, last_modified, body_hash, last_fetch, last_success, last_error, failures,
                        next_fetch, redirect_target, redirect_first_seen, redirect_count, skip_hours, skip_days, title, site_url,
                        gone_since, source_key, config_digest
                 FROM sources",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let target: Option<String> = r.get(11)?;
                let redirect = match target {
                    Some(target) => Some(RedirectSeen {
                        target,
                        first_seen: from_ts(r.get::<_, Option<i64>>(12)?.unwrap_or(0)),
                        count: r.get(13)?,
                    }),
                    None => None,
                };
                let list = |s: Option<String>| -> Vec<String> {
                    s.map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
                };
                Ok((
                    r.get::<_, String>(0)?,
                    SourceState {
                        configured_url: r.get(1)?,
                        url_in_use: r.get(2)?,
                        validators: Validators { etag: r.get(3)?, last_modified: r.get(4)? },
                        body_hash: r.get(5)?,
                        last_fetch: r.get::<_, Option<i64>>(6)?.map(from_ts),
                        last_success: r.get::<_, Option<i64>>(7)?.map(from_ts),
                        last_error: r.get(8)?,
                        failures: r.get(9)?,
                        next_fetch: r.get::<_, Option<i64>>(10)?.map(from_ts),
                        redirect,
                        skip_hours: list(r.get(14)?).iter().filter_map(|h| h.parse().ok()).collect(),
                        skip_days: list(r.get(15)?),
                        title: r.get(16)?,
                        site_url: r.get(17)?,
                        gone_since: r.get::<_, Option<i64>>(18)?.map(from_ts),
                        source_key: r.get(19)?,
                        config_digest: r.get(20)?,
                        raw: None,
                    },
                ))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The last body `name` was read from, when one is kept.
    fn raw_body(&self, name: &str) -> Result<Option<RawBody>, StoreError> {
        self.conn
            .query_row("SELECT body, content_type, url FROM raw_bodies WHERE source = ?1", [name], |r| {
                Ok(RawBody { deflated: r.get(0)?, content_type: r.get(1)?, url: r.get(2)? })
            })
            .optional()
            .map_err(self.err())
    }

    /// Finds each configured source (name, URL, in config order) in the state, so a source keeps its
    /// identity — its entries, stories, tombstones, HTTP state and the key its derived ids start
    /// with — when the config renames it or points it elsewhere:
    ///
    /// - a stored source of the same name is that source, whatever its URL now (re-pointed);
    /// - else a stored source no longer in the config whose URL is the same (compared canonical) is
    ///   that source renamed: everything stored under its old name moves to the new one;
    /// - else it is a new source, with its name as its key (`name-2`, … when an earlier source that
    ///   was renamed away still holds that key).
    ///
    /// A source renamed and re-pointed at once is thus a new one. Sources met for the first time are
    /// ranked after the others, in config order ([`first_met_order`](Self::first_met_order)).
    fn identify_sources(&mut self, configured: &[(&str, &str)]) -> Result<Vec<Renamed>, StoreError> {
        let err = |source| sqlite_error(&self.path, self.busy_timeout, source);
        let tx = Store::write_transaction(&mut self.conn).map_err(err)?;
        let renamed = identify_sources(&tx, configured).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(renamed)
    }

    /// `names` in the order their sources were first met (config order for those met in one run),
    /// which stays when the config reorders them: the story merge breaks its ties by it, so a
    /// reorder changes no published copy. Names the state does not know come last, as given.
    fn first_met_order<'a>(&self, names: &[&'a str]) -> Result<Vec<&'a str>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT name, rank FROM sources WHERE rank IS NOT NULL").map_err(self.err())?;
        let ranks: HashMap<String, i64> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        let mut ordered: Vec<(usize, &str)> = names.iter().copied().enumerate().collect();
        ordered.sort_by_key(|(i, name)| (ranks.get(*name).copied().unwrap_or(i64::MAX), *i));
        Ok(ordered.into_iter().map(|(_, name)| name).collect())
    }
}

/// A stored source, as [`plan_identities`] reads it.
pub(super) struct Known {
    pub name: String,
    pub url: String,
    pub key: Option<String>,
    pub ranked: bool,
}

/// What [`SourceStates::identify_sources`] does to a state, decided once for every backend.
pub(super) struct Identities<'a> {
    /// Stored sources the config renamed (found by their URL).
    pub renamed: Vec<Renamed>,
    /// New sources: name, configured URL, and their key (`name`, else `name-2`, … not yet taken).
    pub new: Vec<(&'a str, &'a str, String)>,
    /// The configured sources to rank, in config order, the next ranks to each.
    pub to_rank: Vec<&'a str>,
}

/// The rules of [`SourceStates::identify_sources`]: a configured name the state does not know is a
/// rename of a stored source the config no longer names with the same URL (the first stored), else a
/// new source keyed by its name or the first `name-N` free; sources not ranked yet are ranked in config
/// order. `known` in the order the sources were first stored.
pub(super) fn plan_identities<'a>(known: &[Known], configured: &[(&'a str, &'a str)]) -> Identities<'a> {
    let by_name: HashMap<&str, usize> = known.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
    let in_config: HashSet<&str> = configured.iter().map(|(name, _)| *name).collect();
    // Renamed away: a stored source whose name the config no longer has, found by its URL.
    let mut orphans: HashMap<String, usize> = HashMap::new();
    for (i, row) in known.iter().enumerate().filter(|(_, r)| !in_config.contains(r.name.as_str())) {
        orphans.entry(comparable_location(&row.url)).or_insert(i);
    }
    let mut keys: HashSet<String> = known.iter().filter_map(|r| r.key.clone()).collect();
    // The configured sources still to rank: all of them once, after the migration; then the new ones.
    let mut unranked: HashSet<&str> = configured
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| by_name.get(name).is_none_or(|&i| !known[i].ranked))
        .collect();
    let mut plan = Identities { renamed: Vec::new(), new: Vec::new(), to_rank: Vec::new() };
    for (name, url) in configured.iter().filter(|(name, _)| !by_name.contains_key(name)) {
        if let Some(i) = orphans.remove(&comparable_location(url)) {
            let from = known[i].name.clone();
            tracing::info!(from = %from, to = %name, "source renamed: its entries keep their ids");
            if known[i].ranked {
                unranked.remove(name);
            }
            plan.renamed.push(Renamed { from, to: (*name).to_owned() });
            continue;
        }
        let key = (1..)
            .map(|n| if n == 1 { (*name).to_owned() } else { format!("{name}-{n}") })
            .find(|k| !keys.contains(k))
            .unwrap_or_else(|| (*name).to_owned());
        keys.insert(key.clone());
        plan.new.push((name, url, key));
    }
    plan.to_rank = configured.iter().map(|(name, _)| *name).filter(|name| unranked.contains(name)).collect();
    plan
}

/// [`SourceStates::identify_sources`] inside its transaction: [`plan_identities`], carried out.
fn identify_sources(tx: &Transaction, configured: &[(&str, &str)]) -> rusqlite::Result<Vec<Renamed>> {
    let known: Vec<Known> = tx
        .prepare("SELECT name, configured_url, source_key, rank IS NOT NULL FROM sources ORDER BY rowid")?
        .query_map([], |r| Ok(Known { name: r.get(0)?, url: r.get(1)?, key: r.get(2)?, ranked: r.get(3)? }))?
        .collect::<Result<_, _>>()?;
    let plan = plan_identities(&known, configured);
    for Renamed { from, to } in &plan.renamed {
        rename_source(tx, from, to)?;
    }
    for (name, url, key) in &plan.new {
        exec(
            tx,
            "INSERT INTO sources (name, configured_url, source_key) VALUES (?1, ?2, ?3)",
            params![name, url, key],
        )?;
    }
    let mut next: i64 = tx.query_row("SELECT coalesce(max(rank), -1) + 1 FROM sources", [], |r| r.get(0))?;
    for name in &plan.to_rank {
        if exec(tx, "UPDATE sources SET rank = ?2 WHERE name = ?1 AND rank IS NULL", params![name, next])? > 0 {
            next += 1;
        }
    }
    if !plan.renamed.is_empty() {
        let names = plan.renamed.iter().flat_map(|r| [r.from.as_str(), r.to.as_str()]);
        bump_content_version(tx, names)?;
    }
    Ok(plan.renamed)
}

/// Moves everything stored under the source name `from` to `to`, a name the state does not hold yet:
/// the published ids and first-seen times do not change, only the name the outputs show.
fn rename_source(tx: &Transaction, from: &str, to: &str) -> rusqlite::Result<()> {
    for sql in [
        "UPDATE sources SET name = ?2 WHERE name = ?1",
        "UPDATE entries SET source = ?2, entry = json_set(entry, '$.source', ?2) WHERE source = ?1",
        "UPDATE OR REPLACE tombstones SET source = ?2 WHERE source = ?1",
        "UPDATE raw_bodies SET source = ?2 WHERE source = ?1",
        "UPDATE filtered SET source = ?2 WHERE source = ?1",
        "UPDATE story_members SET source = ?2 WHERE source = ?1",
        "UPDATE story_members SET head_source = ?2 WHERE head_source = ?1",
    ] {
        tx.execute(sql, [from, to])?;
    }
    Ok(())
}
