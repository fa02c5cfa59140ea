//! Config text as a user might write it. `Config::parse` must return a config or diagnostics, never
//! panic, and rendering those diagnostics (which slice the text by their spans) must not panic either.
#![no_main]

use std::path::Path;

use feedmill::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Config::parse(&text, "feeds.toml", Path::new("/srv/feeds")) {
        Ok(config) => {
            for w in &config.warnings {
                let _ = w.render("feeds.toml", &text);
            }
        }
        Err(errors) => {
            assert!(!errors.diagnostics.is_empty(), "an error without a diagnostic for {text:?}");
            let _ = errors.to_string();
        }
    }
});
