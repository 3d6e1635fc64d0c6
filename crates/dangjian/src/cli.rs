//! The command line: `serve`, `migrate`, `demo`, `backup`, `restore`, `verify-audit`,
//! `create-admin`, `keys`, `import`, `export`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use dangjian_store::audit::Verdict;
use dangjian_store::{Actor, DbTarget, Keys, Role, Scope, Settings, Store};
use dangjian_web::{AppState, WebConfig};

use crate::config::{DataArgs, SettingsArgs};
use crate::demo;

#[derive(Parser, Debug)]
#[command(
    name = "dangjian",
    version,
    about = "党建工作平台 — the platform for Party grassroots organizations"
)]
pub struct Cli {
    /// More log output (repeat for more). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (pages and JSON API).
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on.
        #[arg(long, env = "DANGJIAN_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Create demo data if the database is new, and list the demo logins.
        #[arg(long)]
        demo: bool,
        /// Mark session cookies Secure (when served over HTTPS, e.g. behind a TLS proxy).
        #[arg(long, env = "DANGJIAN_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Proxies whose X-Forwarded-For names the client (for the login limits): addresses or
        /// CIDR blocks, comma-separated, e.g. 127.0.0.1,10.0.0.0/8. Without it the peer address
        /// is the client, whatever the headers say.
        #[arg(
            long,
            env = "DANGJIAN_TRUSTED_PROXY",
            value_delimiter = ',',
            value_name = "ADDR[,ADDR…]"
        )]
        trusted_proxy: Vec<String>,
        /// Days a bearer token made with POST /api/v1/tokens lives (device tokens live until
        /// revoked).
        #[arg(long, env = "DANGJIAN_TOKEN_DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=3650))]
        token_days: i64,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Demo only: run as if today were this date (YYYY-MM-DD, from 10:00 local time) or
        /// this RFC 3339 instant; the clock runs on from there. Default: the real date.
        #[arg(long, env = "DANGJIAN_TODAY", requires = "demo")]
        today: Option<String>,
    },
    /// Create or update the database schema, then exit.
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Put demo data into an empty database.
    Demo {
        #[command(flatten)]
        data: DataArgs,
        /// Make the demo as of this date (YYYY-MM-DD) or RFC 3339 instant instead of now.
        #[arg(long, env = "DANGJIAN_TODAY")]
        today: Option<String>,
    },
    /// Copy the SQLite database to FILE while it may be in use (PostgreSQL: use pg_dump).
    Backup {
        #[command(flatten)]
        data: DataArgs,
        /// The backup file to create (must not exist).
        file: PathBuf,
    },
    /// Replace the SQLite database with a backup (stop the server first).
    Restore {
        #[command(flatten)]
        data: DataArgs,
        /// The backup file made by `dangjian backup`.
        file: PathBuf,
    },
    /// Check every chain of the audit trail (one per top-level org); report the chain and its
    /// first altered or missing record, and print every chain's head.
    VerifyAudit {
        #[command(flatten)]
        data: DataArgs,
        /// A head printed by an earlier run (`CHAIN:SEQ:LINK`; repeat for every chain recorded),
        /// or a row's `SEQ:LINK` as printed before the chains per org: also check that record
        /// is still there unchanged, so cutting records off the end cannot go unnoticed.
        #[arg(long)]
        head: Vec<String>,
    },
    /// Create a system administrator login over the whole tree.
    CreateAdmin {
        #[command(flatten)]
        data: DataArgs,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Password (else read from env DANGJIAN_ADMIN_PASSWORD).
        #[arg(long, env = "DANGJIAN_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// The organization the grant covers (default: every top-level organization).
        #[arg(long)]
        org: Option<i64>,
    },
    /// Show the key fingerprint, or generate a new key file.
    Keys {
        #[command(flatten)]
        data: DataArgs,
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Import an Excel roster (.xlsx, the import template's columns) into a branch or group:
    /// all or nothing; every bad row is listed (row, column, reason).
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The branch or group the people join.
        #[arg(long)]
        org: i64,
        /// Check the file only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// The .xlsx file.
        file: PathBuf,
    },
    /// Export the roster of an organization (formal and probationary members) as .xlsx.
    Export {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        org: i64,
        /// Include the organizations below it.
        #[arg(long)]
        subtree: bool,
        /// The .xlsx file to write (readable by its owner only).
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Print the fingerprint of the keys in use (compare across nodes).
    Show,
    /// Write a new key file (refuses to overwrite one).
    Generate,
    /// Re-encrypt the database under the keys in NEW_KEYS (made with `keys generate --keys NEW_KEYS`).
    /// Stop every node first; afterwards replace the key file on every node with NEW_KEYS.
    Rotate {
        /// The new key file.
        new_keys: PathBuf,
    },
}

pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info,sqlx=warn,tower_http=warn",
        1 => "debug,sqlx=warn,hyper=info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            data,
            bind,
            demo,
            secure_cookies,
            trusted_proxy,
            token_days,
            settings,
            today,
        } => {
            let trusted_proxies = dangjian_web::proxy::TrustedProxies::parse(&trusted_proxy)
                .map_err(|e| anyhow::anyhow!("--trusted-proxy: {e}"))?;
            let store = data.open_on(today.as_deref(), settings.settings()).await?;
            if demo {
                ensure_demo(&store).await?;
            }
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("binding {bind}"))?;
            let cfg = WebConfig {
                cookie_secure: secure_cookies,
                trusted_proxies,
                token_ttl: time::Duration::days(token_days),
                demo,
                ..WebConfig::default()
            };
            serve(store, listener, cfg, shutdown_signal()).await
        }
        Command::Migrate { data } => {
            data.open().await?;
            println!("schema is up to date");
            Ok(())
        }
        Command::Demo { data, today } => {
            let store = data.open_on(today.as_deref(), Settings::default()).await?;
            if !store.is_empty().await? {
                bail!("the database has data already; demo data goes only into a new database");
            }
            ensure_demo(&store).await
        }
        Command::Backup { data, file } => {
            let store = data.open().await?;
            dangjian_store::backup::backup_sqlite(&store.db, &file).await?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Restore { data, file } => restore(&data, &file).await,
        Command::VerifyAudit { data, head } => {
            let store = data.open().await?;
            for recorded in &head {
                check_recorded_head(&store, recorded).await?;
            }
            match dangjian_store::audit::verify(&store.db, &store.keys).await? {
                Verdict::Intact { rows } => {
                    let heads = dangjian_store::audit::heads(&store.db).await?;
                    println!("audit trail intact: {rows} records (chains: {})", heads.len());
                    println!(
                        "heads, one per chain (write them down outside the database; check later with one --head each)"
                    );
                    for h in heads {
                        println!("head of chain {}: {h}", h.chain);
                    }
                    Ok(())
                }
                Verdict::Altered { chain, seq } => {
                    bail!("audit record {seq} was altered (chain {chain}; its hash does not match)")
                }
                Verdict::Missing { chain, chain_seq } => {
                    bail!(
                        "audit chain {chain}: its record number {chain_seq} is missing (deleted or cut off)"
                    )
                }
            }
        }
        Command::CreateAdmin {
            data,
            username,
            password,
            org,
        } => {
            let store = data.open().await?;
            dangjian_web::session::api::check_new_password(&password).map_err(|_| {
                anyhow::anyhow!("the password needs at least 8 characters with letters and digits")
            })?;
            let orgs = match org {
                Some(id) => vec![id],
                None => store
                    .orgs()
                    .scope_roots(&Scope::system())
                    .await?
                    .into_iter()
                    .map(|o| o.id)
                    .collect(),
            };
            if orgs.is_empty() {
                bail!("there is no organization yet: create the top one first (or start with --demo)");
            }
            let hash = dangjian_web::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let grants: Vec<(Role, i64)> = orgs.iter().map(|o| (Role::Admin, *o)).collect();
            store
                .accounts()
                .create_user(&Actor::system("cli"), &username, &hash, None, false, &grants)
                .await?;
            println!("created administrator {username}");
            Ok(())
        }
        Command::Import {
            data,
            org,
            dry_run,
            file,
        } => import(&data, org, dry_run, &file).await,
        Command::Export {
            data,
            org,
            subtree,
            file,
        } => export(&data, org, subtree, &file).await,
        Command::Keys { data, action } => match action {
            KeysAction::Show => {
                let keys = data.load_keys(false).await?;
                println!("key fingerprint: {}", keys.fingerprint());
                Ok(())
            }
            KeysAction::Rotate { new_keys } => {
                let store = data.open().await?;
                let new = Keys::read_file(&new_keys)?;
                if new.fingerprint() == store.keys.fingerprint() {
                    bail!("{} holds the keys in use already", new_keys.display());
                }
                let n = store.rotate_keys(&Actor::system("cli"), &new).await?;
                store.db.close().await;
                println!(
                    "re-encrypted {n} people under the new keys (fingerprint {}). Now replace {} with {} on every node.",
                    new.fingerprint(),
                    data.key_path().display(),
                    new_keys.display()
                );
                Ok(())
            }
            KeysAction::Generate => {
                let path = data.key_path();
                crate::config::ensure_dir(path.parent().unwrap_or(std::path::Path::new(".")))?;
                let keys = Keys::generate();
                keys.write_new_file(&path)?;
                println!(
                    "wrote {} (fingerprint {}); back it up and give every node the same file",
                    path.display(),
                    keys.fingerprint()
                );
                Ok(())
            }
        },
    }
}

/// `dangjian import`: the API's import path, acting as the system.
async fn import(data: &DataArgs, org: i64, dry_run: bool, file: &std::path::Path) -> anyhow::Result<()> {
    use dangjian_web::error::AppError;
    use dangjian_web::i18n::Locale;
    let store = data.open().await?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let scope = Scope::system();
    let result = async {
        dangjian_web::member::roster::import::target_org(&store, &scope, org).await?;
        dangjian_web::member::roster::import::run(
            &store,
            &scope,
            &Actor::system("cli"),
            org,
            bytes.into(),
            dry_run,
        )
        .await
    }
    .await;
    store.db.close().await;
    match result {
        Ok(n) if dry_run => {
            println!("{n} rows are valid (dry run: nothing was stored)");
            Ok(())
        }
        Ok(n) => {
            println!("imported {n} people into org {org}");
            Ok(())
        }
        Err(AppError::Rows(rows)) => {
            use std::io::Write;
            // a closed pipe (`| head`) ends the listing, not the program
            let mut out = std::io::stdout().lock();
            for r in &rows {
                let (column, message) = dangjian_web::member::roster::row_message(Locale::ZhCn, r);
                if writeln!(out, "row {}\t{column}\t{message}", r.row).is_err() {
                    break;
                }
            }
            drop(out);
            let e = AppError::Rows(rows);
            bail!("{}", e.message())
        }
        Err(AppError::NotFound) => bail!("organization {org} does not exist"),
        Err(AppError::Internal(e)) => Err(e),
        Err(e) => bail!("{} ({})", e.message(), e.code()),
    }
}

/// `dangjian export`: the API's export path, acting as the system.
async fn export(data: &DataArgs, org: i64, subtree: bool, file: &std::path::Path) -> anyhow::Result<()> {
    use dangjian_web::member::roster::export;
    let store = data.open().await?;
    let scope = Scope::system();
    let result = async {
        let f = export::filter(org, subtree, None, None, None)?;
        store.orgs().org(&scope, org).await?;
        let (bytes, n, shown) = export::export(&store, &scope, &f).await?;
        // an operator's full export is recorded like anyone's
        store
            .members()
            .audit_full_reads(
                &scope,
                &dangjian_store::Actor::system("cli_export"),
                "cli_export",
                shown,
                serde_json::json!({"org": org, "subtree": subtree, "rows": n, "file": file.display().to_string()}),
            )
            .await?;
        Ok::<_, dangjian_web::error::AppError>((bytes, n))
    }
    .await;
    store.db.close().await;
    let (bytes, n) = match result {
        Ok(x) => x,
        Err(dangjian_web::error::AppError::NotFound) => bail!("organization {org} does not exist"),
        Err(dangjian_web::error::AppError::Internal(e)) => return Err(e),
        Err(e) => bail!("{}", e.message()),
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // personal data: readable by the owner only
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut out = opts
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    out.write_all(&bytes)?;
    out.sync_all()?;
    println!("exported {n} people to {}", file.display());
    Ok(())
}

/// Demo data into a new database; the logins printed either way.
pub async fn ensure_demo(store: &Store) -> anyhow::Result<()> {
    if store.is_empty().await? {
        let hash = dangjian_web::auth::hash_password(demo::load::DEMO_PASSWORD)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let tree = demo::load::load(store, &hash).await?;
        tracing::info!(
            orgs = tree.orgs.len(),
            people = tree.people.len(),
            "created demo data"
        );
    }
    println!("演示账号 demo logins (password {}):", demo::load::DEMO_PASSWORD);
    for (user, what) in demo::load::DEMO_LOGINS {
        println!("  {user:<10} {what}");
    }
    Ok(())
}

pub async fn serve(
    store: Store,
    listener: tokio::net::TcpListener,
    cfg: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(engine = ?store.db.engine(), "dangjian listening on http://{addr}");
    let db = store.db.clone();
    let state = AppState::new(store, cfg)?;
    dangjian_web::serve(state, listener, shutdown).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn restore(data: &DataArgs, file: &std::path::Path) -> anyhow::Result<()> {
    let DbTarget::SqliteFile(db_path) = data.target()? else {
        bail!("restore is for the embedded SQLite database; for PostgreSQL use pg_restore / psql");
    };
    if !file.exists() {
        bail!("{} does not exist", file.display());
    }
    // check the backup opens with our keys before replacing anything
    let keys = data.load_keys(false).await?;
    let probe = Store::open(
        &DbTarget::SqliteFile(file.to_path_buf()),
        keys,
        Arc::new(dangjian_store::SystemClock),
    )
    .await?;
    probe.db.close().await;
    if db_path.exists() {
        // the current database and its WAL move aside together, so nothing committed is lost
        let old = PathBuf::from(format!("{}.before-restore", db_path.display()));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db_path.display()));
            if from.exists() {
                let to = PathBuf::from(format!("{}{suffix}", old.display()));
                std::fs::rename(&from, &to).with_context(|| format!("moving {} aside", from.display()))?;
            }
        }
        println!("the previous database was kept as {}", old.display());
    }
    std::fs::copy(file, &db_path).context("copying the backup into place")?;
    println!("restored {} from {}", db_path.display(), file.display());
    Ok(())
}

/// `--head`: `CHAIN:SEQ:LINK` (a chain's head) or the older `SEQ:LINK` (one row's link).
async fn check_recorded_head(store: &dangjian_store::Store, recorded: &str) -> anyhow::Result<()> {
    if recorded.matches(':').count() == 1 {
        let (seq, link) = recorded
            .split_once(':')
            .and_then(|(s, l)| Some((s.trim().parse::<i64>().ok()?, l.trim().to_owned())))
            .context("--head: expected CHAIN:SEQ:LINK as printed by verify-audit")?;
        if !dangjian_store::audit::has_link(&store.db, seq, &link).await? {
            bail!("audit record {seq} is not the one recorded: the trail was cut or rewritten since");
        }
        return Ok(());
    }
    let head: dangjian_store::audit::Head = recorded
        .parse()
        .map_err(|e| anyhow::anyhow!("--head {recorded}: {e}, as printed by verify-audit"))?;
    if !dangjian_store::audit::has_head(&store.db, &head).await? {
        bail!(
            "audit chain {}: its record {} is not the one recorded: the chain was cut or rewritten since",
            head.chain,
            head.chain_seq
        );
    }
    Ok(())
}
