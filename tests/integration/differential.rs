//! Differential test against Python's feedparser (issue #18): does a reader of feedmill's outputs see
//! what the source published?
//!
//! Each fixture feed in `tests/fixtures/feeds/` is served from 127.0.0.1 and run through the real binary
//! alone (a config with that one feed as its source), then `tests/differential/feedparser_compare.py`
//! reads the fixture and the three outputs of `all`: feedparser reads the fixture and feedmill's
//! `rss.xml` and `atom.xml` (the same reader on both sides, so its own quirks cancel out), and JSON
//! Feeds are read by the spec with Python's `json` (feedparser does not read them). The script only reads; this module matches the
//! entries (by link, then title, body text, id, first enclosure and picture), compares the fields, and judges.
//!
//! Every difference must be listed, with its reason, in the "Known differences" table of
//! `tests/fixtures/README.md` (which also gives the comparison rules); one that is not fails the test,
//! and a row that matches nothing any more is reported so the table stays true. The per-field figures
//! and every difference are printed and kept in `$CARGO_TARGET_TMPDIR/differential/report.md`.
//!
//! Without Python or feedparser the test is skipped with a message, unless
//! `FEEDMILL_REQUIRE_FEEDPARSER=1` (set by `.ci/run`, which installs the pinned feedparser) makes
//! their absence a failure. `FEEDMILL_PYTHON` names another interpreter than `python3`.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::json;

use crate::test_server::{Reply, TestServer};
use crate::util::{config, source, Project};

/// The source's name in every temporary config: Atom names it as the author of an entry without one.
const SOURCE: &str = "fixture";
const OUTPUTS: [&str; 3] = ["rss", "atom", "json"];
const FIELDS: [&str; 9] =
    ["title", "link", "published", "updated", "authors", "categories", "enclosures", "body", "body_links"];

#[derive(Deserialize, Debug, Clone, PartialEq)]
struct Enclosure {
    url: String,
    #[serde(rename = "type")]
    mime: Option<String>,
    length: Option<u64>,
}

/// One entry as the script reports it: visible text, UTC instants, sorted lists.
#[derive(Deserialize, Debug, Clone, Default)]
struct Entry {
    id: Option<String>,
    link: Option<String>,
    title: Option<String>,
    published: Option<String>,
    updated: Option<String>,
    authors: Vec<String>,
    categories: Vec<String>,
    enclosures: Vec<Enclosure>,
    body: Option<String>,
    body_links: Vec<String>,
    /// The entry's picture (`media:thumbnail`, JSON `image`): only to match an entry with nothing else.
    #[serde(default)]
    image: Option<String>,
}

#[derive(Deserialize)]
struct Document {
    bozo: Option<String>,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Readout {
    feedparser: String,
    documents: Vec<Document>,
}

/// One field of one entry that a reader sees differently in a feedmill output than in the source.
#[derive(Debug, Clone)]
struct Difference {
    file: String,
    /// `#3`: the third entry of the fixture as feedparser reads it; `+2`: the second entry of the
    /// output, which matched none of the fixture's.
    entry: String,
    output: &'static str,
    field: &'static str,
    expected: String,
    got: String,
}

/// A row of the known-differences table; each cell is a list of values, `*` matching any.
struct Known {
    line: usize,
    cells: [Vec<String>; 4],
    reason: String,
}

impl Known {
    fn matches(&self, d: &Difference) -> bool {
        let keys = [d.file.as_str(), d.entry.as_str(), d.output, d.field];
        self.cells.iter().zip(keys).all(|(cell, key)| cell.iter().any(|c| c == "*" || c == key))
    }
}

/// Agreement counts: (field, output) → (agreeing, compared).
type Tally = BTreeMap<(&'static str, &'static str), (usize, usize)>;

#[test]
fn outputs_agree_with_feedparser_on_every_fixture() {
    let Some(python) = python_with_feedparser() else { return };
    let fixtures = fixture_feeds();
    assert!(fixtures.len() >= 20, "the corpus lost files: {fixtures:?}");

    // Served over HTTP, so relative URLs resolve against the same document URL on both sides
    // (feedparser is told it as the Content-Location).
    let server = TestServer::start();
    let mut notes = Vec::new();
    // Kept until the script has read their outputs.
    let (_projects, documents) = run_each(&server, &fixtures, &mut notes);
    let readout = read_with_python(&python, &documents);
    assert_eq!(readout.documents.len(), fixtures.len() * 4);

    let mut tally = Tally::new();
    let mut differences = Vec::new();
    let mut count_agrees = [0usize; 3];
    let mut files_losing_entries = 0;
    for (fixture, docs) in fixtures.iter().zip(readout.documents.chunks(4)) {
        let file = file_name(fixture);
        if let Some(bozo) = &docs[0].bozo {
            notes.push(format!("{file}: feedparser: {bozo}"));
        }
        let mut loses = false;
        for (i, output) in OUTPUTS.into_iter().enumerate() {
            let found = compare(&file, &docs[0].entries, &docs[i + 1].entries, output, &mut tally);
            loses |= found.iter().any(|d| d.field == "entry" && d.entry.starts_with('#'));
            if docs[0].entries.len() == docs[i + 1].entries.len() {
                count_agrees[i] += 1;
            }
            differences.extend(found);
        }
        files_losing_entries += usize::from(loses);
    }

    let table = fs::read_to_string(readme()).unwrap();
    let known = known_differences(&table);
    let unexplained: Vec<&Difference> = differences.iter().filter(|d| !known.iter().any(|k| k.matches(d))).collect();
    let stale: Vec<&Known> = known.iter().filter(|k| !differences.iter().any(|d| k.matches(d))).collect();

    let mut report = format!(
        "# feedmill against feedparser {}: {} fixture feeds, {} differences, {} not explained\n\n",
        readout.feedparser,
        fixtures.len(),
        differences.len(),
        unexplained.len()
    );
    let _ = writeln!(
        report,
        "entry counts agree (files): rss {}/{n}, atom {}/{n}, json {}/{n}",
        count_agrees[0],
        count_agrees[1],
        count_agrees[2],
        n = fixtures.len()
    );
    let _ = writeln!(report, "files where an output loses an entry: {files_losing_entries}/{}", fixtures.len());
    let mut kinds = BTreeMap::<&str, usize>::new();
    for d in &differences {
        let reason = known.iter().find(|k| k.matches(d)).map_or("NEW", |k| k.reason.as_str());
        *kinds.entry(reason.split(':').next().unwrap_or(reason)).or_default() += 1;
    }
    let _ = writeln!(report, "differences by kind of reason: {kinds:?}");
    report.push_str(&figures(&tally));
    report.push_str("\n## Differences (file | entry | output | field | feedparser | feedmill)\n\n");
    for d in &differences {
        let reason = known.iter().find(|k| k.matches(d)).map_or("NEW", |k| k.reason.as_str());
        let _ = writeln!(
            report,
            "{} | {} | {} | {} | {} | {}  [{reason}]",
            d.file, d.entry, d.output, d.field, d.expected, d.got
        );
    }
    if !notes.is_empty() {
        report.push_str("\n## Notes\n\n");
        for n in &notes {
            let _ = writeln!(report, "{n}");
        }
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("report.md"), &report).unwrap();
    println!("{report}");
    for k in &stale {
        eprintln!(
            "warning: tests/fixtures/README.md line {}: known difference no longer occurs ({}); remove the row",
            k.line, k.reason
        );
    }
    if !unexplained.is_empty() {
        let mut rows = String::new();
        for d in &unexplained {
            let _ = writeln!(
                rows,
                "{} | {} | {} | {} | {} | {}\n  row: | {} | {} | {} | {} | REASON |",
                d.file, d.entry, d.output, d.field, d.expected, d.got, d.file, d.entry, d.output, d.field
            );
        }
        panic!(
            "{} difference(s) from feedparser not explained in tests/fixtures/README.md \
             (file | entry | output | field | feedparser | feedmill):\n{rows}",
            unexplained.len()
        );
    }
}

/// Runs feedmill on each fixture alone (one project each, so each output holds exactly that
/// fixture's entries) and lists the documents for the script: per fixture, the fixture itself then
/// the `all` feed's RSS, Atom and JSON Feed. A failed run is noted in `notes`.
fn run_each(server: &TestServer, fixtures: &[PathBuf], notes: &mut Vec<String>) -> (Vec<Project>, serde_json::Value) {
    let mut projects = Vec::new();
    let mut documents = Vec::new();
    for fixture in fixtures {
        let json = fixture.extension().is_some_and(|e| e == "json");
        let path = format!("/feeds/{}", file_name(fixture));
        let ctype = if json { "application/feed+json" } else { "application/xml" };
        server.route(&path, vec![Reply::ok_as(ctype, fs::read(fixture).unwrap())]);
        let url = server.url(&path);
        let p = Project::new(&config(&source(SOURCE, &url)));
        let run = p.run();
        assert!(run.code <= 1, "{}: exit {}\n{}", fixture.display(), run.code, run.stderr);
        if run.code != 0 {
            let why = run.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("failed");
            notes.push(format!("{}: feedmill run: {why}", file_name(fixture)));
        }
        let kind = if json { "json" } else { "feed" };
        documents.push(json!({"path": fixture, "kind": kind, "url": url, "content_type": ctype}));
        for (file, kind) in [("rss.xml", "feed"), ("atom.xml", "feed"), ("feed.json", "json")] {
            let path = p.path("output/all").join(file);
            // A failed source leaves no output: a reader sees no entries.
            let kind = if path.exists() { kind } else { "missing" };
            documents.push(json!({"path": path, "kind": kind}));
        }
        projects.push(p);
    }
    (projects, serde_json::Value::Array(documents))
}

/// Compares one output's entries with the fixture's, counting agreement per field into `tally`.
fn compare(file: &str, input: &[Entry], output: &[Entry], out: &'static str, tally: &mut Tally) -> Vec<Difference> {
    let pairs = match_entries(input, output);
    let mut found = Vec::new();
    let mut diff = |entry: String, field: &'static str, expected: String, got: String| {
        found.push(Difference { file: file.to_owned(), entry, output: out, field, expected, got });
    };
    let mut used = vec![false; output.len()];
    let entries = tally.entry(("entry", out)).or_default();
    entries.0 += pairs.iter().flatten().count();
    entries.1 += pairs.len();
    for (i, pair) in pairs.iter().enumerate() {
        match pair {
            Some(j) => used[*j] = true,
            None => {
                diff(format!("#{}", i + 1), "entry", label(&input[i]), "(missing)".into());
                // A lost entry loses what it said: each field it had counts as one disagreement in the
                // figures (the difference itself is the `entry` one above).
                for field in FIELDS {
                    if let Some((expected, nothing)) = field_values(field, out, &input[i], &Entry::default()) {
                        if expected != nothing {
                            tally.entry((field, out)).or_default().1 += 1;
                        }
                    }
                }
            }
        }
    }
    for (j, e) in output.iter().enumerate().filter(|(j, _)| !used[*j]) {
        diff(format!("+{}", j + 1), "entry", "(none)".into(), label(e));
    }
    for (i, j) in pairs.iter().enumerate().filter_map(|(i, j)| j.map(|j| (i, j))) {
        let (want, got) = (&input[i], &output[j]);
        for field in FIELDS {
            let Some((expected, actual)) = field_values(field, out, want, got) else { continue };
            let counts = tally.entry((field, out)).or_default();
            counts.1 += 1;
            if expected == actual {
                counts.0 += 1;
            } else {
                diff(format!("#{}", i + 1), field, expected, actual);
            }
        }
    }
    found
}

/// What a reader of output `out` should see for `field`, given the source's entry, and what it sees;
/// `None` when the output format cannot say it. The rules are the table in `tests/fixtures/README.md`.
fn field_values(field: &str, out: &str, want: &Entry, got: &Entry) -> Option<(String, String)> {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let list = |v: &[String]| format!("[{}]", v.join(", "));
    Some(match field {
        "title" => (text(&want.title), text(&got.title)),
        "link" => (text(&want.link), text(&got.link)),
        // RSS and JSON Feed have one date a reader sorts by: the published date, else the updated one.
        "published" if out == "atom" => (text(&want.published), text(&got.published)),
        "published" => (text(&want.published.clone().or_else(|| want.updated.clone())), text(&got.published)),
        // RSS has no item-level updated date; Atom requires one, the published date when nothing
        // else is known, and any date when the source gave none.
        "updated" if out == "rss" => return None,
        "updated" if out == "atom" => {
            let expected = want.updated.clone().or_else(|| want.published.clone())?;
            (expected, text(&got.updated))
        }
        "updated" => (text(&want.updated), text(&got.updated)),
        // Atom requires an author: the source's name stands in when the entry has none.
        "authors" if out == "atom" && want.authors.is_empty() => (list(&[SOURCE.to_owned()]), list(&got.authors)),
        "authors" => (list(&want.authors), list(&got.authors)),
        "categories" => (list(&want.categories), list(&got.categories)),
        "enclosures" => (enclosures(&want.enclosures), enclosures(&got.enclosures)),
        "body" => (text(&want.body), text(&got.body)),
        "body_links" => (list(&want.body_links), list(&got.body_links)),
        _ => return None,
    })
}

fn enclosures(list: &[Enclosure]) -> String {
    let each: Vec<String> = list
        .iter()
        .map(|e| {
            let mime = e.mime.as_deref().unwrap_or("?");
            let length = e.length.map_or("?".into(), |n| n.to_string());
            format!("{} ({mime}, {length})", e.url)
        })
        .collect();
    format!("[{}]", each.join(", "))
}

/// A way to tell which output entry shows an input entry.
type Key = dyn Fn(&Entry) -> Option<String>;

/// For each input entry, the output entry showing it: same link, else same title, else same body, else
/// same id, else the same first enclosure (by file name: a podcast episode may carry nothing else, and
/// its relative URL is resolved differently by each reader's view of the base), else the same picture.
fn match_entries(input: &[Entry], output: &[Entry]) -> Vec<Option<usize>> {
    let mut pairs = vec![None; input.len()];
    let mut used = vec![false; output.len()];
    let enclosure_file = |e: &Entry| -> Option<String> {
        let url = &e.enclosures.first()?.url;
        url.rsplit('/').next().map(str::to_owned)
    };
    let keys: [&Key; 6] =
        [&|e| e.link.clone(), &|e| e.title.clone(), &|e| e.body.clone(), &|e| e.id.clone(), &enclosure_file, &|e| {
            e.image.clone()
        }];
    for key in keys {
        for (i, want) in input.iter().enumerate() {
            if pairs[i].is_some() {
                continue;
            }
            let Some(k) = key(want).filter(|k| !k.is_empty()) else { continue };
            if let Some(j) = (0..output.len()).find(|&j| !used[j] && key(&output[j]).as_deref() == Some(k.as_str())) {
                pairs[i] = Some(j);
                used[j] = true;
            }
        }
    }
    pairs
}

/// How an entry is named in a message: its title, else its link, id or first enclosure.
fn label(e: &Entry) -> String {
    let enclosure = e.enclosures.first().map(|x| x.url.clone());
    e.title
        .clone()
        .or_else(|| e.link.clone())
        .or_else(|| e.id.clone())
        .or(enclosure)
        .unwrap_or_else(|| "(empty)".into())
}

/// The per-field agreement figures, one row per field, one column per output and a total.
fn figures(tally: &Tally) -> String {
    let mut out = String::from("\n| field | rss | atom | json | all |\n|---|---|---|---|---|\n");
    for field in std::iter::once("entry").chain(FIELDS) {
        let _ = write!(out, "| {field} |");
        let (mut agree, mut total) = (0, 0);
        for output in OUTPUTS {
            let (a, t) = tally.get(&(field, output)).copied().unwrap_or_default();
            agree += a;
            total += t;
            let _ = write!(out, " {} |", ratio(a, t));
        }
        let _ = writeln!(out, " {} |", ratio(agree, total));
    }
    out
}

fn ratio(agree: usize, total: usize) -> String {
    if total == 0 {
        return "—".into();
    }
    format!("{agree}/{total} ({:.0}%)", agree as f64 * 100.0 / total as f64)
}

/// The rows of the "Known differences" table: `| file | entry | output | field | reason |`, each of
/// the first four cells a comma-separated list (backticks ignored) or `*`.
fn known_differences(readme: &str) -> Vec<Known> {
    let mut rows = Vec::new();
    let mut inside = false;
    for (n, line) in readme.lines().enumerate() {
        if line.starts_with("## ") {
            inside = line.trim() == "## Known differences";
            continue;
        }
        let Some(row) = line.trim().strip_prefix('|').filter(|_| inside) else { continue };
        let cells: Vec<&str> = row.trim_end_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 5 || cells[0] == "file" || cells[0].starts_with("---") {
            continue;
        }
        let list = |c: &str| c.split(',').map(|v| v.trim().trim_matches('`').to_owned()).collect::<Vec<_>>();
        assert!(!cells[4].is_empty(), "tests/fixtures/README.md line {}: a known difference needs a reason", n + 1);
        rows.push(Known {
            line: n + 1,
            cells: [list(cells[0]), list(cells[1]), list(cells[2]), list(cells[3])],
            reason: cells[4].to_owned(),
        });
    }
    assert!(!rows.is_empty(), "no known-differences table found in tests/fixtures/README.md");
    rows
}

/// Every feed in `tests/fixtures/feeds/`, sorted (the goldens live in a subfolder).
fn fixture_feeds() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "xml" || e == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn readme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/README.md")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/feedparser_compare.py")
}

/// The interpreter to use, when it can import feedparser; else `None` after saying why (or a panic
/// when `FEEDMILL_REQUIRE_FEEDPARSER` asks for it).
fn python_with_feedparser() -> Option<String> {
    let python = env::var("FEEDMILL_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python).args(["-c", "import feedparser"]).output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or_default().to_owned(),
        Err(e) => format!("{python}: {e}"),
    };
    let required = env::var("FEEDMILL_REQUIRE_FEEDPARSER").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(!required, "FEEDMILL_REQUIRE_FEEDPARSER is set but feedparser cannot be imported: {why}");
    eprintln!(
        "SKIPPED differential::outputs_agree_with_feedparser_on_every_fixture: {why} \
         (python3 -m pip install feedparser==6.0.14)"
    );
    None
}

fn read_with_python(python: &str, documents: &serde_json::Value) -> Readout {
    let mut child = Command::new(python)
        .arg(script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(documents.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "feedparser_compare.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
