//! `feedmill completions`: the shell completion script, generated from the clap definitions in `cli`
//! so it never falls behind the commands.

use clap::CommandFactory as _;

use feedmill::report::EXIT_OK;

use crate::cli::{Cli, CompletionsArgs};

pub fn execute(args: CompletionsArgs) -> anyhow::Result<u8> {
    clap_complete::generate(args.shell, &mut Cli::command(), "feedmill", &mut std::io::stdout().lock());
    Ok(EXIT_OK)
}
