use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    zhicheng::cli::run(zhicheng::config::Cli::parse()).await
}
