//! `cairn health`: fetch `/health/report`, print it, exit by its verdict.

use anyhow::Context;
use cairn_server::health::{table, Report};

use crate::cli::HealthArgs;

pub fn run(args: HealthArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let url = format!("{}/health/report", args.server.trim_end_matches('/'));
    let fetched: anyhow::Result<Report> = runtime.block_on(async {
        let mut request = reqwest::Client::new().get(&url);
        if let Some(key) = &args.api_key {
            request = request.header("api-key", key);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            anyhow::bail!("{url} answered {}", response.status());
        }
        Ok(response.json::<Report>().await?)
    });
    let report = match fetched {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read the health report from {url}: {e:#}");
            std::process::exit(3);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    std::process::exit(report.status.code());
}
