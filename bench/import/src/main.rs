//! import-bench: generates an .xlsx roster of N people (valid, unique ID numbers), imports it
//! into a fresh database through the code the API uses (`roster::import::parse`, then
//! `roster::import::store`: one transaction, one audit row), exports it back, and prints
//! rows/s, the parse and store times, and the peak RSS of the import.
//!
//! `cargo run --release -p dangjian-bench --bin import-bench -- [--rows N] [--pg URL]`

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use dangjian_rules::id_number::check_char;
use dangjian_rules::org::{BranchType, OrgCategory, OrgKind};
use dangjian_store::org::NewOrg;
use dangjian_store::{Actor, DbTarget, Keys, Scope, Store, SystemClock};
use dangjian_web::member::roster::{COLUMNS, export, import};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

#[derive(Parser, Debug)]
#[command(
    name = "import-bench",
    about = "Roster import benchmark (SQLite; PostgreSQL with --pg)"
)]
struct Args {
    /// People in the generated file.
    #[arg(long, default_value_t = 100_000)]
    rows: u32,
    /// Also run on PostgreSQL (a fresh schema, dropped afterwards), e.g. postgres://postgres@127.0.0.1/test
    #[arg(long)]
    pg: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
    /// The SQLite database file to create (default: a temporary one, removed afterwards).
    #[arg(long)]
    sqlite_path: Option<std::path::PathBuf>,
    /// Keep the PostgreSQL schema (to look at plans afterwards).
    #[arg(long)]
    keep_schema: bool,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
];
const UNITS: &[&str] = &[
    "市委办公室 科员",
    "市财政局 副科长",
    "第一中学 教师",
    "市人民医院 医生",
    "某科技公司 工程师",
];

/// The ID number of person `i`: unique for i < 36,500,000 (birth day × sequence).
fn id_number(i: u32) -> (String, time::Date) {
    let day = time::Date::from_calendar_date(1950, time::Month::January, 1)
        .unwrap_or(time::Date::MIN)
        .saturating_add(time::Duration::days(i64::from(i / 1000) % 18_000));
    let first17 = format!(
        "110105{:04}{:02}{:02}{:03}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        i % 1000
    );
    let c = char::from(check_char(first17.as_bytes()));
    (format!("{first17}{c}"), day)
}

fn generate(rows: u32) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory()?;
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, col) in COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, col.header)?;
    }
    for i in 0..rows {
        let r = i + 1;
        let (id, birth) = id_number(i);
        let male = (id.as_bytes()[16] - b'0') % 2 == 1;
        let name = format!(
            "{}{}",
            SURNAMES[i as usize % SURNAMES.len()],
            GIVEN[(i as usize / SURNAMES.len()) % GIVEN.len()]
        );
        let xd = |d: time::Date| ExcelDateTime::from_ymd(d.year() as u16, u8::from(d.month()), d.day());
        let joined = birth.saturating_add(time::Duration::days(365 * 25));
        let formal = i % 10 != 0;
        sheet.write_string(r, 0, &name)?;
        sheet.write_string(r, 1, if male { "男" } else { "女" })?;
        sheet.write_string(r, 2, "汉族")?;
        sheet.write_date_with_format(r, 3, xd(birth)?, &date)?;
        sheet.write_string(r, 4, &id)?;
        sheet.write_string(r, 5, format!("139{:08}", i))?;
        sheet.write_string(r, 6, "大学本科")?;
        sheet.write_string(r, 7, "在职")?;
        sheet.write_string(r, 8, if formal { "正式党员" } else { "预备党员" })?;
        // half the joining dates as Excel dates, half as text
        if i % 2 == 0 {
            sheet.write_date_with_format(r, 9, xd(joined)?, &date)?;
        } else {
            sheet.write_string(r, 9, joined.to_string())?;
        }
        if formal {
            sheet.write_date_with_format(
                r,
                10,
                xd(joined.saturating_add(time::Duration::days(365)))?,
                &date,
            )?;
        }
        sheet.write_string(r, 11, UNITS[i as usize % UNITS.len()])?;
    }
    Ok(book.save_to_buffer()?)
}

/// Peak resident set size so far (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the peak measured is the import's own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn run(label: &str, target: &DbTarget, file: &[u8], rows: u32) -> anyhow::Result<()> {
    let store = Store::open(target, Keys::generate(), Arc::new(SystemClock)).await?;
    let scope = Scope::system();
    let actor = Actor::system("bench");
    let org = |parent: Option<i64>, name: &str, kind: OrgKind| NewOrg {
        parent_id: parent,
        name: name.into(),
        kind,
        branch_type: (kind == OrgKind::Branch).then_some(BranchType::Regular),
        category: OrgCategory::Government,
        established_on: None,
        term_started_on: None,
        term_years: None,
        joint_units: None,
    };
    let root = store
        .orgs()
        .create_org(&scope, &actor, org(None, "基准测试党委", OrgKind::Committee))
        .await?;
    let branch = store
        .orgs()
        .create_org(
            &scope,
            &actor,
            org(Some(root.id), "基准测试党支部", OrgKind::Branch),
        )
        .await?;

    reset_peak_rss();
    let rss_before = peak_rss_mib();
    let t0 = Instant::now();
    let today = store.today();
    let bytes = file.to_vec();
    let parsed = tokio::task::spawn_blocking(move || import::parse(&bytes, branch.id, today))
        .await?
        .map_err(|e| anyhow::anyhow!("parse: {}", e.message()))?;
    anyhow::ensure!(
        parsed.errors.is_empty(),
        "the generated file has {} bad rows",
        parsed.errors.len()
    );
    let t_parse = t0.elapsed();
    let t1 = Instant::now();
    let n = import::store(&store, &scope, &actor, branch.id, parsed, false)
        .await
        .map_err(|e| anyhow::anyhow!("store: {}", e.message()))?;
    let t_store = t1.elapsed();
    let total = t0.elapsed();
    let peak = peak_rss_mib();
    anyhow::ensure!(n == rows as usize, "imported {n} of {rows}");

    let t2 = Instant::now();
    let f =
        export::filter(branch.id, true, None, None, None).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let (xlsx, exported, _shown) = export::export(&store, &scope, &f)
        .await
        .map_err(|e| anyhow::anyhow!("export: {}", e.message()))?;
    let t_export = t2.elapsed();
    let peak_export = peak_rss_mib();

    let secs = total.as_secs_f64();
    println!(
        "{label}: imported {n} rows in {secs:.2} s = {:.0} rows/s",
        f64::from(rows) / secs
    );
    println!(
        "{label}:   parse+check {:.2} s, store (duplicates, inserts, counts, audit; one transaction) {:.2} s",
        t_parse.as_secs_f64(),
        t_store.as_secs_f64()
    );
    println!(
        "{label}:   peak RSS during the import {peak:.0} MiB (process RSS before it {rss_before:.0} MiB)"
    );
    println!(
        "{label}: exported {exported} rows in {:.2} s ({:.1} MiB xlsx); peak RSS through the export {peak_export:.0} MiB",
        t_export.as_secs_f64(),
        xlsx.len() as f64 / 1_048_576.0
    );
    store.db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let t = Instant::now();
    let file = tokio::task::spawn_blocking(move || generate(args.rows)).await??;
    println!(
        "generated {} rows: {:.1} MiB xlsx in {:.2} s",
        args.rows,
        file.len() as f64 / 1_048_576.0,
        t.elapsed().as_secs_f64()
    );
    if !args.no_sqlite {
        let dir = tempfile::tempdir()?;
        let path = match &args.sqlite_path {
            Some(p) => {
                anyhow::ensure!(!p.exists(), "{} exists already", p.display());
                p.clone()
            }
            None => dir.path().join("bench.db"),
        };
        run("sqlite", &DbTarget::SqliteFile(path), &file, args.rows).await?;
    }
    if let Some(url) = &args.pg {
        let schema = format!("bench_{}", std::process::id());
        let admin = sqlx::PgPool::connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let target = DbTarget::Postgres(format!("{url}{sep}options=-c%20search_path%3D{schema}"));
        let result = run("postgres", &target, &file, args.rows).await;
        if args.keep_schema {
            println!("kept schema {schema}");
        } else {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await?;
        }
        admin.close().await;
        result?;
    }
    Ok(())
}
