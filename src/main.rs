use std::process::ExitCode;

fn main() -> ExitCode {
    campaign::ui::bug::install_panic_hook();
    let cli = campaign::parse_args();
    campaign::main_run(cli)
}
