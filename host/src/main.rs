//! `qun`: the Qun server (`qun serve`) and its admin commands.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
