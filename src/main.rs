//! zedit entry: parse the command line; open the studio when no command is given.

fn main() -> std::process::ExitCode {
    zedit::threads::fix_thread_count();
    zedit::cli::main()
}
